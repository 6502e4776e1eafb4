// lib/_export/config.ts: the OTEL_EXPORTER_OTLP_* variables as the
// OpenTelemetry specification reads them, and the flags on top.
import assert from "node:assert/strict";
import { resolveConfig } from "../lib/_export/config.ts";

function resolve(
  env: Record<string, string>,
  flags: { endpoint?: string; protocol?: string; headers?: string[] } = {},
) {
  return resolveConfig({ headers: [], ...flags }, {
    env: (name) => env[name],
    hostname: () => "builder-7",
  });
}

Deno.test("resolveConfig: defaults are localhost:4318, protobuf, gzip, 10 s", () => {
  const config = resolve({});
  assert.equal(config.logs.url, "http://localhost:4318/v1/logs");
  assert.equal(config.traces.url, "http://localhost:4318/v1/traces");
  assert.equal(config.logs.protocol, "http/protobuf");
  assert.equal(config.logs.gzip, true);
  assert.equal(config.logs.timeoutMs, 10_000);
  assert.deepEqual(config.resource, {
    "service.name": "zig",
    "host.name": "builder-7",
  });
});

Deno.test("resolveConfig: a base endpoint gets the signal paths; per-signal ones are used as they are", () => {
  const config = resolve({
    OTEL_EXPORTER_OTLP_ENDPOINT: "https://otel.example:4318/prefix/",
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://tempo.example/otlp/traces",
  });
  assert.equal(config.logs.url, "https://otel.example:4318/prefix/v1/logs");
  assert.equal(config.traces.url, "https://tempo.example/otlp/traces");
});

Deno.test("resolveConfig: per-signal variables win over general ones, flags over both", () => {
  const env = {
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: "http/protobuf",
    OTEL_EXPORTER_OTLP_HEADERS: "a=1,b=2",
    OTEL_EXPORTER_OTLP_TRACES_HEADERS: "b=3",
    OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: "http://loki:3100/otlp/v1/logs",
    OTEL_EXPORTER_OTLP_TIMEOUT: "2500",
    OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: "none",
  };
  const config = resolve(env);
  assert.equal(config.logs.protocol, "http/protobuf");
  assert.equal(config.traces.protocol, "http/json");
  assert.deepEqual(config.logs.headers, { a: "1", b: "2" });
  assert.deepEqual(config.traces.headers, { a: "1", b: "3" });
  assert.equal(config.traces.gzip, false);
  assert.equal(config.logs.gzip, true);
  assert.equal(config.logs.timeoutMs, 2500);
  const flagged = resolve(env, {
    endpoint: "http://c:4318",
    protocol: "http/json",
    headers: ["b=9"],
  });
  assert.equal(flagged.logs.url, "http://c:4318/v1/logs");
  assert.equal(flagged.logs.protocol, "http/json");
  assert.deepEqual(flagged.traces.headers, { a: "1", b: "9" });
});

Deno.test("resolveConfig: OTEL_SERVICE_NAME wins over service.name in OTEL_RESOURCE_ATTRIBUTES", () => {
  assert.equal(
    resolve({ OTEL_RESOURCE_ATTRIBUTES: "service.name=a,k=v%2Cw" })
      .resource["service.name"],
    "a",
  );
  const config = resolve({
    OTEL_RESOURCE_ATTRIBUTES: "service.name=a,k=v%2Cw",
    OTEL_SERVICE_NAME: "b",
  });
  assert.equal(config.resource["service.name"], "b");
  assert.equal(config.resource["k"], "v,w", "values are percent-decoded");
});

Deno.test("resolveConfig: bad values are named", () => {
  assert.throws(
    () => resolve({ OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }),
    /Invalid OTEL_EXPORTER_OTLP_PROTOCOL "grpc"/,
  );
  assert.throws(
    () => resolve({ OTEL_EXPORTER_OTLP_COMPRESSION: "zstd" }),
    /Invalid OTEL_EXPORTER_OTLP_COMPRESSION "zstd": expected gzip or none/,
  );
  assert.throws(
    () => resolve({ OTEL_EXPORTER_OTLP_TIMEOUT: "soon" }),
    /Invalid OTEL_EXPORTER_OTLP_TIMEOUT "soon"/,
  );
  assert.throws(
    () => resolve({ OTEL_EXPORTER_OTLP_HEADERS: "nokey" }),
    /Invalid OTEL_EXPORTER_OTLP_HEADERS entry "nokey": expected key=value/,
  );
});
