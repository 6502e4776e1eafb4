// Internal file helpers: errors that say which permission to grant, locks and
// atomic replacement.
import { dirname } from "node:path";
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
 * Runs `fn` while holding an exclusive lock on `lockPath` (created if
 * missing). The lock is an OS file lock, so it is released if the process dies.
 */
export function withLockSync<T>(lockPath: string, fn: () => T): T {
  const grant = dirname(lockPath);
  let lock: Deno.FsFile;
  try {
    lock = Deno.openSync(lockPath, { create: true, write: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      ensureDirSync(grant, grant);
      return withLockSync(lockPath, fn);
    }
    throw fsError(error, {
      action: "open the lock file",
      path: lockPath,
      grant,
    });
  }
  try {
    lock.lockSync(true);
    return fn();
  } finally {
    lock.close();
  }
}

let tempCounter = 0;

/**
 * Replaces `path` with `text` atomically: writes a temporary file beside it,
 * then renames it over `path`. A reader sees the old file or the new one,
 * never a mix.
 */
export function replaceFileSync(path: string, text: string): void {
  const temp = `${path}.tmp-${Deno.pid}-${++tempCounter}`;
  try {
    Deno.writeTextFileSync(temp, text);
    Deno.renameSync(temp, path);
  } catch (error) {
    try {
      Deno.removeSync(temp);
    } catch {
      // The temporary file was never created.
    }
    throw fsError(error, {
      action: "write the file",
      path,
      grant: dirname(path),
    });
  }
}

/** Reads a text file, or returns `undefined` when it does not exist. */
export function readTextIfExistsSync(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw fsError(error, { action: "read the file", path });
  }
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
