// An OTLP/HTTP receiver for the tests: decodes every request with the
// official OTLP definitions (tests/fixtures/opentelemetry-proto, loaded by
// protobufjs), never with the exporter's own encoder. Protobuf bodies are
// decoded by protobufjs; JSON bodies are checked field by field against the
// same definitions (unknown fields, wrong types, non-integer enums and
// non-hex ids fail) and brought to the same shape, so the two protocols can
// be compared.
// An npm package for the tests only: never in the module's import graph.
// deno-lint-ignore no-import-prefix
import protobuf from "npm:protobufjs@8.8.1";
import { gunzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";

const PROTOS = fileURLToPath(
  new URL("./fixtures/opentelemetry-proto/", import.meta.url),
);

const root = new protobuf.Root();
root.resolvePath = (_origin: string, target: string) => PROTOS + target;
root.loadSync([
  "opentelemetry/proto/collector/logs/v1/logs_service.proto",
  "opentelemetry/proto/collector/trace/v1/trace_service.proto",
]);
root.resolveAll();

/** The official message types a receiver needs. */
export const TYPES = {
  logs: root.lookupType(
    "opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest",
  ),
  traces: root.lookupType(
    "opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest",
  ),
  logsResponse: root.lookupType(
    "opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse",
  ),
  tracesResponse: root.lookupType(
    "opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse",
  ),
};

/** A decoded request, in the protobuf JSON shape with ids as hex. */
// deno-lint-ignore no-explicit-any
export type Decoded = any;

const HEX_BYTES = new Set(["traceId", "spanId", "parentSpanId"]);

function base64ToHex(b64: string): string {
  return [...atob(b64)].map((c) =>
    c.charCodeAt(0).toString(16).padStart(2, "0")
  )
    .join("");
}

function hexIds(value: Decoded): Decoded {
  if (Array.isArray(value)) return value.map(hexIds);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = (HEX_BYTES.has(k) || k === "bytesValue") && typeof v === "string"
      ? base64ToHex(v)
      : hexIds(v);
  }
  return out;
}

/** Decodes a protobuf request with protobufjs and the official types. */
export function decodeProtobuf(
  signal: "logs" | "traces",
  bytes: Uint8Array,
): Decoded {
  const type = TYPES[signal];
  return hexIds(type.toObject(type.decode(bytes), {
    longs: String,
    enums: Number,
    bytes: String,
  }));
}

const LONGS = new Set(["int64", "uint64", "fixed64", "sint64", "sfixed64"]);
const INTS = new Set(["int32", "uint32", "fixed32", "sint32", "sfixed32"]);

function jsonField(field: protobuf.Field, v: unknown, path: string): unknown {
  const fail = (why: string): never => {
    throw new Error(`OTLP/JSON ${path}: ${why} (got ${JSON.stringify(v)})`);
  };
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return jsonMessage(resolved, v, path);
  if (resolved instanceof protobuf.Enum) {
    if (!Number.isInteger(v)) fail("enums must be integers in OTLP/JSON");
    return v;
  }
  if (field.type === "string") {
    if (typeof v !== "string") fail("expected a string");
    return v;
  }
  if (field.type === "bool") {
    if (typeof v !== "boolean") fail("expected a boolean");
    return v;
  }
  if (field.type === "double" || field.type === "float") {
    if (typeof v !== "number") fail("expected a number");
    return v;
  }
  if (INTS.has(field.type)) {
    if (!Number.isInteger(v)) fail("expected an integer");
    return v;
  }
  if (LONGS.has(field.type)) {
    if (typeof v === "string" && /^-?\d+$/.test(v)) return v;
    if (Number.isSafeInteger(v)) return String(v);
    return fail("expected a 64-bit integer as a decimal string");
  }
  if (field.type === "bytes") {
    if (typeof v !== "string") fail("expected a string");
    if (HEX_BYTES.has(field.name)) {
      // OTLP/JSON: trace and span ids are hex, not base64.
      if (!/^([0-9a-f]{2})*$/.test(v as string)) fail("expected lowercase hex");
      return v;
    }
    return base64ToHex(v as string);
  }
  return fail(`unexpected field type ${field.type}`);
}

function jsonMessage(type: protobuf.Type, v: unknown, path: string): Decoded {
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new Error(`OTLP/JSON ${path}: expected an object of ${type.name}`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(v as Record<string, unknown>)) {
    const field = type.fields[key];
    if (!field) {
      throw new Error(
        `OTLP/JSON ${path}.${key}: ${type.fullName} has no field "${key}"`,
      );
    }
    if (field.repeated) {
      if (!Array.isArray(value)) {
        throw new Error(`OTLP/JSON ${path}.${key}: expected an array`);
      }
      if (value.length === 0) continue; // as protobuf: absent
      out[key] = value.map((item, i) =>
        jsonField(field, item, `${path}.${key}[${i}]`)
      );
    } else {
      out[key] = jsonField(field, value, `${path}.${key}`);
    }
  }
  return out;
}

/** Checks an OTLP/JSON request against the official types. */
export function decodeJson(signal: "logs" | "traces", text: string): Decoded {
  return jsonMessage(TYPES[signal], JSON.parse(text), signal);
}

/** One request the receiver got. */
export interface OtlpRequest {
  signal: "logs" | "traces";
  protocol: "protobuf" | "json";
  gzip: boolean;
  headers: Headers;
  body: Decoded;
  /** When it arrived (performance.now()). */
  at: number;
  /** The status answered; undefined while held or if never answered. */
  status?: number;
}

/** What `respond` decides for a request. */
export type Responder = (
  request: OtlpRequest,
  index: number,
) => Response | undefined | Promise<Response | undefined>;

/** A running receiver. */
export interface Receiver {
  port: number;
  url: string;
  requests: OtlpRequest[];
  /** The requests answered with 2xx. */
  acknowledged(): OtlpRequest[];
  close(): Promise<void>;
}

/**
 * Starts a receiver on 127.0.0.1 (a free port, or `port`). `respond` may
 * answer a request otherwise than 200 (or hold it: return a promise).
 */
export function otlpReceiver(
  options: { respond?: Responder; port?: number } = {},
): Receiver {
  const requests: OtlpRequest[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: options.port ?? 0, onListen() {} },
    async (req) => {
      const at = performance.now();
      const path = new URL(req.url).pathname;
      const signal = path === "/v1/logs"
        ? "logs"
        : path === "/v1/traces"
        ? "traces"
        : undefined;
      if (!signal || req.method !== "POST") {
        return new Response("not found", { status: 404 });
      }
      let bytes = new Uint8Array(await req.arrayBuffer());
      const gzip = req.headers.get("content-encoding") === "gzip";
      if (gzip) bytes = new Uint8Array(gunzipSync(bytes));
      const json = req.headers.get("content-type") === "application/json";
      const request: OtlpRequest = {
        signal,
        protocol: json ? "json" : "protobuf",
        gzip,
        headers: req.headers,
        at,
        body: json
          ? decodeJson(signal, new TextDecoder().decode(bytes))
          : decodeProtobuf(signal, bytes),
      };
      const index = requests.push(request) - 1;
      const response = await options.respond?.(request, index) ??
        new Response(json ? "{}" : new Uint8Array(0), {
          headers: {
            "content-type": json
              ? "application/json"
              : "application/x-protobuf",
          },
        });
      request.status = response.status;
      return response;
    },
  );
  const port = server.addr.port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    acknowledged: () =>
      requests.filter((r) =>
        r.status !== undefined && r.status >= 200 && r.status < 300
      ),
    close: () => server.shutdown(),
  };
}

/** An attribute list as a plain object (values unwrapped). */
export function attrs(list: Decoded[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list ?? []) out[kv.key] = anyValue(kv.value);
  return out;
}

function anyValue(v: Decoded): unknown {
  if (v === undefined) return undefined;
  if ("stringValue" in v) return v.stringValue;
  if ("boolValue" in v) return v.boolValue;
  if ("intValue" in v) return Number(v.intValue);
  if ("doubleValue" in v) return v.doubleValue;
  if ("arrayValue" in v) return (v.arrayValue.values ?? []).map(anyValue);
  if ("kvlistValue" in v) return attrs(v.kvlistValue.values);
  return undefined;
}

/** A log record with its resource, attributes unwrapped. */
export interface FlatLog {
  resource: Record<string, unknown>;
  record: Decoded;
  attributes: Record<string, unknown>;
}

/** A span with its resource, attributes unwrapped. */
export interface FlatSpan {
  resource: Record<string, unknown>;
  span: Decoded;
  attributes: Record<string, unknown>;
}

/** Every log record of the requests, in order. */
export function flatLogs(requests: OtlpRequest[]): FlatLog[] {
  const out: FlatLog[] = [];
  for (const r of requests) {
    if (r.signal !== "logs") continue;
    for (const rl of r.body.resourceLogs ?? []) {
      const resource = attrs(rl.resource?.attributes);
      for (const sl of rl.scopeLogs ?? []) {
        for (const record of sl.logRecords ?? []) {
          out.push({ resource, record, attributes: attrs(record.attributes) });
        }
      }
    }
  }
  return out;
}

/** Every span of the requests, in order. */
export function flatSpans(requests: OtlpRequest[]): FlatSpan[] {
  const out: FlatSpan[] = [];
  for (const r of requests) {
    if (r.signal !== "traces") continue;
    for (const rs of r.body.resourceSpans ?? []) {
      const resource = attrs(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        for (const span of ss.spans ?? []) {
          out.push({ resource, span, attributes: attrs(span.attributes) });
        }
      }
    }
  }
  return out;
}
