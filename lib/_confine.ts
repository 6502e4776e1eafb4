// Internal: confinement to the zig home. Every path the module and the CLI
// read, write, move or delete is derived from the zig home's layout; these
// checks make sure that, after resolving symbolic links, it also lies inside
// the zig home, and that session ids taken from files name no other path.
import { basename, dirname, join, resolve, sep } from "node:path";
import { ZigError } from "./error.ts";
import { fsError } from "./_fs.ts";
import {
  isGlobalIndexPath,
  projectDirOfIndex,
  projectsDir,
  sessionLogPath,
  sessionsDirOfIndex,
  zigHomeOfProjectDir,
} from "./paths.ts";

/**
 * Letters, digits, `.`, `_` and `-`, not starting with `.`: no separators, no
 * `..`; at most 200 characters, so that `<id>.jsonl` and the names beside the
 * index (`index.json.pending-<id>`) fit the 255 bytes a file name may have.
 */
const SESSION_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;

/** What a valid session id looks like, for error messages. */
export const SESSION_ID_RULE =
  'use letters, digits, ".", "_" and "-" only, not starting with ".", at most 200 characters';

/** Whether `id` can name a session: it names no other path than `<id>.jsonl`. */
export function isSessionId(id: unknown): id is string {
  return typeof id === "string" && SESSION_ID.test(id);
}

/**
 * The zig home an index file belongs to: the folder of the global index, or
 * the zig home above a project index (`<home>/projects/<name>/logs/index.json`
 * or `<home>/logs/index.json`).
 */
export function homeOfIndex(indexPath: string): string {
  const path = resolve(indexPath);
  if (isGlobalIndexPath(path)) return dirname(path);
  return zigHomeOfProjectDir(projectDirOfIndex(path));
}

function realPathOrUndefined(path: string): string | undefined {
  try {
    return Deno.realPathSync(path);
  } catch (error) {
    if (
      error instanceof Deno.errors.NotFound ||
      error instanceof Deno.errors.NotADirectory
    ) {
      return undefined;
    }
    throw fsError(error, { action: "resolve the path", path });
  }
}

function contains(root: string, path: string): boolean {
  const prefix = root.endsWith(sep) ? root : root + sep;
  return path === root || path.startsWith(prefix);
}

/**
 * Where `path` is after resolving symbolic links, or `undefined` when it lies
 * inside `home`. A path not yet created is judged by its nearest existing
 * ancestor (where it would be created). A `home` that does not exist holds
 * nothing yet, so nothing under it can lead out.
 */
export function escapeOf(path: string, home: string): string | undefined {
  const root = realPathOrUndefined(resolve(home));
  if (root === undefined) return undefined;
  let at = resolve(path);
  let rest = "";
  while (true) {
    const real = realPathOrUndefined(at);
    if (real !== undefined) {
      const full = rest === "" ? real : join(real, rest);
      return contains(root, full) ? undefined : full;
    }
    const parent = dirname(at);
    if (parent === at) return undefined;
    rest = rest === "" ? basename(at) : join(basename(at), rest);
    at = parent;
  }
}

/**
 * Throws unless `path`, after resolving symbolic links, lies inside `home`.
 *
 * @throws {ZigError} `corrupt`, naming the path, where it leads and the home.
 */
export function assertInsideHome(path: string, home: string): void {
  const escape = escapeOf(path, home);
  if (escape === undefined) return;
  throw new ZigError(
    `Refusing "${path}": it resolves to "${escape}", outside the zig home "${home}" (a symbolic link leads out of it), so it is not followed; remove the link or move the files into the zig home`,
    { kind: "corrupt", path },
  );
}

/** Where the layout puts a session's log, from the index entry naming it. */
export interface LogLayout {
  /** The zig home the log must lie in. */
  home: string;
  /** `<project dir>/logs/sessions/<id>.jsonl`. */
  logPath: string;
}

/**
 * Where the zig home's layout puts the log of an index entry: beside the
 * project index it came from, or, from the global index, in the project its
 * `log_path` names (`.../projects/<name>/logs/sessions/<id>.jsonl`), else the
 * zig home's own sessions. `log_path` is never followed, only read for its
 * shape: it may come from another machine.
 *
 * @throws {ZigError} `corrupt` when the id is no session id, or `log_path` is
 * not `.../logs/sessions/<id>.jsonl`: such an entry leads elsewhere.
 */
export function layoutOf(
  entry: { zig_session_id: string; log_path: string },
  where: { home: string; indexPath?: string },
): LogLayout {
  const id = entry.zig_session_id;
  const index = where.indexPath === undefined
    ? "the index"
    : `"${where.indexPath}"`;
  if (!isSessionId(id)) {
    throw new ZigError(
      `The index entry of session ${
        JSON.stringify(id)
      } in ${index} is not followed: that is no session id (${SESSION_ID_RULE}); run zig-session reindex to rebuild the index from the logs`,
      { kind: "corrupt", path: where.indexPath },
    );
  }
  const file = `${id}.jsonl`;
  const parts = String(entry.log_path).split(/[\\/]/);
  const n = parts.length;
  if (
    n < 4 || parts[n - 1] !== file || parts[n - 2] !== "sessions" ||
    parts[n - 3] !== "logs"
  ) {
    throw new ZigError(
      `The index entry of session ${id} in ${index} is not followed: its log_path ${
        JSON.stringify(entry.log_path)
      } is not where a zig home keeps this session's log (…/logs/sessions/${file}); run zig-session reindex to rebuild the index from the logs`,
      { kind: "corrupt", path: where.indexPath },
    );
  }
  const home = resolve(where.home);
  if (
    where.indexPath !== undefined &&
    !isGlobalIndexPath(where.indexPath)
  ) {
    return {
      home,
      logPath: join(sessionsDirOfIndex(resolve(where.indexPath)), file),
    };
  }
  const name = parts[n - 4];
  const inProject = n >= 5 && parts[n - 5] === "projects" && name !== "" &&
    name !== "." && name !== "..";
  const project = inProject ? join(projectsDir(home), name) : home;
  return { home, logPath: sessionLogPath(project, id) };
}
