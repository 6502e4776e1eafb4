// Internal: the index files' locked reads, changes and rebuilds.
import { basename, dirname, join } from "node:path";
import { ZigError } from "./error.ts";
import { wellFormedJson } from "./_event_json.ts";
import {
  existsSync,
  fsError,
  readRangeSync,
  readTextIfExistsSync,
  replaceFileSync,
  withLockSync,
} from "./_fs.ts";
import { summarizeLog } from "./log_summary.ts";
import { assertInsideHome, escapeOf, homeOfIndex } from "./_confine.ts";
import { reportProblem } from "./_problems.ts";
import { compareTimestamps } from "./timestamp.ts";
import type {
  GlobalSessionEntry,
  ProblemHandler,
  SessionLogIndexEntry,
  SessionStatus,
} from "./types.ts";

/** Options of the index functions. */
export interface IndexOptions {
  /**
   * Told when an index did not parse and was moved aside and rebuilt.
   * Default: a warning on stderr.
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
  return basename(path) === "sessions_index.json" ? "global" : "project";
}

function invalidReason(value: unknown, scope: Scope): string | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return "it is not a JSON object";
  }
  const sessions = (value as { sessions?: unknown }).sessions;
  if (!Array.isArray(sessions)) return 'it has no "sessions" array';
  for (let i = 0; i < sessions.length; i++) {
    const entry = sessions[i];
    if (entry === null || typeof entry !== "object") {
      return `session ${i + 1} is not an object`;
    }
    for (const key of REQUIRED[scope]) {
      if (typeof entry[key] !== "string") {
        return `session ${i + 1} has no string "${key}"`;
      }
    }
    for (const key of DEFAULTED[scope]) {
      if (entry[key] === undefined) entry[key] = null;
    }
  }
  return undefined;
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

function compactTime(): string {
  return new Date().toISOString().replace(/[-:]/g, "").replace(".", "-");
}

/**
 * Identity (device, inode, size, modification time) of each index file as
 * this process last wrote it. Every write replaces the file with a new inode,
 * so a file with the same identity is still the text we wrote and validated:
 * it need not be parsed again.
 */
const ourWrites = new Map<string, string>();

function identityOf(info: Deno.FileInfo): string {
  return `${info.dev}:${info.ino}:${info.size}:${info.mtime?.getTime()}`;
}

/** The text of an index file, and whether it is still what we last wrote. */
function readIndexFile(path: string): { text?: string; ours: boolean } {
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
    const text = new TextDecoder().decode(bytes);
    return { text, ours: ourWrites.get(path) === identityOf(info) };
  } catch (error) {
    throw fsError(error, { action: "read the index", path });
  } finally {
    file.close();
  }
}

/**
 * Replaces an index file. `canonical` says the text is pretty JSON whose last
 * key is "sessions", so that a later splice may trust it without parsing.
 */
function writeIndexFile(path: string, text: string, canonical: boolean): void {
  replaceFileSync(path, text);
  ourWrites.delete(path);
  if (canonical) {
    try {
      ourWrites.set(path, identityOf(Deno.statSync(path)));
    } catch {
      // Not knowing the identity only costs a parse next time.
    }
  }
}

/** Whether "sessions" is the index's last key, as zig writes it. */
function sessionsLast(index: AnyIndex): boolean {
  const keys = Object.keys(index);
  return keys[keys.length - 1] === "sessions";
}

export function writeIndex(path: string, index: AnyIndex): void {
  writeIndexFile(
    path,
    wellFormedJson(JSON.stringify(index, null, 2)),
    sessionsLast(index),
  );
}

/**
 * Reads an index while its lock is held. A corrupt index is moved aside and
 * rebuilt from the logs.
 */
function readLocked(
  path: string,
  options: {
    scope: Scope;
    onProblem: ProblemHandler | undefined;
    file?: { text?: string };
  },
): { index: AnyIndex; text?: string } {
  const { scope, onProblem } = options;
  const text = (options.file ?? readIndexFile(path)).text;
  if (text === undefined) return { index: { sessions: [] } };
  const parsed = parseIndex(text, scope);
  if (parsed.index) return { index: parsed.index, text };
  const movedTo = `${path}.corrupt-${compactTime()}`;
  try {
    Deno.renameSync(path, movedTo);
  } catch (error) {
    throw fsError(error, { action: "move the corrupt index aside", path });
  }
  const index = buildIndex(path, scope);
  writeIndex(path, index);
  reportProblem(onProblem, {
    kind: "corrupt_index",
    path,
    movedTo,
    message:
      `The index ${path} did not parse (${parsed.error}): moved it to ${movedTo} and rebuilt it from the logs (${index.sessions.length} sessions)`,
  });
  return { index };
}

/**
 * The lock of an index. Every locked operation on an index starts here, so
 * this is where the index is checked to lie inside its zig home after
 * resolving symbolic links: nothing beside it (lock, temporary file, corrupt
 * copy) is then read or written through a link that leads out of the home.
 */
export function lockPath(path: string): string {
  assertInsideHome(path, homeOfIndex(path));
  return `${path}.lock`;
}

export function loadIndex(
  path: string,
  options: IndexOptions & { scope: Scope },
) {
  const { scope } = options;
  assertInsideHome(path, homeOfIndex(path));
  const text = readTextIfExistsSync(path);
  if (text === undefined) return { sessions: [] };
  const parsed = parseIndex(text, scope);
  if (parsed.index) return parsed.index;
  // Corrupt: recover under the lock (another process may have done it).
  return withLockSync(
    lockPath(path),
    () => readLocked(path, { scope, onProblem: options.onProblem }).index,
  );
}

export function updateIndex(
  path: string,
  options: UpdateIndexOptions<AnyIndex> & { scope: Scope },
): void {
  withLockSync(lockPath(path), () => {
    const { index } = readLocked(path, {
      scope: options.scope,
      onProblem: options.onProblem,
    });
    options.update(index);
    writeIndex(path, index);
  });
}

const CLOSING = "\n  ]\n}";

function entryBlock(entry: AnyEntry): string {
  return "    " +
    wellFormedJson(JSON.stringify(entry, null, 2)).replaceAll("\n", "\n    ");
}

/** What {@linkcode putEntry} does to an entry. */
interface PutEntryOptions extends IndexOptions {
  id: string;
  change: (old: AnyEntry | undefined) => AnyEntry | undefined;
}

/**
 * Inserts or replaces one entry under the lock. When the file is in the
 * pretty form zig writes, the change is spliced into its text instead of
 * serializing the whole index again; when the file is still the one this
 * process wrote, it is not even parsed again.
 */
function putEntry(path: string, scope: Scope, options: PutEntryOptions): void {
  withLockSync(lockPath(path), () => {
    const file = readIndexFile(path);
    if (file.ours && file.text !== undefined) {
      const spliced = spliceTrusted(file.text, options);
      if (spliced === null) return;
      if (spliced !== undefined) return writeIndexFile(path, spliced, true);
    }
    const { index, text } = readLocked(path, {
      scope,
      onProblem: options.onProblem,
      file,
    });
    const sessions = index.sessions;
    const at = sessions.findIndex((e) => e.zig_session_id === options.id);
    const old = at < 0 ? undefined : sessions[at];
    const next = options.change(old);
    if (next === undefined) return;
    if (text !== undefined) {
      const spliced = old === undefined
        ? spliceAppend(text, index, next)
        : spliceReplace(text, old, next);
      if (spliced !== undefined) {
        return writeIndexFile(path, spliced, sessionsLast(index));
      }
    }
    if (at < 0) sessions.push(next);
    else sessions[at] = next;
    writeIndex(path, index);
  });
}

/**
 * Where the pretty block of the entry with this id stands in the text:
 * `null` when the id is not in the text, `undefined` when it is but not
 * inside a block shaped as zig writes it.
 */
function locateBlock(
  text: string,
  id: string,
): { start: number; end: number } | null | undefined {
  const at = text.indexOf(`"zig_session_id": ${JSON.stringify(id)}`);
  if (at < 0) return null;
  const start = text.lastIndexOf("\n    {", at) + 1;
  const close = text.indexOf("\n    }", at);
  if (start <= 0 || close < 0) return undefined;
  return { start, end: close + "\n    }".length };
}

/** The text with an entry added as the last of a non-empty pretty array. */
function appendBlock(text: string, entry: AnyEntry): string | undefined {
  const cut = text.length - CLOSING.length;
  if (!text.endsWith(CLOSING) || !text.endsWith("\n    }", cut)) {
    return undefined;
  }
  return text.slice(0, cut) + ",\n" + entryBlock(entry) + CLOSING;
}

/** The text with the block at `block` replaced by an entry's. */
function replaceBlock(
  text: string,
  block: { start: number; end: number; entry: AnyEntry },
): string {
  return text.slice(0, block.start) + entryBlock(block.entry) +
    text.slice(block.end);
}

/**
 * Splices a change into text this process wrote (so known valid and
 * canonical) without parsing it. Returns `null` for no change and
 * `undefined` when the text is not in the expected shape.
 */
function spliceTrusted(
  text: string,
  options: PutEntryOptions,
): string | null | undefined {
  const block = locateBlock(text, options.id);
  if (block === undefined) return undefined;
  if (block === null) {
    const next = options.change(undefined);
    return next === undefined ? null : appendBlock(text, next);
  }
  let old: AnyEntry;
  try {
    old = JSON.parse(text.slice(block.start, block.end));
  } catch {
    return undefined;
  }
  if (
    old.zig_session_id !== options.id ||
    text.slice(block.start, block.end) !== entryBlock(old)
  ) {
    return undefined;
  }
  const next = options.change(old);
  return next === undefined
    ? null
    : replaceBlock(text, { ...block, entry: next });
}

/** Splices a new entry into parsed, validated index text. */
function spliceAppend(
  text: string,
  index: AnyIndex,
  entry: AnyEntry,
): string | undefined {
  return index.sessions.length > 0 && sessionsLast(index)
    ? appendBlock(text, entry)
    : undefined;
}

/** Splices a changed entry into parsed, validated index text. */
function spliceReplace(
  text: string,
  old: AnyEntry,
  entry: AnyEntry,
): string | undefined {
  const block = locateBlock(text, old.zig_session_id);
  if (!block || text.slice(block.start, block.end) !== entryBlock(old)) {
    return undefined;
  }
  return replaceBlock(text, { ...block, entry });
}

/** The logs in `dir`; none when `dir` resolves outside the zig home. */
function listLogs(dir: string, home: string): string[] {
  const logs: string[] = [];
  if (escapeOf(dir, home) !== undefined) return logs; // never read
  try {
    for (const item of Deno.readDirSync(dir)) {
      if (item.isFile && item.name.endsWith(".jsonl")) {
        logs.push(join(dir, item.name));
      }
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return logs;
    throw fsError(error, { action: "list the session logs", path: dir });
  }
  return logs;
}

/** Every session log under a zig home, by project dir. */
function allLogs(home: string): Array<{ project: string; log: string }> {
  const found = listLogs(join(home, "logs", "sessions"), home).map((log) => ({
    project: home,
    log,
  }));
  const projects = join(home, "projects");
  if (existsSync(projects)) {
    try {
      for (const item of Deno.readDirSync(projects)) {
        if (!item.isDirectory) continue;
        const project = join(projects, item.name);
        for (const log of listLogs(join(project, "logs", "sessions"), home)) {
          found.push({ project, log });
        }
      }
    } catch (error) {
      throw fsError(error, { action: "list the projects", path: projects });
    }
  }
  return found;
}

interface LogFacts {
  id: string;
  workflow_name: string;
  workflow_path: string;
  workspace_path: string | null;
  started_at: string;
  ended_at: string | null;
  status: SessionStatus | null;
}

function factsOf(log: string): LogFacts | undefined {
  const { first, last } = summarizeLog(log);
  if (!first || first.type !== "zig_session_started") return undefined;
  const ended = last?.type === "zig_session_ended" &&
    (last.status === "success" || last.status === "failure");
  return {
    id: String(first.zig_session_id ?? basename(log, ".jsonl")),
    workflow_name: String(first.workflow_name ?? ""),
    workflow_path: String(first.workflow_path ?? ""),
    workspace_path: typeof first.workspace_path === "string"
      ? first.workspace_path
      : null,
    started_at: String(first.ts ?? ""),
    ended_at: ended ? String(last.ts) : null,
    status: ended ? last.status as SessionStatus : null,
  };
}

export function buildIndex(path: string, scope: Scope): AnyIndex {
  const sessions: AnyEntry[] = [];
  if (scope === "project") {
    const project = dirname(dirname(path));
    const home = homeOfIndex(path);
    for (const log of listLogs(join(dirname(path), "sessions"), home)) {
      const f = factsOf(log);
      if (!f) continue;
      sessions.push({
        zig_session_id: f.id,
        workflow_name: f.workflow_name,
        workflow_path: f.workflow_path,
        log_path: log,
        started_at: f.started_at,
        ended_at: f.ended_at,
        status: f.status,
        workspace_path: f.workspace_path ?? project,
      });
    }
  } else {
    for (const { project, log } of allLogs(dirname(path))) {
      const f = factsOf(log);
      if (!f) continue;
      sessions.push({
        zig_session_id: f.id,
        workflow_name: f.workflow_name,
        project: f.workspace_path ?? project,
        log_path: log,
        started_at: f.started_at,
        ended_at: f.ended_at,
        status: f.status,
      });
    }
  }
  sessions.sort((a, b) => compareTimestamps(a.started_at, b.started_at));
  return { sessions };
}

/** Adds or replaces one session's entry. */
export function putIndexEntry(
  path: string,
  options: IndexOptions & { entry: AnyEntry },
): void {
  const entry = options.entry;
  putEntry(path, scopeOf(path), {
    onProblem: options.onProblem,
    id: entry.zig_session_id,
    change: () => entry,
  });
}

/** Stamps how a session ended into its entry. */
export function stampIndexEntry(
  path: string,
  options: IndexOptions & {
    id: string;
    endedAt: string;
    status: SessionStatus;
  },
): boolean {
  let found = false;
  putEntry(path, scopeOf(path), {
    onProblem: options.onProblem,
    id: options.id,
    change(old) {
      if (old === undefined) return undefined;
      found = true;
      return { ...old, ended_at: options.endedAt, status: options.status };
    },
  });
  return found;
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
