// Internal: the identity of each index file this process last wrote, so that
// a file still as we wrote it need not be parsed or checked again.

/**
 * Identity (device, inode, size, modification time) of each index file as
 * this process last wrote it. Every write replaces the file with a new inode,
 * so a file with the same identity is still the text we wrote and validated:
 * it need not be parsed again.
 */
const ourWrites = new Map<string, string>();

/**
 * Identity of each index file this process last wrote with a tail as zig
 * writes it (see patchTail): a patch of the same file need not check its tail
 * again.
 */
const ourTails = new Map<string, string>();

/** A file's identity: it changes whenever the file is replaced or written. */
export function identityOf(info: Deno.FileInfo): string {
  return `${info.dev}:${info.ino}:${info.size}:${info.mtime?.getTime()}`;
}

/** Whether the index file (as `info` says it is) is still the text we wrote. */
export function isOurWrite(path: string, info: Deno.FileInfo): boolean {
  return ourWrites.get(path) === identityOf(info);
}

/** Whether the index file still has the tail we wrote as zig writes it. */
export function isOurTail(path: string, info: Deno.FileInfo): boolean {
  return ourTails.get(path) === identityOf(info);
}

/**
 * Remembers what this process just wrote to an index file: `canonical` text
 * (validated, pretty, "sessions" last), or at least a tail as zig writes it.
 */
export function rememberWrite(
  path: string,
  options: { canonical: boolean; tailValid: boolean },
): void {
  ourWrites.delete(path);
  ourTails.delete(path);
  if (!options.canonical && !options.tailValid) return;
  try {
    const identity = identityOf(Deno.statSync(path));
    if (options.canonical) ourWrites.set(path, identity);
    ourTails.set(path, identity);
  } catch {
    // Not knowing the identity only costs a parse next time.
  }
}
