// Internal: the index files' locked reads, changes and rebuilds.
import { basename, dirname, join } from "node:path";
import { ZigError } from "./error.ts";
import {
  existsSync,
  fsError,
  readTextIfExistsSync,
  replaceFileSync,
  withLockSync,
} from "./_fs.ts";
import { summarizeLog } from "./_log_summary.ts";
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
 * Reads an index while its lock is held. A corrupt index is moved aside and
 * rebuilt from the logs.
 */
function readLocked(
  path: string,
  scope: Scope,
  onProblem: ProblemHandler | undefined,
): { index: AnyIndex; text?: string } {
  const text = readTextIfExistsSync(path);
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
  replaceFileSync(path, JSON.stringify(index, null, 2));
  reportProblem(onProblem, {
    kind: "corrupt_index",
    path,
    movedTo,
    message:
      `The index ${path} did not parse (${parsed.error}): moved it to ${movedTo} and rebuilt it from the logs (${index.sessions.length} sessions)`,
  });
  return { index };
}

export function lockPath(path: string): string {
  return `${path}.lock`;
}

export function loadIndex(path: string, scope: Scope, options: IndexOptions) {
  const text = readTextIfExistsSync(path);
  if (text === undefined) return { sessions: [] };
  const parsed = parseIndex(text, scope);
  if (parsed.index) return parsed.index;
  // Corrupt: recover under the lock (another process may have done it).
  return withLockSync(
    lockPath(path),
    () => readLocked(path, scope, options.onProblem).index,
  );
}

export function updateIndex(
  path: string,
  scope: Scope,
  options: UpdateIndexOptions<AnyIndex>,
): void {
  withLockSync(lockPath(path), () => {
    const { index } = readLocked(path, scope, options.onProblem);
    options.update(index);
    replaceFileSync(path, JSON.stringify(index, null, 2));
  });
}

const CLOSING = "\n  ]\n}";

function entryBlock(entry: AnyEntry): string {
  return "    " + JSON.stringify(entry, null, 2).replaceAll("\n", "\n    ");
}

/**
 * Inserts or replaces one entry under the lock. When the file is in the
 * pretty form zig writes, the change is spliced into its text instead of
 * serializing the whole index again.
 */
function putEntry(
  path: string,
  scope: Scope,
  options: IndexOptions & {
    id: string;
    change: (old: AnyEntry | undefined) => AnyEntry | undefined;
  },
): void {
  withLockSync(lockPath(path), () => {
    const { index, text } = readLocked(path, scope, options.onProblem);
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
        replaceFileSync(path, spliced);
        return;
      }
    }
    if (at < 0) sessions.push(next);
    else sessions[at] = next;
    replaceFileSync(path, JSON.stringify(index, null, 2));
  });
}

function spliceAppend(
  text: string,
  index: AnyIndex,
  entry: AnyEntry,
): string | undefined {
  const keys = Object.keys(index);
  if (
    index.sessions.length === 0 || keys[keys.length - 1] !== "sessions" ||
    !text.endsWith(CLOSING)
  ) {
    return undefined;
  }
  const cut = text.length - CLOSING.length;
  return text.slice(0, cut) + ",\n" + entryBlock(entry) + CLOSING;
}

function spliceReplace(
  text: string,
  old: AnyEntry,
  entry: AnyEntry,
): string | undefined {
  const key = `"zig_session_id": ${JSON.stringify(old.zig_session_id)}`;
  const at = text.indexOf(key);
  if (at < 0) return undefined;
  const start = text.lastIndexOf("\n    {", at) + 1;
  const close = text.indexOf("\n    }", at);
  if (start <= 0 || close < 0) return undefined;
  const end = close + "\n    }".length;
  if (text.slice(start, end) !== entryBlock(old)) return undefined;
  return text.slice(0, start) + entryBlock(entry) + text.slice(end);
}

function listLogs(dir: string): string[] {
  const logs: string[] = [];
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
  const found = listLogs(join(home, "logs", "sessions")).map((log) => ({
    project: home,
    log,
  }));
  const projects = join(home, "projects");
  if (existsSync(projects)) {
    try {
      for (const item of Deno.readDirSync(projects)) {
        if (!item.isDirectory) continue;
        const project = join(projects, item.name);
        for (const log of listLogs(join(project, "logs", "sessions"))) {
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
    for (const log of listLogs(join(dirname(path), "sessions"))) {
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
