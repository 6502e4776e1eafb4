/**
 * Finding sessions: the current project's list, lookup by id prefix, the
 * latest one, and where a session's log is now.
 *
 * @module
 */
import { ZigError } from "./error.ts";
import { assertInsideHome, homeOfIndex, layoutOf } from "./_confine.ts";
import {
  globalIndexPath,
  projectDir,
  projectIndexPath,
  type ProjectOptions,
  zigHome,
  type ZigHomeOptions,
} from "./paths.ts";
import { loadGlobalIndex, loadProjectIndex } from "./session_index.ts";
import { type IndexOptions, pendingEntries } from "./_index_file.ts";
import { compareTimestamps } from "./timestamp.ts";
import type { GlobalSessionEntry, SessionLogIndexEntry } from "./types.ts";

/** Options of {@linkcode listSessions} and {@linkcode findSession}. */
export interface ListOptions extends ProjectOptions, IndexOptions {
  /** Search every project's sessions (the global index) instead. */
  global?: boolean;
}

/** An entry of either index. */
export type AnySessionEntry = SessionLogIndexEntry | GlobalSessionEntry;

/** Options of {@linkcode resolveLogPath}. */
export interface ResolveLogPathOptions extends ZigHomeOptions {
  /** The index the entry came from. */
  indexPath?: string;
}

/**
 * The sessions of the current project (or of every project with `global`),
 * in the order they started, as the index lists them; then, in the order
 * they started, the sessions whose writer left a pending marker beside the
 * index and is indexing them now or was killed before it could (read from
 * their logs; `reindex` restores their entries). Finding those costs one
 * listing of the index's small directory, not a scan of the logs.
 *
 * @example Usage
 * ```ts
 * import { listSessions } from "./list_sessions.ts";
 *
 * const sessions = listSessions({ zigHome: Deno.makeTempDirSync(), projectRoot: "/src/shop" });
 * console.log(sessions.length); // 0
 * ```
 *
 * @param options The zig home and the project, or `global`.
 * @returns The index entries.
 */
export function listSessions(options: ListOptions = {}): AnySessionEntry[] {
  const path = options.global
    ? globalIndexPath(zigHome(options))
    : projectIndexPath(projectDir(options));
  const sessions: AnySessionEntry[] = options.global
    ? loadGlobalIndex(path, options).sessions
    : loadProjectIndex(path, options).sessions;
  const pending = pendingEntries(path, sessions) as AnySessionEntry[];
  return pending.length === 0 ? sessions : [...sessions, ...pending];
}

/**
 * Finds a session by a unique prefix of its id.
 *
 * @example Usage
 * ```ts
 * import { findSession } from "./list_sessions.ts";
 * import { ZigError } from "./error.ts";
 *
 * try {
 *   findSession("3fa1", { zigHome: Deno.makeTempDirSync(), projectRoot: "/src/shop" });
 * } catch (error) {
 *   console.log((error as ZigError).kind); // not_found
 * }
 * ```
 *
 * @param prefix The start of a session id.
 * @param options The zig home and the project, or `global`.
 * @returns The one entry whose id starts with `prefix`.
 * @throws {ZigError} `not_found` when no id matches, `ambiguous` (with
 * `candidates`) when several do.
 */
export function findSession(
  prefix: string,
  options: ListOptions = {},
): AnySessionEntry {
  if (prefix === "") {
    throw new ZigError("Empty session id: give an id or a prefix of one", {
      kind: "not_found",
    });
  }
  const matches = listSessions(options).filter((s) =>
    s.zig_session_id.startsWith(prefix)
  );
  const where = options.global ? "any project" : "this project";
  if (matches.length === 0) {
    throw new ZigError(
      `Session not found: no session id in ${where} starts with "${prefix}"`,
      { kind: "not_found" },
    );
  }
  const ids = [...new Set(matches.map((s) => s.zig_session_id))];
  if (ids.length > 1) {
    throw new ZigError(
      `Ambiguous session prefix "${prefix}": it matches ${ids.length} sessions: ${
        ids.join(", ")
      }`,
      { kind: "ambiguous", candidates: ids },
    );
  }
  return matches[matches.length - 1];
}

/**
 * The session that started last, comparing the instants `started_at` names,
 * not its text.
 *
 * @example Usage
 * ```ts
 * import { latestSession } from "./list_sessions.ts";
 * import assert from "node:assert/strict";
 *
 * const latest = latestSession([
 *   { zig_session_id: "a", started_at: "2026-11-23T23:41:47+02:00" },
 *   { zig_session_id: "b", started_at: "2026-11-23T22:41:47+00:00" },
 * ]);
 * assert.equal(latest?.zig_session_id, "b");
 * ```
 *
 * @param entries Index entries.
 * @returns The latest one, or `undefined` for none.
 */
export function latestSession<T extends { started_at: string }>(
  entries: readonly T[],
): T | undefined {
  let latest: T | undefined;
  for (const entry of entries) {
    if (
      latest === undefined ||
      compareTimestamps(entry.started_at, latest.started_at) >= 0
    ) {
      latest = entry;
    }
  }
  return latest;
}

/**
 * Where a session's log is: always where the zig home's layout puts it,
 * `<sessions dir>/<id>.jsonl` beside the project index the entry came from,
 * or, from the global index, in the project its `log_path` names. `log_path`
 * itself is never opened (it may come from another machine, or lead anywhere):
 * it must only have the shape of that session's log path. The log must lie
 * inside the zig home after resolving symbolic links.
 *
 * @example Usage
 * ```ts
 * import { resolveLogPath } from "./list_sessions.ts";
 * import assert from "node:assert/strict";
 *
 * const path = resolveLogPath(
 *   { zig_session_id: "abc", log_path: "/home/ada/.zig/logs/sessions/abc.jsonl" },
 *   { indexPath: "/tmp/z/logs/index.json" },
 * );
 * assert.equal(path, "/tmp/z/logs/sessions/abc.jsonl");
 * ```
 *
 * @param entry An index entry.
 * @param options The index it came from, and the zig home (default: the one
 * that index is in, else `$ZIG_HOME` and so on).
 * @returns The path of the log, inside the zig home.
 * @throws {ZigError} `corrupt` when the entry leads elsewhere: its id is no
 * session id (letters, digits, `.`, `_`, `-`, not starting with `.`), its
 * `log_path` is not `.../logs/sessions/<id>.jsonl`, or the log resolves
 * outside the zig home through a symbolic link.
 */
export function resolveLogPath(
  entry: { zig_session_id: string; log_path: string },
  options: ResolveLogPathOptions = {},
): string {
  const home = options.zigHome !== undefined || !options.indexPath
    ? zigHome(options)
    : homeOfIndex(options.indexPath);
  const layout = layoutOf(entry, { home, indexPath: options.indexPath });
  assertInsideHome(layout.logPath, layout.home);
  return layout.logPath;
}
