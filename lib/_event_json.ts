// Internal: validation and serialization of events in zig's key order.
import { ZigError } from "./error.ts";
import type { SessionEventKind, SessionEventType } from "./types.ts";
import { isKnownEventType } from "./types.ts";

type FieldType =
  | "string"
  | "string?"
  | "uint"
  | "int"
  | "int?"
  | "strings"
  | "stream"
  | "status";

const FIELDS: Record<SessionEventType, ReadonlyArray<[string, FieldType]>> = {
  zig_session_started: [
    ["workflow_name", "string"],
    ["workflow_path", "string"],
    ["workspace_path", "string?"],
    ["cwd", "string?"],
    ["prompt", "string?"],
    ["tier_count", "uint"],
  ],
  tier_started: [["tier_index", "uint"], ["step_names", "strings"]],
  step_started: [
    ["step_name", "string"],
    ["tier_index", "uint"],
    ["zag_session_id", "string"],
    ["zag_command", "string"],
    ["model", "string?"],
    ["prompt_preview", "string"],
  ],
  step_output: [["step_name", "string"], ["stream", "stream"], [
    "line",
    "string",
  ]],
  step_completed: [
    ["step_name", "string"],
    ["exit_code", "int"],
    ["duration_ms", "uint"],
    ["saved_vars", "strings"],
  ],
  step_failed: [
    ["step_name", "string"],
    ["exit_code", "int?"],
    ["attempt", "uint"],
    ["error", "string"],
  ],
  step_skipped: [["step_name", "string"], ["reason", "string"]],
  heartbeat: [["interval_secs", "uint"]],
  zig_session_ended: [["status", "status"], ["duration_ms", "uint"]],
};

const ENVELOPE = new Set(["seq", "ts", "zig_session_id"]);

function fits(value: unknown, type: FieldType): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "string?":
      return value === null || typeof value === "string";
    case "uint":
      return Number.isSafeInteger(value) && (value as number) >= 0;
    case "int":
      return Number.isSafeInteger(value);
    case "int?":
      return value === null || Number.isSafeInteger(value);
    case "strings":
      return Array.isArray(value) && value.every((v) => typeof v === "string");
    case "stream":
      return value === "stdout" || value === "stderr";
    case "status":
      return value === "success" || value === "failure";
  }
}

const EXPECTED: Record<FieldType, string> = {
  "string": "a string",
  "string?": "a string or null",
  "uint": "a non-negative integer",
  "int": "an integer",
  "int?": "an integer or null",
  "strings": "an array of strings",
  "stream": '"stdout" or "stderr"',
  "status": '"success" or "failure"',
};

/**
 * Puts an event kind into zig's key order, with `null` for absent optional
 * fields and unknown fields after the known ones, and checks every known
 * field's type, so that zig can read what we write.
 */
export function normalizeKind(
  kind: SessionEventKind | { type: string; [field: string]: unknown },
): Record<string, unknown> {
  if (kind === null || typeof kind !== "object" || Array.isArray(kind)) {
    throw new ZigError(
      `Invalid event kind ${JSON.stringify(kind)}: expected an object`,
      { kind: "parse" },
    );
  }
  const type = kind.type;
  if (typeof type !== "string" || type === "") {
    throw new ZigError(
      `Invalid event kind: "type" must be a non-empty string, got ${
        JSON.stringify(type)
      }`,
      { kind: "parse" },
    );
  }
  const source = kind as Record<string, unknown>;
  for (const key of ENVELOPE) {
    if (key in source) {
      throw new ZigError(
        `Invalid ${type} event: "${key}" is set by the writer, leave it out`,
        { kind: "parse" },
      );
    }
  }
  const out: Record<string, unknown> = { type };
  if (!isKnownEventType(type)) {
    for (const key in source) out[key] = source[key];
    return out;
  }
  const fields = FIELDS[type];
  for (const [name, fieldType] of fields) {
    let value = source[name];
    if (value === undefined && fieldType.endsWith("?")) value = null;
    if (!fits(value, fieldType)) {
      throw new ZigError(
        `Invalid ${type} event: "${name}" must be ${EXPECTED[fieldType]}, got ${
          JSON.stringify(value) ?? "undefined"
        }`,
        { kind: "parse" },
      );
    }
    out[name] = value;
  }
  for (const key in source) {
    if (!(key in out)) out[key] = source[key];
  }
  return out;
}

// A lone surrogate as JSON.stringify escapes it (lowercase hex; a surrogate in
// a well-formed pair is written as is), with the backslashes before it.
const LONE_SURROGATE = /(\\+)u(d[89a-f][0-9a-f]{2})/g;

/**
 * Makes JSON text from `JSON.stringify` readable by zig: every lone
 * surrogate, which `JSON.stringify` writes as a `\udXXX` escape that zig
 * (serde_json) rejects, becomes U+FFFD, in values and keys alike. Costs one
 * substring search when there is none.
 */
export function wellFormedJson(json: string): string {
  if (!json.includes("\\ud")) return json;
  return json.replace(
    LONE_SURROGATE,
    (match, slashes: string) =>
      // An even number of backslashes is escaped backslashes, then text.
      slashes.length % 2 === 0 ? match : slashes.slice(1) + "\ufffd",
  );
}

/** A string with every lone surrogate replaced by U+FFFD. */
export function wellFormed(text: string): string {
  return text.isWellFormed() ? text : text.toWellFormed();
}

/** One log line, without its newline, for an already normalized kind. */
export function serializeEvent(
  envelope: { seq: number; ts: string; zig_session_id: string },
  normalized: Record<string, unknown>,
): string {
  const event: Record<string, unknown> = {
    seq: envelope.seq,
    ts: envelope.ts,
    zig_session_id: envelope.zig_session_id,
  };
  for (const key in normalized) event[key] = normalized[key];
  return wellFormedJson(JSON.stringify(event));
}
