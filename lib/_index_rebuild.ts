// Internal: indexes rebuilt from the logs, and the recovery of a corrupt
// index (its bytes kept aside, never overwritten).
import { basename, dirname, join } from "node:path";
import { ZigError } from "./error.ts";
import {
  existsSync,
  fsError,
  listNamesSync,
  removeIfPresent,
  writeTempSync,
} from "./_fs.ts";
import { escapeOf, homeOfIndex, layoutOf } from "./_confine.ts";
import {
  projectDirOfIndex,
  projectsDir,
  sessionsDir,
  sessionsDirOfIndex,
} from "./paths.ts";
import { reportProblem } from "./_problems.ts";
import { compareTimestamps } from "./timestamp.ts";
import type { ProblemHandler } from "./types.ts";
import {
  type AnyEntry,
  type AnyIndex,
  type IndexFile,
  parseFile,
  readIndexFile,
  type Scope,
} from "./_index_parse.ts";
import { entryOf } from "./_index_entry.ts";
import { writeIndex } from "./_index_write.ts";

function compactTime(): string {
  return new Date().toISOString().replace(/[-:]/g, "").replace(".", "-");
}

/**
 * Reads an index while its lock is held. A corrupt index is recovered:
 * its bytes are copied aside first, then the index rebuilt from the logs is
 * written to a temporary file and renamed over it. At every instant the index
 * is the corrupt file or the complete rebuild: a crash midway leaves the
 * corrupt index, recovered again by the next reader, and a rebuild that
 * cannot be written (a full disk) is an error that leaves it in place.
 */
export function readLocked(
  path: string,
  options: {
    scope: Scope;
    onProblem: ProblemHandler | undefined;
    file?: IndexFile;
  },
): { index: AnyIndex; text?: string } {
  const { scope, onProblem } = options;
  const file = options.file ?? readIndexFile(path);
  const text = file.text;
  if (text === undefined) return { index: { sessions: [] } };
  const parsed = parseFile(file, scope);
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
  const found = listLogs(sessionsDir(home), home).map((log) => ({
    project: home,
    log,
  }));
  const projects = projectsDir(home);
  if (existsSync(projects)) {
    try {
      for (const item of Deno.readDirSync(projects)) {
        if (!item.isDirectory) continue;
        const project = join(projects, item.name);
        for (const log of listLogs(sessionsDir(project), home)) {
          found.push({ project, log });
        }
      }
    } catch (error) {
      throw fsError(error, { action: "list the projects", path: projects });
    }
  }
  return found;
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
    ? listLogs(sessionsDirOfIndex(path), homeOfIndex(path)).map((log) => ({
      project: projectDirOfIndex(path),
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

/**
 * Under the index's lock, before a rebuild replaces it: the index as it is,
 * or `undefined` when there is none or it does not parse; then its bytes are
 * kept aside first, as every recovery does (never overwritten).
 */
export function indexBeforeRebuild(
  path: string,
  options: { scope: Scope; onProblem?: ProblemHandler },
): AnyIndex | undefined {
  const file = readIndexFile(path);
  if (file.text === undefined) return undefined;
  const parsed = parseFile(file, options.scope);
  if (parsed.index) return parsed.index;
  const aside = keepAside(path, parsed.error!);
  reportProblem(options.onProblem, {
    kind: "corrupt_index",
    path,
    movedTo: aside.path,
    message:
      `The index ${path} did not parse (${parsed.error}): kept its bytes in ${aside.path} and rebuilt it from the logs`,
  });
  return undefined;
}

/**
 * Keeps in a rebuilt index the entries of the old one that the logs could
 * not give (a log whose first line is damaged) while the log is still where
 * the layout puts it, inside the zig home: a rebuild never drops a session
 * whose log is there. Entries that lead elsewhere are not kept.
 */
export function keepUnlisted(
  index: AnyIndex,
  options: { old: AnyIndex | undefined; path: string },
): void {
  if (!options.old) return;
  const home = homeOfIndex(options.path);
  const listed = new Set(index.sessions.map((e) => e.zig_session_id));
  let kept = false;
  for (const entry of options.old.sessions) {
    if (listed.has(entry.zig_session_id)) continue;
    let log: string;
    try {
      log = layoutOf(entry, { home, indexPath: options.path }).logPath;
      if (!Deno.lstatSync(log).isFile) continue;
    } catch {
      continue; // leads elsewhere, or gone
    }
    if (escapeOf(log, home) !== undefined) continue;
    index.sessions.push(entry);
    listed.add(entry.zig_session_id);
    kept = true;
  }
  if (kept) {
    index.sessions.sort((a, b) =>
      compareTimestamps(a.started_at, b.started_at)
    );
  }
}
