// Internal file helpers: errors that say which permission to grant, locks and
// atomic replacement.
import { basename, dirname, join } from "node:path";
import { ZigError } from "./error.ts";

/** Describes a failed file operation for {@linkcode fsError}. */
export interface FsErrorContext {
  /** What was being done, as a verb phrase: "create the sessions directory". */
  action: string;
  /** The path at fault. */
  path: string;
  /** The path to suggest in a `--allow-read`/`--allow-write` flag. */
  grant?: string;
}

/** Turns an error thrown by a Deno file API into a {@linkcode ZigError}. */
export function fsError(error: unknown, context: FsErrorContext): ZigError {
  if (error instanceof ZigError) return error;
  const { action, path } = context;
  if (error instanceof Deno.errors.NotCapable) {
    const access = /Requires (\w+) access/.exec(String(error.message))?.[1] ??
      "file";
    const grant = context.grant ?? path;
    return new ZigError(
      `Cannot ${action} at "${path}": ${access} access is not granted, run again with --allow-${access}=${grant}`,
      { kind: "permission", path, cause: error },
    );
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return new ZigError(
      `Cannot ${action} at "${path}": the file system denied access, check the owner and mode of the file and its directory`,
      { kind: "permission", path, cause: error },
    );
  }
  if (error instanceof Deno.errors.NotFound) {
    return new ZigError(`Cannot ${action}: "${path}" does not exist`, {
      kind: "not_found",
      path,
      cause: error,
    });
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new ZigError(`Cannot ${action} at "${path}": ${reason}`, {
    kind: "io",
    path,
    cause: error,
  });
}

/** Creates a directory and its parents. */
export function ensureDirSync(path: string, grant?: string): void {
  try {
    Deno.mkdirSync(path, { recursive: true });
  } catch (error) {
    throw fsError(error, { action: "create a directory", path, grant });
  }
}

/**
 * Opens a lock file for locking, never through a symbolic link, and creates
 * it (and its folder) if missing. Deno has no `O_NOFOLLOW`, so: a new lock is
 * created with `createNew` (`O_CREAT | O_EXCL`, which never follows a link and
 * fails on a dangling one); an existing one must be a regular file by
 * `lstat`, and the file opened must be that same file (device and inode by
 * `fstat`), else a link swapped in between was followed: it is closed
 * unwritten and the open tried again.
 */
export function openLockFileSync(lockPath: string): Deno.FsFile {
  const dir = dirname(lockPath);
  const failure = (error: unknown) =>
    fsError(error, {
      action: "open the lock file",
      path: lockPath,
      grant: dir,
    });
  let madeDir = false;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return Deno.openSync(lockPath, { createNew: true, write: true });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound && !madeDir) {
        ensureDirSync(dir, dir);
        madeDir = true;
        continue;
      }
      if (!(error instanceof Deno.errors.AlreadyExists)) throw failure(error);
    }
    let seen: Deno.FileInfo;
    try {
      seen = Deno.lstatSync(lockPath);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue; // removed meanwhile
      throw failure(error);
    }
    if (!seen.isFile) {
      const what = seen.isSymlink
        ? "a symbolic link, and lock files are never opened through one"
        : seen.isDirectory
        ? "a directory"
        : "not a regular file";
      throw new ZigError(
        `Cannot use the lock file "${lockPath}": it is ${what}; remove it (no process needs it while no zig-session command runs)`,
        { kind: "io", path: lockPath },
      );
    }
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(lockPath, { write: true });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      throw failure(error);
    }
    let opened: Deno.FileInfo;
    try {
      opened = file.statSync();
    } catch (error) {
      file.close();
      throw failure(error);
    }
    if (opened.dev === seen.dev && opened.ino === seen.ino) return file;
    file.close(); // not the file lstat saw: something was swapped in
  }
  throw new ZigError(
    `Cannot use the lock file "${lockPath}": it kept changing while it was opened; check what else writes in "${dir}"`,
    { kind: "io", path: lockPath },
  );
}

/**
 * Runs `fn` while holding an exclusive lock on `lockPath` (created if
 * missing, never through a symbolic link). The lock is an OS file lock, so it
 * is released if the process dies.
 */
export function withLockSync<T>(lockPath: string, fn: () => T): T {
  const lock = openLockFileSync(lockPath);
  try {
    lock.lockSync(true);
    return fn();
  } finally {
    lock.close();
  }
}

let tempCounter = 0;

/** The prefix of the temporary files {@linkcode replaceFileSync} writes beside `path`. */
function tempPrefix(path: string): string {
  return `${basename(path)}.tmp-`;
}

/** What {@linkcode writeTempSync} writes: the bytes, or a function writing them. */
export type TempContent =
  | string
  | Uint8Array
  | ((file: Deno.FsFile) => void);

/**
 * Writes `data` to a new temporary file beside `path`
 * (`<path>.tmp-<pid>-<n>`, created new, so never through a symlink) and
 * returns its path. `data` may be a function that writes the open file
 * itself. Nothing is left behind when the write fails. The caller holds the
 * lock that guards `path`: its temporary files exist only while that lock is
 * held (see {@linkcode removeStaleTempsSync}).
 */
export function writeTempSync(path: string, data: TempContent): string {
  for (let attempt = 0;; attempt++) {
    const temp = `${path}.tmp-${Deno.pid}-${++tempCounter}`;
    try {
      if (typeof data === "string") {
        Deno.writeTextFileSync(temp, data, { createNew: true });
      } else if (typeof data === "function") {
        const file = Deno.openSync(temp, { write: true, createNew: true });
        try {
          data(file);
        } finally {
          file.close();
        }
      } else {
        Deno.writeFileSync(temp, data, { createNew: true });
      }
      return temp;
    } catch (error) {
      // A leftover of a dead process that had our pid: take the next name.
      if (error instanceof Deno.errors.AlreadyExists && attempt < 9) continue;
      if (!(error instanceof Deno.errors.AlreadyExists)) removeQuietly(temp);
      throw fsError(error, {
        action: "write the file",
        path,
        grant: dirname(path),
      });
    }
  }
}

function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path);
  } catch {
    // It was never created.
  }
}

/**
 * Replaces `path` with `text` atomically: writes a temporary file beside it
 * ({@linkcode writeTempSync}), then renames it over `path`. A reader sees the
 * old file or the new one, never a mix.
 */
export function replaceFileSync(path: string, text: TempContent): void {
  const temp = writeTempSync(path, text);
  try {
    Deno.renameSync(temp, path);
  } catch (error) {
    removeQuietly(temp);
    throw fsError(error, {
      action: "write the file",
      path,
      grant: dirname(path),
    });
  }
}

/**
 * Removes the temporary files that writers of `path` left behind when they
 * died between writing one and renaming it (`<path>.tmp-<pid>-<n>`). Call it
 * only while holding the lock that every writer of `path` holds for the
 * whole life of its temporary file: then no temporary file that exists
 * belongs to a live writer, whatever its pid says (pids are reused, and
 * asking whether one is alive needs more permissions than the module has).
 *
 * @param path The file whose leftovers to remove.
 * @param names The names in its directory, when the caller already listed it.
 * @returns How many files were removed.
 */
export function removeStaleTempsSync(
  path: string,
  names?: readonly string[],
): number {
  const prefix = tempPrefix(path);
  let removed = 0;
  for (const name of names ?? listNamesSync(dirname(path))) {
    if (!name.startsWith(prefix)) continue;
    if (!/^\d+-\d+$/.test(name.slice(prefix.length))) continue;
    try {
      // Removes a symlink itself, never what it points to.
      Deno.removeSync(join(dirname(path), name));
      removed++;
    } catch {
      // Gone already, or a directory someone made: not ours to force.
    }
  }
  return removed;
}

/** The names in a directory; none when it does not exist. */
export function listNamesSync(dir: string): string[] {
  const names: string[] = [];
  try {
    for (const item of Deno.readDirSync(dir)) names.push(item.name);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return names;
    throw fsError(error, { action: "list the directory", path: dir });
  }
  return names;
}

/** Tells whether a path exists. */
export function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw fsError(error, { action: "look up the path", path });
  }
}

/** Writes all of `bytes` to an open file, at its current position. */
export function writeAllSync(file: Deno.FsFile, bytes: Uint8Array): void {
  let written = 0;
  while (written < bytes.length) {
    written += file.writeSync(bytes.subarray(written));
  }
}

/** Reads up to `length` bytes at `position` of an open file (fewer at its end). */
export function readRangeSync(
  file: Deno.FsFile,
  range: { position: number; length: number },
): Uint8Array {
  const buffer = new Uint8Array(range.length);
  file.seekSync(range.position, Deno.SeekMode.Start);
  let filled = 0;
  while (filled < range.length) {
    const n = file.readSync(buffer.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return buffer.subarray(0, filled);
}

/** Removes a file, if it is there. */
export function removeIfPresent(path: string): void {
  try {
    Deno.removeSync(path);
  } catch {
    // Already gone.
  }
}
