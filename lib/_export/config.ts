// Where and how to export: the standard OTEL_EXPORTER_OTLP_* variables, as
// every OpenTelemetry SDK reads them, with the command's flags on top.
import { UsageError } from "../_cli/common.ts";
import type { Attributes } from "./otlp.ts";

/** The wire protocols supported. */
export type Protocol = "http/protobuf" | "http/json";

/** One signal's destination. */
export interface SignalTarget {
  url: string;
  protocol: Protocol;
  headers: Record<string, string>;
  gzip: boolean;
  timeoutMs: number;
}

/** The resolved configuration. */
export interface ExportConfig {
  logs: SignalTarget;
  traces: SignalTarget;
  /** Resource attributes every record carries (before zig.project). */
  resource: Attributes;
}

/** The command-line side of the configuration. */
export interface ConfigFlags {
  endpoint?: string;
  protocol?: string;
  headers: string[];
}

/** Reads an environment variable; `undefined` when unset or empty. */
export type EnvReader = (name: string) => string | undefined;

const DEFAULT_ENDPOINT = "http://localhost:4318";

function checkUrl(value: string, what: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== "http:" && url?.protocol !== "https:") {
    throw new UsageError(
      `Invalid ${what} "${value}": expected an http:// or https:// URL like http://collector:4318 (OTLP/gRPC is not supported)`,
    );
  }
  return url;
}

/** `<base>/v1/logs`, as the spec joins a base endpoint and a signal path. */
function signalUrl(base: string, path: string): string {
  return base.replace(/\/+$/, "") + path;
}

function parseProtocol(value: string, what: string): Protocol {
  if (value === "http/protobuf" || value === "http/json") return value;
  throw new UsageError(
    `Invalid ${what} "${value}": expected http/protobuf or http/json${
      value === "grpc" ? " (OTLP/gRPC is not supported; use port 4318)" : ""
    }`,
  );
}

/** Parses `k=v,k2=v2` (values percent-encoded, as the spec says). */
function parseHeaderList(value: string, what: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const part of value.split(",")) {
    if (part.trim() === "") continue;
    const eq = part.indexOf("=");
    if (eq <= 0) {
      throw new UsageError(
        `Invalid ${what} entry "${part.trim()}": expected key=value`,
      );
    }
    const key = part.slice(0, eq).trim();
    let v = part.slice(eq + 1).trim();
    try {
      v = decodeURIComponent(v);
    } catch {
      // Not percent-encoded: taken as it is.
    }
    headers[key] = v;
  }
  return headers;
}

function parseResourceAttributes(value: string): Attributes {
  const attrs: Attributes = {};
  for (
    const [k, v] of Object.entries(
      parseHeaderList(value, "OTEL_RESOURCE_ATTRIBUTES"),
    )
  ) attrs[k] = v;
  return attrs;
}

/** Resolves the configuration from the environment and the flags. */
export function resolveConfig(
  flags: ConfigFlags,
  options: { env: EnvReader; hostname: () => string | undefined },
): ExportConfig {
  const env = options.env;
  if (flags.endpoint !== undefined) checkUrl(flags.endpoint, "--endpoint");
  const flagProtocol = flags.protocol === undefined
    ? undefined
    : parseProtocol(flags.protocol, "--protocol");
  const flagHeaders: Record<string, string> = {};
  for (const h of flags.headers) {
    const eq = h.indexOf("=");
    if (eq <= 0) {
      throw new UsageError(`Invalid --header "${h}": expected K=V`);
    }
    flagHeaders[h.slice(0, eq).trim()] = h.slice(eq + 1);
  }
  const target = (signal: "LOGS" | "TRACES", path: string): SignalTarget => {
    const specific = env(`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`);
    let url: string;
    if (flags.endpoint !== undefined) url = signalUrl(flags.endpoint, path);
    else if (specific !== undefined) {
      checkUrl(specific, `OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`);
      url = specific; // a full URL, used as it is
    } else {
      const base = env("OTEL_EXPORTER_OTLP_ENDPOINT") ?? DEFAULT_ENDPOINT;
      checkUrl(base, "OTEL_EXPORTER_OTLP_ENDPOINT");
      url = signalUrl(base, path);
    }
    const pick = (name: string) =>
      env(`OTEL_EXPORTER_OTLP_${signal}_${name}`) ??
        env(`OTEL_EXPORTER_OTLP_${name}`);
    const protocolVar = env(`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`) !==
        undefined
      ? `OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`
      : "OTEL_EXPORTER_OTLP_PROTOCOL";
    const protocolEnv = pick("PROTOCOL");
    const protocol = flagProtocol ??
      (protocolEnv === undefined
        ? "http/protobuf"
        : parseProtocol(protocolEnv, protocolVar));
    const compression = pick("COMPRESSION") ?? "gzip";
    if (compression !== "gzip" && compression !== "none") {
      throw new UsageError(
        `Invalid OTEL_EXPORTER_OTLP_COMPRESSION "${compression}": expected gzip or none`,
      );
    }
    const timeoutText = pick("TIMEOUT");
    const timeoutMs = timeoutText === undefined ? 10_000 : Number(timeoutText);
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new UsageError(
        `Invalid OTEL_EXPORTER_OTLP_TIMEOUT "${timeoutText}": expected milliseconds, like 10000`,
      );
    }
    const headers = {
      ...parseHeaderList(
        env("OTEL_EXPORTER_OTLP_HEADERS") ?? "",
        "OTEL_EXPORTER_OTLP_HEADERS",
      ),
      ...parseHeaderList(
        env(`OTEL_EXPORTER_OTLP_${signal}_HEADERS`) ?? "",
        `OTEL_EXPORTER_OTLP_${signal}_HEADERS`,
      ),
      ...flagHeaders,
    };
    return { url, protocol, headers, gzip: compression === "gzip", timeoutMs };
  };
  const resource: Attributes = {
    "service.name": "zig",
    "host.name": options.hostname(),
    ...parseResourceAttributes(env("OTEL_RESOURCE_ATTRIBUTES") ?? ""),
  };
  const serviceName = env("OTEL_SERVICE_NAME");
  if (serviceName !== undefined) resource["service.name"] = serviceName;
  return {
    logs: target("LOGS", "/v1/logs"),
    traces: target("TRACES", "/v1/traces"),
    resource,
  };
}

/** A variable of this process's environment; unset if empty or not allowed. */
function readEnv(name: string): string | undefined {
  try {
    const value = Deno.env.get(name);
    return value === "" ? undefined : value;
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) return undefined;
    throw error;
  }
}

function hostname(): string | undefined {
  try {
    return Deno.hostname();
  } catch {
    return undefined; // no --allow-sys=hostname: host.name is left out
  }
}

/** Resolves the configuration from this process's environment and the flags. */
export function processConfig(flags: ConfigFlags): ExportConfig {
  return resolveConfig(flags, { env: readEnv, hostname });
}

/** How `export` batches, backs off and polls, where no flag says. */
export const TUNING = {
  /** Approximate bytes per request at most (before compression). */
  batchBytes: 4 << 20,
  /** Milliseconds between checks for changes when following. */
  pollMs: 1000,
  backoff: { initialBackoffMs: 500, maxBackoffMs: 30_000 },
} as const;
