/**
 * What a session log says about its session without reading it whole: its
 * first event and its last complete event.
 *
 * @module
 */
import { fsError } from "./_fs.ts";
import { endsWithNewline, firstEvent, lastEvent } from "./_log_summary.ts";
import type { SessionStatus } from "./types.ts";

type Event = Record<string, unknown> | undefined;

function text(event: Event, key: string): string | undefined {
  const value = event?.[key];
  return typeof value === "string" ? value : undefined;
}

function number(event: Event, key: string): number | undefined {
  const value = event?.[key];
  return typeof value === "number" && Number.isFinite(value)
    ? value
    : undefined;
}

/** The typed fields of a summary, from its first and last events. */
function typedFields(first: Event, last: Event): Partial<LogSummary> {
  const fields: Partial<LogSummary> = {};
  const set = <K extends keyof LogSummary>(
    key: K,
    value: LogSummary[K] | undefined,
  ) => {
    if (value !== undefined) fields[key] = value;
  };
  const firstType = text(first, "type");
  set("firstType", firstType);
  if (firstType === "zig_session_started") {
    set("sessionId", text(first, "zig_session_id"));
    set("workflowName", text(first, "workflow_name"));
    set("workflowPath", text(first, "workflow_path"));
    set("workspacePath", text(first, "workspace_path"));
    set("startedAt", text(first, "ts"));
  }
  const lastType = text(last, "type");
  set("lastType", lastType);
  const seq = number(last, "seq");
  if (seq !== undefined && Number.isInteger(seq)) fields.lastSeq = seq;
  set("lastTs", text(last, "ts"));
  if (lastType === "heartbeat") {
    const secs = number(last, "interval_secs");
    if (secs !== undefined && secs > 0) fields.declaredIntervalSecs = secs;
  }
  const status = last?.status;
  if (
    lastType === "zig_session_ended" &&
    (status === "success" || status === "failure")
  ) {
    fields.ended = {
      status,
      ts: text(last, "ts") ?? null,
      durationMs: number(last, "duration_ms") ?? null,
    };
  }
  return fields;
}

/** How a session ended, as its log's last event says. */
export interface LogEnd {
  /** The end's `status`. */
  status: SessionStatus;
  /** The end's `ts`, or `null` when it has none. */
  ts: string | null;
  /** The end's `duration_ms`, or `null` when it has none. */
  durationMs: number | null;
}

/**
 * The first event and the last complete event of a log. Of a line longer
 * than 1 MiB, only the members whose values are under 64 KiB are kept (the
 * envelope, `type`, `status`, `interval_secs`...): such a line is checked in
 * one streaming pass, never held whole.
 *
 * The typed fields say what those events say, each checked once here: a
 * field is absent when its event is missing, damaged or not of the kind
 * named, or when its member is not of the type given. The fields from the
 * start (`sessionId`, `workflowName`, `workflowPath`, `workspacePath`,
 * `startedAt`) are read only from a `zig_session_started` first event.
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
  /** The first event's `type`. */
  firstType?: string;
  /** The session's id: the start's `zig_session_id`. */
  sessionId?: string;
  /** The start's `workflow_name`. */
  workflowName?: string;
  /** The start's `workflow_path`. */
  workflowPath?: string;
  /** The start's `workspace_path`: the project the session ran in. */
  workspacePath?: string;
  /** When the session started: the start's `ts`. */
  startedAt?: string;
  /** The last event's `type`. */
  lastType?: string;
  /** The last event's `seq`, a whole number. */
  lastSeq?: number;
  /** When the session was last heard of: the last event's `ts`. */
  lastTs?: string;
  /**
   * The interval the last event declares when it is a `heartbeat` with a
   * positive `interval_secs`, in seconds.
   */
  declaredIntervalSecs?: number;
  /**
   * How the session ended, when its last event is a `zig_session_ended`
   * whose `status` is `success` or `failure`.
   */
  ended?: LogEnd;
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
 * @example Typed fields
 * ```ts
 * import { summarizeLog } from "./log_summary.ts";
 * import assert from "node:assert/strict";
 *
 * const path = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(
 *   path,
 *   '{"seq":1,"ts":"2026-11-23T22:41:45+00:00","zig_session_id":"s1","type":"zig_session_started","workflow_name":"review"}\n' +
 *     '{"seq":2,"ts":"2026-11-23T22:41:47+00:00","zig_session_id":"s1","type":"zig_session_ended","status":"success","duration_ms":2000}\n',
 * );
 * const summary = summarizeLog(path);
 * assert.equal(summary.sessionId, "s1");
 * assert.equal(summary.workflowName, "review");
 * assert.equal(summary.startedAt, "2026-11-23T22:41:45+00:00");
 * assert.deepEqual(summary.ended, {
 *   status: "success",
 *   ts: "2026-11-23T22:41:47+00:00",
 *   durationMs: 2000,
 * });
 * ```
 *
 * @param path The log file.
 * @returns The first and last events with what they say, typed, the size,
 * and whether the log ends with a newline.
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
    const first = firstEvent(file, size);
    const last = lastEvent(file, size);
    return {
      first,
      last,
      size,
      complete: endsWithNewline(file, size),
      ...typedFields(first, last),
    };
  } finally {
    file.close();
  }
}
