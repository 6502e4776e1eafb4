/**
 * The project index (`logs/index.json`) and the global index
 * (`sessions_index.json`): loading, saving, locked updates and rebuilding
 * from the logs.
 *
 * Every change takes an exclusive lock on `<index>.lock`, reads the index,
 * changes it and replaces it atomically (a temporary file renamed over it), so
 * concurrent processes never lose each other's entries. An index that does not
 * parse is copied aside to `<index>.corrupt-<time>`, never overwritten, and
 * rebuilt from the logs into a temporary file renamed over it: a crash midway
 * leaves the corrupt index in place, to be recovered again, never no index.
 * Temporary files of a writer that died are removed by the next writer.
 *
 * @module
 */
import {
  type AnyIndex,
  assertIndexPath,
  buildIndex,
  indexBeforeRebuild,
  type IndexOptions,
  keepUnlisted,
  loadIndex,
  lockPath,
  scopeOf,
  updateIndex,
  type UpdateIndexOptions,
  writeIndex,
} from "./_index_file.ts";
import { withLockSync } from "./_fs.ts";
import type { GlobalSessionIndex, SessionLogIndex } from "./types.ts";

export type { IndexOptions, UpdateIndexOptions };

/**
 * Loads a project index. A missing file is an empty index; entries written by
 * older versions without `ended_at`, `status` or `workspace_path` read them as
 * `null`. A file that does not parse is kept aside and rebuilt from the logs.
 *
 * @example Usage
 * ```ts
 * import { loadProjectIndex } from "./session_index.ts";
 *
 * const index = loadProjectIndex("/tmp/no-such-zig/logs/index.json");
 * console.log(index.sessions.length); // 0
 * ```
 *
 * @param path The index file.
 * @param options Where to report a corrupt index.
 * @returns The index.
 */
export function loadProjectIndex(
  path: string,
  options: IndexOptions = {},
): SessionLogIndex {
  return loadIndex(path, { ...options, scope: "project" }) as SessionLogIndex;
}

/**
 * Loads the global index, like {@linkcode loadProjectIndex}.
 *
 * @example Usage
 * ```ts
 * import { loadGlobalIndex } from "./session_index.ts";
 *
 * const index = loadGlobalIndex("/tmp/no-such-zig/sessions_index.json");
 * console.log(index.sessions.length); // 0
 * ```
 *
 * @param path The index file.
 * @param options Where to report a corrupt index.
 * @returns The index.
 */
export function loadGlobalIndex(
  path: string,
  options: IndexOptions = {},
): GlobalSessionIndex {
  return loadIndex(path, { ...options, scope: "global" }) as GlobalSessionIndex;
}

/**
 * Replaces a project index with `index`, under the lock and atomically.
 * Prefer {@linkcode updateProjectIndex} to change an index other processes
 * may be changing too.
 *
 * @example Usage
 * ```ts
 * import { loadProjectIndex, saveProjectIndex } from "./session_index.ts";
 *
 * const path = Deno.makeTempDirSync() + "/logs/index.json";
 * saveProjectIndex(path, { sessions: [] });
 * console.log(loadProjectIndex(path)); // { sessions: [] }
 * ```
 *
 * @param path The index file; its folder is created if missing.
 * @param index The new content.
 */
export function saveProjectIndex(path: string, index: SessionLogIndex): void {
  withLockSync(
    lockPath(path),
    () => writeIndex(path, index as unknown as AnyIndex),
  );
}

/**
 * Replaces the global index with `index`, like {@linkcode saveProjectIndex}.
 *
 * @example Usage
 * ```ts
 * import { saveGlobalIndex } from "./session_index.ts";
 *
 * saveGlobalIndex(Deno.makeTempDirSync() + "/sessions_index.json", { sessions: [] });
 * ```
 *
 * @param path The index file; its folder is created if missing.
 * @param index The new content.
 */
export function saveGlobalIndex(path: string, index: GlobalSessionIndex): void {
  saveProjectIndex(path, index as unknown as SessionLogIndex);
}

/**
 * Changes a project index safely: under its lock, reads it (recovering a
 * corrupt one), lets `options.update` change it, and replaces it atomically.
 *
 * @example Usage
 * ```ts
 * import { updateProjectIndex } from "./session_index.ts";
 *
 * const path = Deno.makeTempDirSync() + "/logs/index.json";
 * updateProjectIndex(path, {
 *   update(index) {
 *     index.sessions = index.sessions.filter((s) => s.status !== "failure");
 *   },
 * });
 * ```
 *
 * @param path The index file.
 * @param options The change, and where to report a corrupt index.
 */
export function updateProjectIndex(
  path: string,
  options: UpdateIndexOptions<SessionLogIndex>,
): void {
  updateIndex(path, {
    ...(options as UpdateIndexOptions<AnyIndex>),
    scope: "project",
  });
}

/**
 * Changes the global index safely, like {@linkcode updateProjectIndex}.
 *
 * @example Usage
 * ```ts
 * import { updateGlobalIndex } from "./session_index.ts";
 *
 * updateGlobalIndex(Deno.makeTempDirSync() + "/sessions_index.json", {
 *   update(index) {
 *     index.sessions.sort((a, b) => a.started_at < b.started_at ? -1 : 1);
 *   },
 * });
 * ```
 *
 * @param path The index file.
 * @param options The change, and where to report a corrupt index.
 */
export function updateGlobalIndex(
  path: string,
  options: UpdateIndexOptions<GlobalSessionIndex>,
): void {
  updateIndex(path, {
    ...(options as UpdateIndexOptions<AnyIndex>),
    scope: "global",
  });
}

/**
 * Rebuilds an index from the session logs and saves it under the lock: a
 * project index (`<project>/logs/index.json`) from the logs beside it, the
 * global index (`<zig home>/sessions_index.json`) from every project's logs.
 * Each log's first and last lines are read, not the whole log. Entries point
 * at where the logs are now. A log that vanishes meanwhile (another process
 * such as gc removed it) is left out and reported as `vanished_log`. An index
 * that does not parse is kept aside first (`corrupt_index`), never
 * overwritten; an entry whose log is still there but gives none (its first
 * line damaged) is kept as it was.
 *
 * @example Usage
 * ```ts
 * import { rebuildIndex } from "./session_index.ts";
 *
 * const home = Deno.makeTempDirSync();
 * const index = rebuildIndex(home + "/sessions_index.json");
 * console.log(index.sessions.length); // 0
 * ```
 *
 * @param path The index file to rebuild.
 * @param options Where to report a log that vanished.
 * @returns The rebuilt index.
 */
export function rebuildIndex(
  path: string,
  options: IndexOptions = {},
): SessionLogIndex | GlobalSessionIndex {
  assertIndexPath(path);
  const scope = scopeOf(path);
  return withLockSync(lockPath(path), () => {
    const old = indexBeforeRebuild(path, {
      scope,
      onProblem: options.onProblem,
    });
    const index = buildIndex(path, { scope, onProblem: options.onProblem });
    keepUnlisted(index, { old, path });
    writeIndex(path, index, { rebuilt: true });
    return index as SessionLogIndex | GlobalSessionIndex;
  });
}
