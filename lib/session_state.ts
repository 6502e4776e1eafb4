/**
 * How a session stands: ended (`success` or `failure`), `running`, or
 * `abandoned` (no end event and silent for too long: its writer died).
 *
 * The rule, one for every reader: a session whose index entry or log says it
 * ended has that status. Any other session is running while its log was
 * written within 3 of its heartbeat intervals, and abandoned after. When the
 * log was last written is judged from facts: the later of the log file's
 * modification time and its last event's `ts` (a `ts` ahead of now is
 * ignored), so a writer whose clock is wrong never makes a live session look
 * dead, nor a dead one look live. The interval is the longest one the log declares: in its first
 * heartbeat (writers that beat at another interval than zig's 10 s write one
 * at start, and `zig-session start` declares its idle allowance that way),
 * or in the heartbeats near its end; 10 s when it declares none.
 *
 * @module
 */
import { lastEvent } from "./_log_summary.ts";
import { readRangeSync } from "./_fs.ts";
import { DEFAULT_HEARTBEAT_SECS } from "./session_writer.ts";
import { formatTimestamp, parseTimestamp } from "./timestamp.ts";
import type { SessionStatus } from "./types.ts";

/** How a session stands. */
export type SessionState = "running" | "abandoned" | "success" | "failure";

/** The fields of an index entry the state is judged from. */
export interface SessionStateEntry {
  /**
   * How the index says the session ended. Anything but `"success"` or
   * `"failure"` (a damaged index may hold any value) is unknown: the log
   * decides.
   */
  status?: SessionStatus | null;
  /** When the session started: the last sign of life when the log has none. */
  started_at?: string;
  /** When the index says the session ended. */
  ended_at?: string | null;
}

/** Options of {@linkcode sessionState} and {@linkcode sessionStateDetails}. */
export interface SessionStateOptions {
  /** Where the session's log is now. */
  logPath: string;
  /** The instant to judge at, in nanoseconds since the epoch. Default: now. */
  now?: bigint;
}

/** The facts {@linkcode judgeSessionState} decides from. */
export interface SessionFacts {
  /** The index entry's status; anything but `"success"` or `"failure"` is unknown. */
  status?: unknown;
  /** The index entry's `ended_at`, used when its status is known. */
  endedAt?: unknown;
  /** When the session started, if known. */
  startedAt?: unknown;
  /** The last complete event of the log, if any. */
  last?: Record<string, unknown>;
  /** When the log file was last modified, in nanoseconds since the epoch. */
  modifiedAt?: bigint;
  /**
   * The longest heartbeat interval the log declares, in seconds. Default:
   * the last event's, if it is a heartbeat, else zig's 10.
   */
  intervalSecs?: number;
  /** The instant to judge at, in nanoseconds since the epoch. Default: now. */
  now?: bigint;
}

/** A session's state and what it was judged from. */
export interface SessionStateDetails {
  /** How the session stands. */
  state: SessionState;
  /**
   * When the session was last heard of: when it ended, or for an open
   * session the later of its last event and its log's modification time.
   * Absent when nothing is known.
   */
  lastActivity?: string;
  /**
   * For an open session, the silence after which it counts as abandoned, in
   * seconds: 3 heartbeat intervals.
   */
  idleLimitSecs?: number;
}

/** Heartbeat intervals of silence after which an open session is abandoned. */
const MISSED_HEARTBEATS = 3;
/** How far into a log its first heartbeat is looked for. */
const HEAD_BYTES = 256 * 1024;
/** How far back from a log's end later heartbeats are looked for. */
const TAIL_BYTES = 256 * 1024;
const CHUNK = 64 * 1024;

function knownStatus(status: unknown): status is SessionStatus {
  return status === "success" || status === "failure";
}

function intervalOf(event: Record<string, unknown> | undefined) {
  const secs = event?.type === "heartbeat" ? event.interval_secs : undefined;
  return typeof secs === "number" && Number.isFinite(secs) && secs > 0
    ? secs
    : undefined;
}

function instantOf(value: unknown): bigint | undefined {
  return typeof value === "string" ? parseTimestamp(value) : undefined;
}

function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/**
 * Decides a session's state from facts already gathered: the index entry's
 * status, the log's last event, its modification time and the heartbeat
 * interval it declares. {@linkcode sessionStateDetails} gathers them from a
 * log; this is the rule itself, for callers that have the facts at hand.
 *
 * @example Usage
 * ```ts
 * import { judgeSessionState } from "./session_state.ts";
 * import { parseTimestamp } from "./timestamp.ts";
 * import assert from "node:assert/strict";
 *
 * const now = parseTimestamp("2026-11-23T22:45:00+00:00")!;
 * // The writer's clock is 2 days behind, but the file was written just now.
 * const facts = {
 *   last: { type: "step_output", ts: "2026-11-21T22:45:00+00:00" },
 *   modifiedAt: now - 2_000_000_000n,
 *   now,
 * };
 * assert.equal(judgeSessionState(facts).state, "running");
 * assert.equal(
 *   judgeSessionState({ ...facts, modifiedAt: undefined }).state,
 *   "abandoned",
 * );
 * ```
 *
 * @param facts What is known of the session.
 * @returns The state, when the session was last heard of, and for an open
 * session the silence it is allowed.
 */
export function judgeSessionState(facts: SessionFacts): SessionStateDetails {
  if (knownStatus(facts.status)) {
    const ended = instantOf(facts.endedAt);
    return {
      state: facts.status,
      lastActivity: ended === undefined ? undefined : String(facts.endedAt),
    };
  }
  const last = facts.last;
  if (last?.type === "zig_session_ended") {
    return {
      state: last.status === "success" ? "success" : "failure",
      lastActivity: typeof last.ts === "string" ? last.ts : undefined,
    };
  }
  const now = facts.now ?? nowNs();
  // The writer's clock may be wrong. The file's modification time comes
  // from this machine's clock; a `ts` ahead of now is no fact at all (it
  // would keep a dead session running until that clock is caught up with),
  // unless nothing else is known.
  let heard = instantOf(last?.ts) ?? instantOf(facts.startedAt);
  if (heard !== undefined && heard > now) {
    heard = facts.modifiedAt === undefined ? now : undefined;
  }
  const interval = facts.intervalSecs ?? intervalOf(last) ??
    DEFAULT_HEARTBEAT_SECS;
  const idleLimitSecs = interval * MISSED_HEARTBEATS;
  const limitNs = BigInt(Math.ceil(idleLimitSecs * 1000)) * 1_000_000n;
  // Nor is a modification time further ahead than the silence allowed (a
  // file copied with its times, a file server's clock): it would keep a dead
  // session running as long. Just ahead, it is a write since `now` was taken.
  let modified = facts.modifiedAt;
  if (modified !== undefined && modified > now) {
    modified = modified - now <= limitNs || heard === undefined
      ? now
      : undefined;
  }
  if (modified !== undefined && (heard === undefined || modified > heard)) {
    heard = modified;
  }
  if (heard === undefined) return { state: "abandoned", idleLimitSecs };
  return {
    state: now - heard > limitNs ? "abandoned" : "running",
    lastActivity: formatTimestamp(heard),
    idleLimitSecs,
  };
}

/**
 * How a session stands, and what that was judged from: the index entry's
 * status when it has one, else the log. Reads only the log's first and last
 * few kilobytes (its first heartbeat, its last event, and when the session
 * looks abandoned the heartbeats near its end) and its modification time.
 * A log that cannot be read is abandoned: nothing can be heard from it.
 *
 * @example Usage
 * ```ts
 * import { sessionStateDetails } from "./session_state.ts";
 * import { SessionWriter } from "./session_writer.ts";
 * import assert from "node:assert/strict";
 *
 * const writer = SessionWriter.create({
 *   zigHome: Deno.makeTempDirSync(),
 *   projectRoot: "/src/shop",
 *   workflowName: "w",
 *   workflowPath: "w.zwf",
 *   tierCount: 1,
 * });
 * writer.heartbeat(60); // this writer beats every 60 s: allow 3 minutes
 * const now = BigInt(Date.now()) * 1_000_000n;
 * const details = sessionStateDetails({}, { logPath: writer.logPath, now });
 * assert.equal(details.state, "running");
 * assert.equal(details.idleLimitSecs, 180);
 * writer.close();
 * ```
 *
 * @param entry The session's index entry (its `status`, `started_at` and
 * `ended_at`); `{}` to judge from the log alone.
 * @param options Where the log is, and the instant to judge at.
 * @returns The state, when the session was last heard of, and for an open
 * session the silence it is allowed.
 */
export function sessionStateDetails(
  entry: SessionStateEntry,
  options: SessionStateOptions,
): SessionStateDetails {
  const base: SessionFacts = {
    status: entry.status,
    endedAt: entry.ended_at,
    startedAt: entry.started_at,
    now: options.now ?? nowNs(),
  };
  if (knownStatus(entry.status)) return judgeSessionState(base);
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(options.logPath, { read: true });
  } catch {
    return judgeSessionState({ ...base, modifiedAt: undefined, startedAt: "" });
  }
  try {
    const info = file.statSync();
    const size = info.size;
    const facts: SessionFacts = {
      ...base,
      last: lastEvent(file, size),
      modifiedAt: info.mtime
        ? BigInt(info.mtime.getTime()) * 1_000_000n
        : undefined,
    };
    const declared = [intervalOf(facts.last), firstHeartbeat(file, size)]
      .filter((s) => s !== undefined);
    if (declared.length > 0) facts.intervalSecs = Math.max(...declared);
    let details = judgeSessionState(facts);
    if (details.state === "abandoned") {
      // A writer attached later may beat at a longer interval: look at the
      // heartbeats near the end before calling it dead.
      const later = lastHeartbeats(file, size);
      if (later !== undefined && later > (facts.intervalSecs ?? 0)) {
        details = judgeSessionState({ ...facts, intervalSecs: later });
      }
    }
    return details;
  } catch {
    return judgeSessionState({ ...base, startedAt: "" });
  } finally {
    file.close();
  }
}

/**
 * How a session stands: `success` or `failure` once it ended, `running`
 * while its log was written within 3 of its heartbeat intervals (judged by
 * the log's modification time as well as its last event, whichever is
 * later), `abandoned` after. See {@linkcode sessionStateDetails}.
 *
 * @example Usage
 * ```ts
 * import { sessionState } from "./session_state.ts";
 * import { SessionWriter } from "./session_writer.ts";
 * import assert from "node:assert/strict";
 *
 * const writer = SessionWriter.create({
 *   zigHome: Deno.makeTempDirSync(),
 *   projectRoot: "/src/shop",
 *   workflowName: "w",
 *   workflowPath: "w.zwf",
 *   tierCount: 1,
 * });
 * const entry = { started_at: new Date().toISOString(), status: null };
 * assert.equal(sessionState(entry, { logPath: writer.logPath }), "running");
 * // Judged 31 s from now, with no heartbeat declared: 3 × 10 s have passed.
 * const later = BigInt(Date.now() + 31_000) * 1_000_000n;
 * assert.equal(
 *   sessionState(entry, { logPath: writer.logPath, now: later }),
 *   "abandoned",
 * );
 * writer.ended("success", 5);
 * assert.equal(sessionState(entry, { logPath: writer.logPath }), "success");
 * ```
 *
 * @param entry The session's index entry; `{}` to judge from the log alone.
 * @param options Where the log is, and the instant to judge at.
 * @returns `running`, `abandoned`, `success` or `failure`.
 */
export function sessionState(
  entry: SessionStateEntry,
  options: SessionStateOptions,
): SessionState {
  return sessionStateDetails(entry, options).state;
}

function parseLine(bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(new TextDecoder().decode(bytes));
    return value !== null && typeof value === "object" ? value : undefined;
  } catch {
    return undefined;
  }
}

const HEARTBEAT_MARK = new TextEncoder().encode('"heartbeat"');

function mentionsHeartbeat(line: Uint8Array): boolean {
  const first = HEARTBEAT_MARK[0];
  for (let i = line.indexOf(first); i >= 0; i = line.indexOf(first, i + 1)) {
    let j = 1;
    while (
      j < HEARTBEAT_MARK.length && line[i + j] === HEARTBEAT_MARK[j]
    ) j++;
    if (j === HEARTBEAT_MARK.length) return true;
  }
  return false;
}

/** The interval of the first heartbeat within the log's first bytes. */
function firstHeartbeat(file: Deno.FsFile, size: number): number | undefined {
  let carry = new Uint8Array(0);
  for (let at = 0; at < Math.min(size, HEAD_BYTES); at += CHUNK) {
    const chunk = readRangeSync(file, { position: at, length: CHUNK });
    if (chunk.length === 0) break;
    const bytes = new Uint8Array(carry.length + chunk.length);
    bytes.set(carry);
    bytes.set(chunk, carry.length);
    let start = 0;
    for (
      let nl = bytes.indexOf(10);
      nl >= 0;
      start = nl + 1, nl = bytes.indexOf(10, start)
    ) {
      const line = bytes.subarray(start, nl);
      if (!mentionsHeartbeat(line)) continue;
      const secs = intervalOf(parseLine(line));
      if (secs !== undefined) return secs;
    }
    carry = bytes.slice(start);
  }
  return undefined;
}

/** The longest interval of the heartbeats within the log's last bytes. */
function lastHeartbeats(file: Deno.FsFile, size: number): number | undefined {
  const from = Math.max(0, size - TAIL_BYTES);
  const bytes = readRangeSync(file, { position: from, length: size - from });
  // Skip the partial line the window starts in.
  let start = from === 0 ? 0 : bytes.indexOf(10) + 1;
  if (start === 0 && from > 0) return undefined;
  let longest: number | undefined;
  for (
    let nl = bytes.indexOf(10, start);
    nl >= 0;
    start = nl + 1, nl = bytes.indexOf(10, start)
  ) {
    const line = bytes.subarray(start, nl);
    if (!mentionsHeartbeat(line)) continue;
    const secs = intervalOf(parseLine(line));
    if (secs !== undefined && (longest === undefined || secs > longest)) {
      longest = secs;
    }
  }
  return longest;
}
