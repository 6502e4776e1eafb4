// `export`: every session into an OpenTelemetry pipeline over OTLP/HTTP.
import { zigHome } from "../../mod.ts";
import { parseCount, parseSince, UsageError } from "./_args.ts";
import { type CommandContext, defineCommand } from "./_command.ts";
import { SINCE_OPTION } from "./_options.ts";
import { processConfig, TUNING } from "../_export/config.ts";
import { runExport } from "../_export/exporter.ts";
import { failureStatus, summaryLine } from "../_export/report.ts";
import { abortOnSignals } from "../_export/signals.ts";

/** What `export` is asked. */
export interface ExportFlags {
  endpoint?: string;
  protocol?: string;
  headers: string[];
  global: boolean;
  /** Only sessions started since this instant (ns). */
  since?: bigint;
  sessions: string[];
  follow: boolean;
  dryRun: boolean;
  /** Records per request at most. */
  batch: number;
  maxRetries: number;
}

/** `zig-session export`. */
export const exportCommand = defineCommand({
  name: "export",
  summary: "send sessions to an OpenTelemetry collector (OTLP/HTTP)",
  details:
    `Each session becomes a trace (the workflow the root span, each step attempt a
child span) and each event a log record carrying the trace and span ids.
Checkpoints in <zig home>/export/ record what the receiver acknowledged: run
it again (or after a crash) and it sends what is new, nothing twice.

Environment, as in every OpenTelemetry SDK (flags win):
  OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_{LOGS,TRACES}_ENDPOINT (full
  URLs), OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_PROTOCOL,
  OTEL_EXPORTER_OTLP_COMPRESSION (gzip, the default, or none),
  OTEL_EXPORTER_OTLP_TIMEOUT (ms), OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES.

Retries 429, 502, 503, 504 and unreachable receivers with exponential backoff
(Retry-After honoured): --max-retries times, then exits 1 (nothing is lost:
run it again); following, without end. Another 4xx is reported with the
receiver's message and exits 1.`,
  options: {
    endpoint: {
      type: "string",
      value: "URL",
      default: "$OTEL_EXPORTER_OTLP_ENDPOINT, else http://localhost:4318",
      help: "base URL of the OTLP/HTTP receiver: logs go to URL/v1/logs,\n" +
        "traces to URL/v1/traces",
    },
    protocol: {
      type: "string",
      value: "P",
      default: "http/protobuf",
      help: "http/protobuf or http/json",
    },
    header: {
      type: "string",
      value: "K=V",
      multiple: true,
      help: "an HTTP header for every request",
    },
    global: {
      type: "boolean",
      help: "every project's sessions (else this project's)",
    },
    since: SINCE_OPTION,
    session: {
      type: "string",
      value: "ID",
      multiple: true,
      help: "only this session: its id or a unique prefix",
    },
    follow: {
      type: "boolean",
      help: "keep running: export events as they are written, and new\n" +
        "sessions, until stopped (SIGINT or SIGTERM)",
    },
    "dry-run": {
      type: "boolean",
      help: "print the requests as OTLP/JSON, one a line; send nothing",
    },
    batch: {
      type: "string",
      value: "N",
      default: "2048",
      help: "records per request at most",
    },
    "max-retries": {
      type: "string",
      value: "N",
      default: "5",
      help: "retries of a request before giving up\n(--follow never gives up)",
    },
  },
  flags(values): ExportFlags {
    const batch = parseCount(values.batch, "--batch") ?? 2048;
    if (batch < 1) throw new UsageError("Invalid --batch 0: give at least 1");
    return {
      endpoint: values.endpoint,
      protocol: values.protocol,
      headers: values.header,
      global: values.global,
      since: values.since === undefined ? undefined : parseSince(values.since),
      sessions: values.session,
      follow: values.follow,
      dryRun: values["dry-run"],
      batch,
      maxRetries: parseCount(values["max-retries"], "--max-retries") ?? 5,
    };
  },
  run,
});

async function run(flags: ExportFlags, ctx: CommandContext): Promise<number> {
  const config = processConfig(flags);
  const { follow, dryRun } = flags;
  const stop = abortOnSignals();
  try {
    const summary = await runExport({
      home: zigHome({ zigHome: ctx.zigHome }),
      config,
      global: flags.global,
      cwd: ctx.cwd,
      sessions: flags.sessions,
      since: flags.since,
      follow,
      dryRun,
      batchRecords: flags.batch,
      batchBytes: TUNING.batchBytes,
      retry: { ...TUNING.backoff, maxRetries: flags.maxRetries },
      pollMs: TUNING.pollMs,
      out: (line) => ctx.out.write(line + "\n"),
      warn: (message) => ctx.err.write(`zig-session: warning: ${message}\n`),
      signal: stop.signal,
    });
    (dryRun ? ctx.err : ctx.out).write(
      summaryLine(summary, { config, dryRun }),
    );
    return 0;
  } catch (error) {
    return failureStatus(error, ctx.err);
  } finally {
    stop.dispose();
  }
}
