// Internal: the index files' locked reads, changes and rebuilds.
import { basename, dirname, join } from "node:path";
import { ZigError } from "./error.ts";
import { wellFormedJson } from "./_event_json.ts";
import {
  existsSync,
  fsError,
  listNamesSync,
  readRangeSync,
  readTextIfExistsSync,
  removeStaleTempsSync,
  replaceFileSync,
  withLockSync,
  writeTempSync,
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
  return basename(path) === "sessions_index.json" ? "global" : "project";
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
 * Replaces an index file, under its lock. `canonical` says the text is pretty
 * JSON whose last key is "sessions", so that a later splice may trust it
 * without parsing. Temporary files of writers that died holding the lock are
 * removed first; the pending markers of the sessions `indexed` says the new
 * text holds are removed after.
 */
function writeIndexFile(
  path: string,
  options: {
    text: string;
    canonical: boolean;
    indexed?: (id: string) => boolean;
    rebuilt?: boolean;
  },
): void {
  const names = listNamesSync(dirname(path));
  removeStaleTempsSync(path, names);
  replaceFileSync(path, options.text);
  ourWrites.delete(path);
  if (options.canonical) {
    try {
      ourWrites.set(path, identityOf(Deno.statSync(path)));
    } catch {
      // Not knowing the identity only costs a parse next time.
    }
  }
  if (options.indexed) {
    removeResolvedMarkers(path, {
      names,
      indexed: options.indexed,
      rebuilt: options.rebuilt ?? false,
    });
  }
}

/** Whether "sessions" is the index's last key, as zig writes it. */
function sessionsLast(index: AnyIndex): boolean {
  const keys = Object.keys(index);
  return keys[keys.length - 1] === "sessions";
}

export function writeIndex(
  path: string,
  index: AnyIndex,
  options: { rebuilt?: boolean } = {},
): void {
  let ids: Set<string> | undefined;
  writeIndexFile(path, {
    text: wellFormedJson(JSON.stringify(index, null, 2)),
    canonical: sessionsLast(index),
    indexed: (id) =>
      (ids ??= new Set(index.sessions.map((e) => e.zig_session_id))).has(id),
    rebuilt: options.rebuilt,
  });
}

/**
 * Reads an index while its lock is held. A corrupt index is recovered:
 * its bytes are copied aside first, then the index rebuilt from the logs is
 * written to a temporary file and renamed over it. At every instant the index
 * is the corrupt file or the complete rebuild: a crash midway leaves the
 * corrupt index, recovered again by the next reader, and a rebuild that
 * cannot be written (a full disk) is an error that leaves it in place.
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
  const aside = keepAside(path, parsed.error!);
  let index: AnyIndex;
  try {
    index = buildIndex(path, { scope, onProblem });
    writeIndex(path, index, { rebuilt: true });
  } catch (error) {
    // The corrupt index is still in place: a copy made now is not needed.
    if (aside.made) removeIfPresent(aside.path);
    throw cannotRebuild(path, { reason: parsed.error!, error });
  }
  reportProblem(onProblem, {
    kind: "corrupt_index",
    path,
    movedTo: aside.path,
    message:
      `The index ${path} did not parse (${parsed.error}): kept its bytes in ${aside.path} and rebuilt it from the logs (${index.sessions.length} sessions)`,
  });
  return { index };
}

function cannotRebuild(
  path: string,
  options: { reason: string; error: unknown },
): ZigError {
  const { reason, error } = options;
  const cause = fsError(error, { action: "rebuild the index", path });
  return new ZigError(
    `Cannot rebuild the corrupt index ${path} (${reason}), so it was left in place: ${cause.message}`,
    { kind: cause.kind, path, cause: error },
  );
}

function removeIfPresent(path: string): void {
  try {
    Deno.removeSync(path);
  } catch {
    // Already gone.
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Copies a corrupt index's bytes to `<index>.corrupt-<time>` (through a
 * temporary file, so that a crash never leaves a partial copy), unless an
 * earlier recovery that did not finish already kept the same bytes there.
 */
function keepAside(
  path: string,
  reason: string,
): { path: string; made: boolean } {
  const dir = dirname(path);
  const prefix = `${basename(path)}.corrupt-`;
  try {
    const bytes = Deno.readFileSync(path);
    for (const name of listNamesSync(dir)) {
      if (!name.startsWith(prefix)) continue;
      const other = join(dir, name);
      try {
        const info = Deno.lstatSync(other);
        if (!info.isFile || info.size !== bytes.length) continue;
        if (sameBytes(Deno.readFileSync(other), bytes)) {
          return { path: other, made: false };
        }
      } catch {
        // Vanished or unreadable: not a copy to rely on.
      }
    }
    let target = `${path}.corrupt-${compactTime()}`;
    for (let n = 2; existsSync(target); n++) {
      target = `${path}.corrupt-${compactTime()}-${n}`;
    }
    const temp = writeTempSync(path, bytes);
    try {
      Deno.renameSync(temp, target);
    } catch (error) {
      removeIfPresent(temp);
      throw error;
    }
    return { path: target, made: true };
  } catch (error) {
    throw cannotRebuild(path, { reason, error });
  }
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
    const indexed = (id: string) => id === options.id;
    if (file.ours && file.text !== undefined) {
      const spliced = spliceTrusted(file.text, options);
      if (spliced === null) return;
      if (spliced !== undefined) {
        return writeIndexFile(path, {
          text: spliced,
          canonical: true,
          indexed,
        });
      }
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
        return writeIndexFile(path, {
          text: spliced,
          canonical: sessionsLast(index),
          indexed,
        });
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

/**
 * What a log's first and last lines say, or `undefined` when it has no
 * `zig_session_started` first line or has vanished (reported when
 * `onProblem` is given: another process such as gc removed it meanwhile).
 */
function factsOf(
  log: string,
  onProblem?: ProblemHandler | false,
): LogFacts | undefined {
  let first: Record<string, unknown> | undefined;
  let last: Record<string, unknown> | undefined;
  try {
    ({ first, last } = summarizeLog(log));
  } catch (error) {
    if (!(error instanceof ZigError && error.kind === "not_found")) throw error;
    if (onProblem !== false) {
      reportProblem(onProblem, {
        kind: "vanished_log",
        path: log,
        message:
          `The session log ${log} vanished while it was being read (another process removed it): left it out`,
      });
    }
    return undefined;
  }
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
    ended_at: ended ? String(last!.ts) : null,
    status: ended ? last!.status as SessionStatus : null,
  };
}

/** The entry an index of `scope` has for a log of the project dir `project`. */
function entryOf(
  log: string,
  options: {
    scope: Scope;
    project: string;
    onProblem?: ProblemHandler | false;
  },
): AnyEntry | undefined {
  const f = factsOf(log, options.onProblem);
  if (!f) return undefined;
  const workspace = f.workspace_path ?? options.project;
  const common = {
    zig_session_id: f.id,
    workflow_name: f.workflow_name,
  };
  return options.scope === "project"
    ? {
      ...common,
      workflow_path: f.workflow_path,
      log_path: log,
      started_at: f.started_at,
      ended_at: f.ended_at,
      status: f.status,
      workspace_path: workspace,
    }
    : {
      ...common,
      project: workspace,
      log_path: log,
      started_at: f.started_at,
      ended_at: f.ended_at,
      status: f.status,
    };
}

/**
 * An index built from the logs. A log that vanishes meanwhile is left out
 * and reported to `onProblem` (default: a warning on stderr).
 */
export function buildIndex(
  path: string,
  options: { scope: Scope; onProblem?: ProblemHandler },
): AnyIndex {
  const { scope, onProblem } = options;
  const logs = scope === "project"
    ? listLogs(join(dirname(path), "sessions"), homeOfIndex(path)).map((
      log,
    ) => ({
      project: dirname(dirname(path)),
      log,
    }))
    : allLogs(dirname(path));
  const sessions: AnyEntry[] = [];
  for (const { project, log } of logs) {
    const entry = entryOf(log, { scope, project, onProblem });
    if (entry) sessions.push(entry);
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

/** What {@linkcode stampIndexEntry} did. */
export type StampResult = "stamped" | "restored" | "vanished";

/**
 * Stamps how a session ended into its entry. When the entry is gone (the
 * index was rebuilt or edited meanwhile), `restore` makes it again from the
 * log, under the lock; when the log is gone too (gc removed the ended
 * session meanwhile), nothing is written.
 */
export function stampIndexEntry(
  path: string,
  options: IndexOptions & {
    id: string;
    endedAt: string;
    status: SessionStatus;
    restore: () => AnyEntry | undefined;
  },
): StampResult {
  let result: StampResult = "vanished";
  putEntry(path, scopeOf(path), {
    onProblem: options.onProblem,
    id: options.id,
    change(old) {
      if (old === undefined) {
        const entry = options.restore();
        result = entry === undefined ? "vanished" : "restored";
        return entry;
      }
      result = "stamped";
      return { ...old, ended_at: options.endedAt, status: options.status };
    },
  });
  return result;
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

/*
 * Pending markers. A writer creates `<index>.pending-<id>` beside each index
 * before it creates a session's log, and the marker goes once the session's
 * entry is in that index. A writer killed in between leaves the marker: it
 * makes the log visible to readers (one small directory listing, not a scan
 * of every log) until the entry is restored.
 */

const PENDING = ".pending-";
/** A marker older than this without a listable log belongs to no live writer. */
const STALE_MARKER_MS = 60_000;

function pendingPrefix(indexPath: string): string {
  return basename(indexPath) + PENDING;
}

/** The ids of the sessions marked pending beside an index. */
function pendingIds(indexPath: string, names?: readonly string[]): string[] {
  const prefix = pendingPrefix(indexPath);
  return (names ?? listNamesSync(dirname(indexPath)))
    .filter((name) => name.startsWith(prefix))
    .map((name) => name.slice(prefix.length))
    .filter((id) => /^[A-Za-z0-9._-]+$/.test(id) && id !== "." && id !== "..");
}

/**
 * Where the log of a pending session is: beside a project index by the
 * layout; for the global index, wherever the layout has it under the zig
 * home (never elsewhere).
 */
function pendingLog(indexPath: string, id: string): string | undefined {
  const file = `${id}.jsonl`;
  if (scopeOf(indexPath) === "project") {
    return join(dirname(indexPath), "sessions", file);
  }
  return findLogInLayout(dirname(indexPath), file);
}

/** Where the layout has the log `file` under a zig home, if anywhere. */
function findLogInLayout(home: string, file: string): string | undefined {
  const places = [join(home, "logs", "sessions", file)];
  for (const name of listNamesSync(join(home, "projects"))) {
    places.push(join(home, "projects", name, "logs", "sessions", file));
  }
  return places.find((path) =>
    existsSync(path) && escapeOf(path, home) === undefined
  );
}

/**
 * Marks a session as pending beside an index, before its log is created.
 *
 * @throws {ZigError} when the marker cannot be written.
 */
export function markPending(
  indexPath: string,
  options: { id: string },
): void {
  const marker = `${indexPath}${PENDING}${options.id}`;
  try {
    // Empty: it needs no room on a full disk; its name says everything.
    Deno.writeFileSync(marker, new Uint8Array(0), { createNew: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) removeIfPresent(marker);
    throw fsError(error, {
      action: "mark the new session in the index",
      path: marker,
      grant: dirname(indexPath),
    });
  }
}

/** Removes a session's pending marker beside an index, if there is one. */
export function clearPending(indexPath: string, id: string): void {
  removeIfPresent(`${indexPath}${PENDING}${id}`);
}

/**
 * Removes the markers of sessions the index now holds; after a rebuild from
 * every log, also the old markers of sessions it could not list (their log
 * never got a first line).
 */
function removeResolvedMarkers(
  indexPath: string,
  options: {
    names: readonly string[];
    indexed: (id: string) => boolean;
    rebuilt: boolean;
  },
): void {
  for (const id of pendingIds(indexPath, options.names)) {
    const marker = `${indexPath}${PENDING}${id}`;
    if (!options.indexed(id)) {
      if (!options.rebuilt) continue;
      try {
        const mtime = Deno.lstatSync(marker).mtime?.getTime() ?? Date.now();
        if (Date.now() - mtime < STALE_MARKER_MS) continue;
      } catch {
        continue;
      }
    }
    removeIfPresent(marker);
  }
}

/**
 * The entries of sessions marked pending beside an index but not in it,
 * read from their logs: sessions whose writer was killed (or failed) before
 * indexing them, or is indexing them right now. Sorted by start.
 */
export function pendingEntries(
  indexPath: string,
  sessions: readonly AnyEntry[],
): AnyEntry[] {
  const ids = pendingIds(indexPath);
  if (ids.length === 0) return [];
  const known = new Set(sessions.map((e) => e.zig_session_id));
  const scope = scopeOf(indexPath);
  const found: AnyEntry[] = [];
  for (const id of ids) {
    if (known.has(id)) continue;
    const log = pendingLog(indexPath, id);
    if (log === undefined) continue;
    const project = dirname(dirname(dirname(log)));
    let entry: AnyEntry | undefined;
    try {
      entry = entryOf(log, { scope, project, onProblem: false });
    } catch {
      continue; // unreadable: verify reports it
    }
    if (entry && entry.zig_session_id === id) found.push(entry);
  }
  return found.sort((a, b) => compareTimestamps(a.started_at, b.started_at));
}
