// `export`: every session into an OpenTelemetry pipeline over OTLP/HTTP.
import { zigHome } from "../../mod.ts";
import {
  type CommandSpec,
  type Context,
  intFlag,
  listFlag,
  parseCommand,
  parseSince,
  stringFlag,
  UsageError,
} from "./common.ts";
import { resolveConfig } from "../_export/config.ts";
import { RejectedError, UnavailableError } from "../_export/delivery.ts";
import { runExport } from "../_export/exporter.ts";

export const EXPORT: CommandSpec = {
  name: "export",
  summary: "send sessions to an OpenTelemetry collector (OTLP/HTTP)",
  usage:
    "Usage: zig-session export [--endpoint URL] [--protocol http/protobuf|http/json] [--header K=V]...\n" +
    "                          [--global] [--since D] [--session ID]... [--follow] [--dry-run]",
  details:
    `Each session becomes a trace (the workflow the root span, each step attempt a
child span) and each event a log record carrying the trace and span ids.
Checkpoints in <zig home>/export/ record what the receiver acknowledged: run
it again (or after a crash) and it sends what is new, nothing twice.

Options:
  --endpoint URL    base URL of the OTLP/HTTP receiver: logs go to URL/v1/logs,
                    traces to URL/v1/traces (default $OTEL_EXPORTER_OTLP_ENDPOINT,
                    else http://localhost:4318)
  --protocol P      http/protobuf (default) or http/json
  --header K=V      an HTTP header for every request (repeatable)
  --global          every project's sessions (default: this project's)
  --since D         only sessions started since D (date, timestamp, or 2h, 7d)
  --session ID      only this session (id or unique prefix; repeatable)
  --follow          keep running: export events as they are written, and new
                    sessions, until stopped (SIGINT or SIGTERM)
  --dry-run         print the requests as OTLP/JSON, one a line; send nothing
  --batch N         records per request at most (default 2048)
  --max-retries N   retries of a request before giving up (default 5; --follow
                    never gives up)

Environment, as in every OpenTelemetry SDK (flags win):
  OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_{LOGS,TRACES}_ENDPOINT (full
  URLs), OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_PROTOCOL,
  OTEL_EXPORTER_OTLP_COMPRESSION (gzip, the default, or none),
  OTEL_EXPORTER_OTLP_TIMEOUT (ms), OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES.

Retries 429, 502, 503, 504 and unreachable receivers with exponential backoff
(Retry-After honoured): --max-retries times, then exits 1 (nothing is lost:
run it again); following, without end. Another 4xx is reported with the receiver's message
and exits 1.`,
  options: {
    endpoint: { type: "string" },
    protocol: { type: "string" },
    header: { type: "string", multiple: true },
    global: { type: "boolean" },
    since: { type: "string" },
    session: { type: "string", multiple: true },
    follow: { type: "boolean" },
    "dry-run": { type: "boolean" },
    batch: { type: "string" },
    "max-retries": { type: "string" },
  },
};

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

/** `zig-session export`. */
export async function exportCommand(
  argv: string[],
  ctx: Context,
): Promise<number> {
  const parsed = parseCommand(EXPORT, { argv, ctx });
  if (!parsed) return 0;
  const config = resolveConfig({
    endpoint: stringFlag(parsed, "endpoint"),
    protocol: stringFlag(parsed, "protocol"),
    headers: listFlag(parsed, "header"),
  }, { env: readEnv, hostname });
  const batch = intFlag(parsed, "batch") ?? 2048;
  if (batch < 1) throw new UsageError("Invalid --batch 0: give at least 1");
  const sinceFlag = stringFlag(parsed, "since");
  const follow = parsed.values.follow === true;
  const dryRun = parsed.values["dry-run"] === true;
  const controller = new AbortController();
  const stop = () =>
    controller.abort(new DOMException("stopped", "AbortError"));
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, stop);
  const warn = (message: string) =>
    ctx.err.write(`zig-session: warning: ${message}\n`);
  try {
    const summary = await runExport({
      home: zigHome({ zigHome: ctx.zigHome }),
      config,
      global: parsed.values.global === true,
      cwd: ctx.cwd,
      sessions: listFlag(parsed, "session"),
      since: sinceFlag === undefined ? undefined : parseSince(sinceFlag),
      follow,
      dryRun,
      batchRecords: batch,
      batchBytes: 4 << 20,
      retry: {
        initialBackoffMs: 500,
        maxBackoffMs: 30_000,
        maxRetries: intFlag(parsed, "max-retries") ?? 5,
      },
      pollMs: 1000,
      out: (line) => ctx.out.write(line + "\n"),
      warn,
      signal: controller.signal,
    });
    const where = config.logs.url === config.traces.url.replace(
        /\/v1\/traces$/,
        "/v1/logs",
      )
      ? config.logs.url.replace(/\/v1\/logs$/, "")
      : `${config.logs.url} and ${config.traces.url}`;
    (dryRun ? ctx.err : ctx.out).write(
      `${
        dryRun ? "would export" : "exported"
      } ${summary.logRecords} log records and ${summary.spans} spans of ${summary.sessions} sessions${
        dryRun ? "" : ` to ${where}`
      }${
        summary.rejected > 0
          ? ` (the receiver rejected ${summary.rejected})`
          : ""
      }\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof RejectedError || error instanceof UnavailableError) {
      ctx.err.write(`zig-session: ${error.message}\n`);
      return 1;
    }
    if (error instanceof DOMException && error.name === "AbortError") {
      return 0;
    }
    throw error;
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, stop);
  }
}
