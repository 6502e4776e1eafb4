/**
 * What a session log says about its session without reading it whole: its
 * first event and its last complete event.
 *
 * @module
 */
import { fsError } from "./_fs.ts";
import { endsWithNewline, firstEvent, lastEvent } from "./_log_summary.ts";

/**
 * The first event and the last complete event of a log. Of a line longer
 * than 1 MiB, only the members whose values are under 64 KiB are kept (the
 * envelope, `type`, `status`, `interval_secs`...): such a line is checked in
 * one streaming pass, never held whole.
 */
export interface LogSummary {
  /** The first line's event, if it parsed. */
  first?: Record<string, unknown>;
  /** The last complete line's event, if it parsed. */
  last?: Record<string, unknown>;
  /** Size of the log in bytes. */
  size: number;
  /** Whether the log ends with a newline (or is empty). */
  complete: boolean;
}

/**
 * Reads a log's first event and its last complete event, reading only the
 * start and the end of the file (a few kilobytes whatever its size, unless
 * those lines are long: then each of their bytes is read at most twice, in
 * memory that does not grow with them). Tells whether a session has ended,
 * when it was last heard of, and whether its last line is torn.
 *
 * @example Usage
 * ```ts
 * import { summarizeLog } from "./log_summary.ts";
 *
 * const path = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(path, '{"seq":1,"type":"zig_session_started"}\n{"seq":2,"type":"heartbeat"}\n{"seq":3,');
 * const { first, last, complete } = summarizeLog(path);
 * console.log(first?.type, last?.type, complete); // zig_session_started heartbeat false
 * ```
 *
 * @param path The log file.
 * @returns The first and last events, the size, and whether the log ends
 * with a newline.
 * @throws {ZigError} when the file cannot be read.
 */
export function summarizeLog(path: string): LogSummary {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch (error) {
    throw fsError(error, { action: "read the session log", path });
  }
  try {
    const size = file.statSync().size;
    return {
      first: firstEvent(file, size),
      last: lastEvent(file, size),
      size,
      complete: endsWithNewline(file, size),
    };
  } finally {
    file.close();
  }
}
