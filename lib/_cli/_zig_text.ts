// Internal to the CLI: events as `zig listen` prints them, byte for byte
// (zig's zig-core/src/listen.rs, `format_event_text`), for `listen` and
// `events`. Colors and timestamps are extras laid over zig's text, never in it.
import type { SessionLogEvent } from "../../mod.ts";
import { type Palette, palette, visible, type Writer } from "./common.ts";

type Field = "string" | "string?" | "uint" | "strings" | "status";

/** The fields zig needs to print each event type, and their types. */
const TEXT_FIELDS: Record<string, ReadonlyArray<[string, Field]>> = {
  zig_session_started: [["workflow_name", "string"], ["tier_count", "uint"]],
  tier_started: [["tier_index", "uint"], ["step_names", "strings"]],
  step_started: [
    ["step_name", "string"],
    ["zag_command", "string"],
    ["model", "string?"],
    ["zag_session_id", "string"],
  ],
  step_output: [["step_name", "string"], ["line", "string"]],
  step_completed: [
    ["step_name", "string"],
    ["duration_ms", "uint"],
    ["saved_vars", "strings"],
  ],
  step_failed: [
    ["step_name", "string"],
    ["attempt", "uint"],
    ["error", "string"],
  ],
  step_skipped: [["step_name", "string"], ["reason", "string"]],
  heartbeat: [["interval_secs", "uint"]],
  zig_session_ended: [["status", "status"], ["duration_ms", "uint"]],
};

const EXPECTED: Record<Field, string> = {
  "string": "a string",
  "string?": "a string or null",
  "uint": "a non-negative integer",
  "strings": "an array of strings",
  "status": '"success" or "failure"',
};

function fits(value: unknown, field: Field): boolean {
  switch (field) {
    case "string":
      return typeof value === "string";
    case "string?":
      return value === undefined || value === null || typeof value === "string";
    case "uint":
      return Number.isSafeInteger(value) && (value as number) >= 0;
    case "strings":
      return Array.isArray(value) && value.every((v) => typeof v === "string");
    case "status":
      return value === "success" || value === "failure";
  }
}

/**
 * Why zig's listen could not print a line for this event: an event type it
 * does not know, or a field its line needs missing or of the wrong type (zig
 * reports such a line as a parse error). `undefined` when it can.
 */
export function zigEventProblem(event: SessionLogEvent): string | undefined {
  if (
    event === null || typeof event !== "object" ||
    typeof event.type !== "string"
  ) {
    return 'not an event object with a "type"';
  }
  const fields = Object.hasOwn(TEXT_FIELDS, event.type)
    ? TEXT_FIELDS[event.type]
    : undefined;
  if (!fields) return `unknown event type "${event.type}"`;
  const record = event as unknown as Record<string, unknown>;
  for (const [name, field] of fields) {
    if (!fits(record[name], field)) {
      return `field "${name}" of ${event.type} must be ${
        EXPECTED[field]
      }, got ${JSON.stringify(record[name]) ?? "nothing"}`;
    }
  }
  return undefined;
}

/**
 * The line `zig listen` prints for an event, without its newline and without
 * colors; `undefined` for a heartbeat (zig prints nothing) and for an event
 * zig could not read ({@linkcode zigEventProblem} says why). Pure.
 */
export function zigEventText(event: SessionLogEvent): string | undefined {
  if (zigEventProblem(event) !== undefined) return undefined;
  switch (event.type) {
    case "zig_session_started":
      return `▶ zig session started: ${event.workflow_name} (${event.tier_count} tier${
        event.tier_count === 1 ? "" : "s"
      })`;
    case "tier_started":
      return `── tier ${event.tier_index + 1} (${event.step_names.join(", ")})`;
    case "step_started":
      return `  running step '${event.step_name}' (zag ${event.zag_command}${
        typeof event.model === "string" ? ` model=${event.model}` : ""
      }, session=${event.zag_session_id})...`;
    case "step_output":
      return `[${event.step_name}] ${event.line}`;
    case "step_completed":
      return `  completed '${event.step_name}' in ${event.duration_ms}ms${
        event.saved_vars.length > 0
          ? ` (saved: ${event.saved_vars.join(", ")})`
          : ""
      }`;
    case "step_failed":
      return `  step '${event.step_name}' failed (attempt ${event.attempt}): ${event.error}`;
    case "step_skipped":
      return `  skipping '${event.step_name}' (${event.reason})`;
    case "zig_session_ended":
      return `■ zig session ended (${
        event.status === "success" ? "Success" : "Failure"
      }) in ${event.duration_ms}ms`;
    default:
      return undefined; // heartbeat
  }
}

const MAX_BYTES = 80;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * zig's stderr line for a log line that does not parse, without its newline:
 * `[parse error] <error>: <line>`, the line trimmed and cut to its first 80
 * bytes (at a character boundary) followed by `…` when it is longer.
 */
export function zigParseError(error: string, line: string): string {
  const trimmed = line.trim();
  const bytes = encoder.encode(trimmed);
  let shown = trimmed;
  if (bytes.length > MAX_BYTES) {
    let end = MAX_BYTES;
    while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
    shown = decoder.decode(bytes.subarray(0, end)) + "…";
  }
  return `[parse error] ${error}: ${shown}`;
}

/**
 * Writes zig's parse-error line for a line that is not an event to `err`,
 * control characters shown visibly on a terminal.
 */
export function writeZigParseError(
  err: Writer,
  problem: { reason: string; text: string },
): void {
  const line = zigParseError(problem.reason, problem.text);
  err.write((err.isTerminal ? visible(line) : line) + "\n");
}

/** zig's stderr line when `listen` starts, without its newline. */
export function zigListening(logPath: string): string {
  return `listening to session log: ${logPath}`;
}

/** Our own line for an event zig's listen prints nothing for (`events` shows every event). */
function ownEventText(event: SessionLogEvent): string {
  if (event.type === "heartbeat" && zigEventProblem(event) === undefined) {
    return "♥ heartbeat";
  }
  const { seq: _s, ts: _t, zig_session_id: _z, type, ...rest } =
    event as unknown as Record<string, unknown>;
  return `${type} ${JSON.stringify(rest)}`;
}

/** The terminal style of an event's whole line (colors never change its text). */
function styleOf(event: SessionLogEvent, p: Palette): (text: string) => string {
  switch (event.type) {
    case "zig_session_started":
    case "tier_started":
      return p.bold;
    case "step_started":
      return p.cyan;
    case "step_output":
      // The stream marker: stderr lines stand out on a terminal.
      return event.stream === "stderr" ? p.yellow : (text) => text;
    case "step_completed":
      return p.green;
    case "step_failed":
      return p.red;
    case "zig_session_ended":
      return (text) =>
        p.bold(event.status === "success" ? p.green(text) : p.red(text));
    default:
      return p.dim;
  }
}

/** Options of {@linkcode eventLine}. */
export interface EventLineOptions {
  /** Where the line goes: colors only when it allows them. */
  out: Writer;
  /** Prefix the line with the event's timestamp. */
  timestamps?: boolean;
  /**
   * Give a line of our own to the events zig prints nothing for (heartbeats,
   * types or fields zig does not know), as `events` does: it lists every
   * event it selects.
   */
  all?: boolean;
}

/**
 * The line `listen` and `events` print for an event, without its newline:
 * zig's text, with a timestamp before it and terminal colors over it when
 * asked; `undefined` when there is none to print.
 */
export function eventLine(
  event: SessionLogEvent,
  options: EventLineOptions,
): string | undefined {
  if (event === null || typeof event !== "object") {
    // Not an event at all (a JSON line such as `42`): shown as it is.
    return options.all ? JSON.stringify(event) : undefined;
  }
  const text = zigEventText(event) ??
    (options.all ? ownEventText(event) : undefined);
  if (text === undefined) return undefined;
  // zig's bytes exactly, for scripts reading a pipe; on a terminal, control
  // characters from the log are shown visibly (before any styling) so that
  // they cannot drive it.
  const shown = options.out.isTerminal ? visible : (s: string) => s;
  const p = palette(options.out);
  const line = styleOf(event, p)(shown(text));
  return options.timestamps
    ? `${p.dim(shown(String(event.ts)))} ${line}`
    : line;
}
