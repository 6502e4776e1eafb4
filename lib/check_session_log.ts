/**
 * Checking a session log: what `zig-session verify` reports of each log, for
 * programs too.
 *
 * @module
 */
import { basename } from "node:path";
import { streamSessionLines } from "./session_reader.ts";
import { type SessionState, sessionStateDetails } from "./session_state.ts";
import type { SessionProblem } from "./types.ts";

/** What can be wrong with a log, by kind. */
export type LogProblemKind =
  /** A line that is not JSON. */
  | "not_json"
  /** A JSON line without a numeric `seq` and a string `type`. */
  | "not_event"
  /** A `\uD800`–`\uDFFF` escape left unpaired: zig rejects the whole log. */
  | "lone_surrogate"
  /** The first event is not `zig_session_started`. */
  | "first_not_started"
  /** `seq` does not run 1, 2, 3... without a gap. */
  | "seq_out_of_order"
  /** An event whose `zig_session_id` is not the log's (its file name). */
  | "foreign_event"
  /** Events written after `zig_session_ended`. */
  | "after_end"
  /** The last line has no newline (a write cut short), and the session is not running. */
  | "torn_line"
  /** Bytes that are not UTF-8: zig cannot read the log. */
  | "invalid_utf8"
  /** A line too long to be read at all (over 512 MiB, more than a string holds). */
  | "too_long"
  /** No event at all. */
  | "empty"
  /** No end event, and nothing written for 3 heartbeat intervals. */
  | "abandoned";

/** One thing wrong with a log. */
export interface LogProblem {
  /** What is wrong. */
  kind: LogProblemKind;
  /** The line at fault (from 1), for problems of a line. */
  line?: number;
  /** A sentence saying what is wrong, starting with the line (`line 3: ...`). */
  message: string;
}

/** What checking a log found. */
export interface SessionLogCheck {
  /** The log checked. */
  path: string;
  /** Everything wrong, in the order of the log (an empty list: all is well). */
  problems: LogProblem[];
  /** How the session stands, by the module's rule (see `sessionStateDetails`). */
  state: SessionState;
  /** The session id of the first event, if any. */
  sessionId?: string;
  /** How the session ended, when its log has an end event. */
  ended?: { status: string; ts: string };
  /** The last event that parsed. */
  last?: Record<string, unknown>;
  /**
   * Where a torn last line starts (its byte offset), when it is a problem:
   * the bytes a repair would move aside.
   */
  tornAt?: number;
  /**
   * Where an unfinished last line of a running session starts: a write in
   * progress, not a problem (never to be cut).
   */
  unfinishedAt?: number;
}

/** Options of {@linkcode checkSessionLog}. */
export interface CheckSessionLogOptions {
  /** When the session started (from its index entry): a sign of life. */
  startedAt?: string;
  /** The instant to judge the state at, in nanoseconds since the epoch. */
  now?: bigint;
  /** Stops reading when aborted. */
  signal?: AbortSignal;
}

/** A `\uD800`–`\uDFFF` escape: only such text can hold a lone surrogate. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F][0-9a-fA-F]{2}/;

/** Whether every string and key in a parsed value is well-formed UTF-16. */
function wellFormed(value: unknown): boolean {
  if (typeof value === "string") return value.isWellFormed();
  if (value === null || typeof value !== "object") return true;
  return Object.entries(value).every(([key, item]) =>
    key.isWellFormed() && wellFormed(item)
  );
}

/**
 * Checks a session log, reading it once with bounded memory: every line
 * parses, is UTF-8 and holds no lone surrogate; `seq` runs 1, 2, 3... with
 * no gap; every event is the log's session's; the first is
 * `zig_session_started`; nothing follows `zig_session_ended`; the last line
 * is complete; and a log without an end event belongs to a running session
 * (else it was abandoned). A torn last line of a running session is a write
 * in progress, not a problem.
 *
 * @example Usage
 * ```ts
 * import { checkSessionLog } from "./check_session_log.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = Deno.makeTempDirSync();
 * const id = "6b3f1c2e-1111-4222-8333-444455556666";
 * const path = `${dir}/${id}.jsonl`;
 * const ts = "2026-11-23T22:41:46+00:00";
 * Deno.writeTextFileSync(
 *   path,
 *   `{"seq":1,"ts":"${ts}","zig_session_id":"${id}","type":"zig_session_started"}\n` +
 *     `{"seq":3,"ts":"${ts}","zig_session_id":"${id}","type":"zig_session_ended","status":"success","duration_ms":5}\n`,
 * );
 * const check = await checkSessionLog(path);
 * assert.equal(check.state, "success");
 * assert.deepEqual(check.problems, [
 *   { kind: "seq_out_of_order", line: 2, message: "line 2: seq 3, expected 2" },
 * ]);
 * ```
 *
 * @param path The log file, named `<session id>.jsonl`.
 * @param options When the session started, the instant to judge at, and a
 * signal to stop.
 * @returns The problems found, the session's state, and how it ended.
 * @throws {ZigError} when the log cannot be read.
 */
export async function checkSessionLog(
  path: string,
  options: CheckSessionLogOptions = {},
): Promise<SessionLogCheck> {
  const problems: LogProblem[] = [];
  const say = (kind: LogProblemKind, line: number, text: string) =>
    problems.push({ kind, line, message: `line ${line}: ${text}` });
  const lineProblems: SessionProblem[] = [];
  let expected = 1;
  let first = true;
  let sessionId: string | undefined;
  let last: Record<string, unknown> | undefined;
  let endLine: number | undefined;
  const afterEnd: number[] = [];
  const fileId = basename(path, ".jsonl");
  for await (
    const { text, line } of streamSessionLines(path, {
      onProblem: (p) => lineProblems.push(p),
      signal: options.signal,
    })
  ) {
    if (text.trim() === "") continue;
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(text);
    } catch {
      say("not_json", line, "not JSON");
      continue;
    }
    if (typeof event?.seq !== "number" || typeof event.type !== "string") {
      say("not_event", line, "not an event");
      continue;
    }
    if (SURROGATE_ESCAPE.test(text) && !wellFormed(event)) {
      say(
        "lone_surrogate",
        line,
        "a lone surrogate (half of a character), which zig cannot read (the log is rejected whole)",
      );
    }
    if (first && event.type !== "zig_session_started") {
      say(
        "first_not_started",
        line,
        `first event is ${event.type}, not zig_session_started`,
      );
    }
    first = false;
    if (event.seq !== expected) {
      say("seq_out_of_order", line, `seq ${event.seq}, expected ${expected}`);
    }
    expected = event.seq + 1;
    if (event.zig_session_id !== fileId) {
      say(
        "foreign_event",
        line,
        `zig_session_id ${event.zig_session_id} is not the log's ${fileId}`,
      );
    }
    sessionId ??= String(event.zig_session_id);
    if (endLine !== undefined) afterEnd.push(line);
    else if (event.type === "zig_session_ended") endLine = line;
    last = event;
  }
  if (afterEnd.length > 0) {
    say(
      "after_end",
      afterEnd[0],
      `${afterEnd.length} event(s) written after the session ended at line ${endLine}`,
    );
  }
  let torn: SessionProblem | undefined;
  for (const p of lineProblems) {
    if (p.kind === "torn_line") {
      torn = p;
      say("torn_line", p.line!, "torn (no newline: a write cut short)");
    } else if (p.kind === "invalid_utf8") {
      say(
        "invalid_utf8",
        p.line!,
        "bytes that are not UTF-8 (zig cannot read the log)",
      );
    } else if (p.kind === "malformed_line") {
      // The reader reports only lines it cannot hold at all.
      say("too_long", p.line!, p.reason ?? "too long to be read");
    }
  }
  if (first) problems.push({ kind: "empty", message: "empty log" });
  const { state, lastActivity } = sessionStateDetails(
    { started_at: options.startedAt },
    { logPath: path, now: options.now },
  );
  const check: SessionLogCheck = {
    path,
    problems,
    state,
    sessionId,
    last,
    tornAt: torn?.offset,
  };
  if (last?.type === "zig_session_ended") {
    check.ended = { status: String(last.status), ts: String(last.ts) };
  } else if (!first && state === "abandoned") {
    problems.push({
      kind: "abandoned",
      message: `no end event, and nothing written since ${
        lastActivity ?? "?"
      }: abandoned`,
    });
  } else if (!first && state === "running" && torn !== undefined) {
    // A live writer may be in the middle of its line: not torn yet.
    check.problems = problems.filter((p) => p.kind !== "torn_line");
    check.unfinishedAt = torn.offset;
    check.tornAt = undefined;
  }
  return check;
}
