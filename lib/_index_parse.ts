// Internal: the index files' shape, reading them and checking them as zig
// would read them.
import { basename } from "node:path";
import { ZigError } from "./error.ts";
import { isGlobalIndexPath } from "./paths.ts";
import { fsError, readRangeSync } from "./_fs.ts";
import { isOurWrite } from "./_index_cache.ts";
import type {
  GlobalSessionEntry,
  ProblemHandler,
  SessionLogIndexEntry,
} from "./types.ts";

/** Options of the index functions. */
export interface IndexOptions {
  /**
   * Told when an index did not parse and was rebuilt (its bytes kept
   * aside), or a log vanished while an index was rebuilt. Default: a warning
   * on stderr.
   */
  onProblem?: ProblemHandler;
}

/** Options of {@linkcode updateProjectIndex} and {@linkcode updateGlobalIndex}. */
export interface UpdateIndexOptions<T> extends IndexOptions {
  /** Changes the index in place, while the lock is held. */
  update: (index: T) => void;
}

export type Scope = "project" | "global";
export type AnyEntry = SessionLogIndexEntry | GlobalSessionEntry;
export type AnyIndex = { sessions: AnyEntry[] };

const REQUIRED: Record<Scope, readonly string[]> = {
  project: [
    "zig_session_id",
    "workflow_name",
    "workflow_path",
    "log_path",
    "started_at",
  ],
  global: [
    "zig_session_id",
    "workflow_name",
    "project",
    "log_path",
    "started_at",
  ],
};
const DEFAULTED: Record<Scope, readonly string[]> = {
  project: ["ended_at", "status", "workspace_path"],
  global: ["ended_at", "status"],
};

export function scopeOf(path: string): Scope {
  return isGlobalIndexPath(path) ? "global" : "project";
}

function invalidReason(value: unknown, scope: Scope): string | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return "it is not a JSON object";
  }
  const sessions = (value as { sessions?: unknown }).sessions;
  if (!Array.isArray(sessions)) return 'it has no "sessions" array';
  for (let i = 0; i < sessions.length; i++) {
    const reason = entryProblem(sessions[i], scope);
    if (reason !== undefined) return `session ${i + 1} ${reason}`;
  }
  return undefined;
}

/**
 * Why a value is no entry of an index of `scope` ("is not an object", "has
 * no string …"), or `undefined`; a valid entry's missing optional fields are
 * set to null.
 */
export function entryProblem(entry: unknown, scope: Scope): string | undefined {
  if (entry === null || typeof entry !== "object") return "is not an object";
  const fields = entry as Record<string, unknown>;
  for (const key of REQUIRED[scope]) {
    if (typeof fields[key] !== "string") return `has no string "${key}"`;
  }
  for (const key of DEFAULTED[scope]) {
    if (fields[key] === undefined) fields[key] = null;
  }
  return undefined;
}

/** The offset of the first byte that makes `bytes` invalid UTF-8. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let lo = 0;
  let hi = bytes.length;
  // The longest valid prefix, by bisection (a cut inside a character counts
  // as invalid, which at most moves the answer back by 3 bytes).
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    try {
      strictDecoder.decode(bytes.subarray(0, mid));
      lo = mid;
    } catch {
      hi = mid - 1;
    }
  }
  return lo;
}

/** Parses an index file as read; no text is an empty index. */
export function parseFile(file: IndexFile, scope: Scope) {
  return file.invalid !== undefined
    ? { error: file.invalid }
    : parseIndex(file.text ?? "", scope);
}

/** Parses index text; `undefined` text is an empty index. */
function parseIndex(
  text: string,
  scope: Scope,
): { index?: AnyIndex; error?: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { error: (error as Error).message };
  }
  const reason = invalidReason(value, scope);
  return reason ? { error: reason } : { index: value as AnyIndex };
}

/** An index file as read. */
export interface IndexFile {
  text?: string;
  /** Whether it is still what this process last wrote. */
  ours: boolean;
  /** Why the text is not what the file holds: invalid UTF-8, which zig cannot read. */
  invalid?: string;
}

const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * The text of an index file, and whether it is still what we last wrote.
 * Bytes that are not UTF-8 make it corrupt (zig reads no such index), so that
 * they are kept aside, never rewritten as U+FFFD.
 */
export function readIndexFile(path: string): IndexFile {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { ours: false };
    throw fsError(error, { action: "read the index", path });
  }
  try {
    const info = file.statSync();
    const bytes = readRangeSync(file, { position: 0, length: info.size });
    const ours = isOurWrite(path, info);
    try {
      return { text: strictDecoder.decode(bytes), ours };
    } catch {
      const at = firstInvalidUtf8(bytes);
      return {
        text: new TextDecoder().decode(bytes),
        ours: false,
        invalid: `it is not valid UTF-8 (byte ${at}), which zig cannot read`,
      };
    }
  } catch (error) {
    throw fsError(error, { action: "read the index", path });
  } finally {
    file.close();
  }
}

/** Whether "sessions" is the index's last key, as zig writes it. */
export function sessionsLast(index: AnyIndex): boolean {
  const keys = Object.keys(index);
  return keys[keys.length - 1] === "sessions";
}

/** Whether an entry has the string fields its index requires. */
export function completeEntry(entry: unknown, scope: Scope): entry is AnyEntry {
  if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
    return false;
  }
  const record = entry as Record<string, unknown>;
  return REQUIRED[scope].every((key) => typeof record[key] === "string");
}

/** Throws unless `path` names an index file. */
export function assertIndexPath(path: string): void {
  const name = basename(path);
  if (name !== "index.json" && name !== "sessions_index.json") {
    throw new ZigError(
      `Not an index file: "${path}", expected logs/index.json or sessions_index.json`,
      { kind: "parse", path },
    );
  }
}
