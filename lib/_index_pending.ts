// Internal: the pending markers beside an index.
import { basename, dirname, join } from "node:path";
import { existsSync, fsError, listNamesSync, removeIfPresent } from "./_fs.ts";
import { escapeOf, homeOfIndex } from "./_confine.ts";
import {
  projectDirOfLog,
  projectsDir,
  sessionsDir,
  sessionsDirOfIndex,
} from "./paths.ts";
import { compareTimestamps } from "./timestamp.ts";
import { type AnyEntry, scopeOf } from "./_index_parse.ts";
import { entryOf } from "./_index_entry.ts";

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
 * layout, unless a link leads that out of the zig home; for the global index, wherever the layout has it under the zig
 * home (never elsewhere).
 */
function pendingLog(indexPath: string, id: string): string | undefined {
  const file = `${id}.jsonl`;
  if (scopeOf(indexPath) === "project") {
    const log = join(sessionsDirOfIndex(indexPath), file);
    return escapeOf(log, homeOfIndex(indexPath)) === undefined
      ? log
      : undefined;
  }
  return findLogInLayout(dirname(indexPath), file);
}

/** Where the layout has the log `file` under a zig home, if anywhere. */
function findLogInLayout(home: string, file: string): string | undefined {
  const places = [join(sessionsDir(home), file)];
  for (const name of listNamesSync(projectsDir(home))) {
    places.push(join(sessionsDir(join(projectsDir(home), name)), file));
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
export function removeResolvedMarkers(
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
    const project = projectDirOfLog(log);
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
