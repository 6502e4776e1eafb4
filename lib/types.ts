/**
 * Types of the zig session log, mirroring the wire format field for field.
 *
 * Event objects keep zig's snake_case field names so that a value read from a
 * log can be written back byte for byte.
 *
 * @module
 */

/** Which output stream of a step a `step_output` line came from. */
export type OutputStream = "stdout" | "stderr";

/** How a session ended. */
export type SessionStatus = "success" | "failure";

/** First event of every session. */
export interface ZigSessionStartedKind {
  /** Discriminant. */
  type: "zig_session_started";
  /** Name of the workflow being run. */
  workflow_name: string;
  /** Path of the workflow file. */
  workflow_path: string;
  /** The zig project directory (`~/.zig/projects/<sanitized>`), not the user's repository. */
  workspace_path: string | null;
  /** Working directory of the process that started the session. */
  cwd: string | null;
  /** The prompt the workflow was started with, if any. */
  prompt: string | null;
  /** Number of tiers in the workflow. */
  tier_count: number;
}

/** A tier of steps starts. */
export interface TierStartedKind {
  /** Discriminant. */
  type: "tier_started";
  /** Zero-based index of the tier. */
  tier_index: number;
  /** Names of the steps in the tier. */
  step_names: string[];
}

/** A step starts running. */
export interface StepStartedKind {
  /** Discriminant. */
  type: "step_started";
  /** Name of the step. */
  step_name: string;
  /** Tier the step belongs to. */
  tier_index: number;
  /** Id of the agent (zag) session that runs the step. */
  zag_session_id: string;
  /** The command that runs the step. */
  zag_command: string;
  /** Model used by the step, if any. */
  model: string | null;
  /** Start of the step's prompt. */
  prompt_preview: string;
}

/** One line of a step's output. */
export interface StepOutputKind {
  /** Discriminant. */
  type: "step_output";
  /** Name of the step. */
  step_name: string;
  /** Stream the line came from. */
  stream: OutputStream;
  /** The line, without its newline. */
  line: string;
}

/** A step finished successfully. */
export interface StepCompletedKind {
  /** Discriminant. */
  type: "step_completed";
  /** Name of the step. */
  step_name: string;
  /** Exit code of the step's command. */
  exit_code: number;
  /** Duration of the step in milliseconds. */
  duration_ms: number;
  /** Names of the variables the step saved. */
  saved_vars: string[];
}

/** A step attempt failed. */
export interface StepFailedKind {
  /** Discriminant. */
  type: "step_failed";
  /** Name of the step. */
  step_name: string;
  /** Exit code, or `null` when the command could not start or was killed by a signal. */
  exit_code: number | null;
  /** Attempt number, from 1. */
  attempt: number;
  /** What went wrong. */
  error: string;
}

/** A step was skipped. */
export interface StepSkippedKind {
  /** Discriminant. */
  type: "step_skipped";
  /** Name of the step. */
  step_name: string;
  /** Why it was skipped. */
  reason: string;
}

/** The session's process is still alive. */
export interface HeartbeatKind {
  /** Discriminant. */
  type: "heartbeat";
  /** Seconds between heartbeats (zig writes 10). */
  interval_secs: number;
}

/** Last event of a session. */
export interface ZigSessionEndedKind {
  /** Discriminant. */
  type: "zig_session_ended";
  /** How the session ended. */
  status: SessionStatus;
  /** Duration of the session in milliseconds. */
  duration_ms: number;
}

/** Every event kind zig knows, discriminated on `type`. */
export type SessionEventKind =
  | ZigSessionStartedKind
  | TierStartedKind
  | StepStartedKind
  | StepOutputKind
  | StepCompletedKind
  | StepFailedKind
  | StepSkippedKind
  | HeartbeatKind
  | ZigSessionEndedKind;

/** The `type` of an event kind zig knows. */
export type SessionEventType = SessionEventKind["type"];

/**
 * An event kind this version does not know, such as one added by a later
 * zig. It is written and read back unchanged.
 */
export interface OtherEventKind {
  /** The event's type. */
  type: string;
  /** The kind's own fields. */
  [field: string]: unknown;
}

/** Fields every log line starts with. */
export interface SessionEventEnvelope {
  /** Position of the event in its session, from 1, gapless. */
  seq: number;
  /** When the event was written, RFC 3339 with a `+00:00` offset. */
  ts: string;
  /** Id of the session. */
  zig_session_id: string;
}

/**
 * One line of a session log: the envelope and one event kind, flattened.
 *
 * Readers return events of types this version does not know unchanged as
 * well; {@linkcode isKnownEventType} tells them apart.
 */
export type SessionLogEvent = SessionEventEnvelope & SessionEventKind;

/** One session in a project index (`logs/index.json`). */
export interface SessionLogIndexEntry {
  /** Id of the session. */
  zig_session_id: string;
  /** Name of the workflow. */
  workflow_name: string;
  /** Path of the workflow file. */
  workflow_path: string;
  /** Absolute path of the session log where it was written. */
  log_path: string;
  /** When the session started. */
  started_at: string;
  /** When the session ended, `null` while it runs. */
  ended_at: string | null;
  /** How the session ended, `null` while it runs. */
  status: SessionStatus | null;
  /** The zig project directory. */
  workspace_path: string | null;
}

/** A project index. */
export interface SessionLogIndex {
  /** Sessions in the order they started. */
  sessions: SessionLogIndexEntry[];
}

/** One session in the global index (`sessions_index.json`). */
export interface GlobalSessionEntry {
  /** Id of the session. */
  zig_session_id: string;
  /** Name of the workflow. */
  workflow_name: string;
  /** The zig project directory, empty when unknown. */
  project: string;
  /** Absolute path of the session log where it was written. */
  log_path: string;
  /** When the session started. */
  started_at: string;
  /** When the session ended, `null` while it runs. */
  ended_at: string | null;
  /** How the session ended, `null` while it runs. */
  status: SessionStatus | null;
}

/** The global index of every project's sessions. */
export interface GlobalSessionIndex {
  /** Sessions in the order they started. */
  sessions: GlobalSessionEntry[];
}

/** Something wrong found while reading, reported instead of failing the read. */
export interface SessionProblem {
  /**
   * What was found: a final line without its newline (`torn_line`), a line
   * that is not a valid event (`malformed_line`), a line holding bytes that
   * are not UTF-8 (`invalid_utf8`: still read, with U+FFFD in their place,
   * but zig cannot read the log), an index that did not parse and was
   * rebuilt, its bytes kept aside, or that missed a session
   * (`corrupt_index`), an index a writer could not update
   * (`index_not_updated`, e.g. a full disk: the log is complete, rebuilding
   * the index brings it up to date), or a log that another process removed
   * while it was being read (`vanished_log`: left out, not an error).
   */
  kind:
    | "torn_line"
    | "malformed_line"
    | "invalid_utf8"
    | "corrupt_index"
    | "index_not_updated"
    | "vanished_log";
  /** The file at fault. */
  path: string;
  /** Line number (from 1) of the bad line, for line problems. */
  line?: number;
  /** Byte offset where the bad line starts, for torn lines. */
  offset?: number;
  /** Where a corrupt file was moved. */
  movedTo?: string;
  /** The bad line's text as read, for malformed lines. */
  text?: string;
  /** Why the line is not an event (the JSON parser's words), for malformed lines. */
  reason?: string;
  /** A sentence saying what was wrong. */
  message: string;
}

/** Receives the problems found while reading. */
export type ProblemHandler = (problem: SessionProblem) => void;

/**
 * The event types zig knows, in the order of zig's format description.
 *
 * @example Usage
 * ```ts
 * import { KNOWN_EVENT_TYPES } from "./types.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(KNOWN_EVENT_TYPES[0], "zig_session_started");
 * assert.equal(KNOWN_EVENT_TYPES.at(-1), "zig_session_ended");
 * ```
 */
export const KNOWN_EVENT_TYPES: readonly SessionEventType[] = Object.freeze([
  "zig_session_started",
  "tier_started",
  "step_started",
  "step_output",
  "step_completed",
  "step_failed",
  "step_skipped",
  "heartbeat",
  "zig_session_ended",
]);

const KNOWN_TYPES: ReadonlySet<string> = new Set(KNOWN_EVENT_TYPES);

/**
 * Tells whether an event type is one zig knows.
 *
 * @example Usage
 * ```ts
 * import { isKnownEventType } from "./types.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isKnownEventType("step_output"));
 * assert.ok(!isKnownEventType("agent_thought"));
 * ```
 *
 * @param type The `type` field of an event.
 * @returns `true` for the types of {@linkcode SessionEventKind}.
 */
export function isKnownEventType(type: string): type is SessionEventType {
  return KNOWN_TYPES.has(type);
}
