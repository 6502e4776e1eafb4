// Internal to `export`: how it ends, told: the summary line, or the failure
// and the exit status.
import type { Writer } from "../_cli/common.ts";
import type { ExportConfig } from "./config.ts";
import { RejectedError, UnavailableError } from "./delivery.ts";
import type { ExportSummary } from "./exporter.ts";

/** The closing line: what was exported (or would be, dry) and where to. */
export function summaryLine(
  summary: ExportSummary,
  options: { config: ExportConfig; dryRun: boolean },
): string {
  const { config, dryRun } = options;
  const where = config.logs.url === config.traces.url.replace(
      /\/v1\/traces$/,
      "/v1/logs",
    )
    ? config.logs.url.replace(/\/v1\/logs$/, "")
    : `${config.logs.url} and ${config.traces.url}`;
  return `${
    dryRun ? "would export" : "exported"
  } ${summary.logRecords} log records and ${summary.spans} spans of ${summary.sessions} sessions${
    dryRun ? "" : ` to ${where}`
  }${
    summary.rejected > 0 ? ` (the receiver rejected ${summary.rejected})` : ""
  }\n`;
}

/**
 * The exit status of an export that threw: 1 for a rejected request or an
 * unavailable receiver (told on `err`), 0 if stopped by a signal; anything
 * else is rethrown.
 */
export function failureStatus(error: unknown, err: Writer): number {
  if (error instanceof RejectedError || error instanceof UnavailableError) {
    err.write(`zig-session: ${error.message}\n`);
    return 1;
  }
  if (error instanceof DOMException && error.name === "AbortError") {
    return 0;
  }
  throw error;
}
