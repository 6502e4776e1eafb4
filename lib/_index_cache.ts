// Internal: the identity of each index file this process last wrote, so that
// a file still as we wrote it need not be parsed or checked again.

/**
 * Identity (device, inode, size, modification time) of each index file as
 * this process last wrote it. Every write replaces the file with a new inode,
 * so a file with the same identity is still the text we wrote and validated:
 * it need not be parsed again.
 */
export const ourWrites = new Map<string, string>();

/**
 * Identity of each index file this process last wrote with a tail as zig
 * writes it (see patchTail): a patch of the same file need not check its tail
 * again.
 */
export const ourTails = new Map<string, string>();

export function identityOf(info: Deno.FileInfo): string {
  return `${info.dev}:${info.ino}:${info.size}:${info.mtime?.getTime()}`;
}
