// A real small file system for full-disk tests: a tmpfs mounted in the test
// (root only), and a filler file that takes the space that is left.
import { join } from "node:path";

/** Bytes of one tmpfs page: the unit in which file data takes space. */
export const PAGE = 4096;

/** A mounted tmpfs, unmounted and removed when disposed. */
export interface Tmpfs extends Disposable {
  /** Where it is mounted. */
  path: string;
}

/**
 * Mounts a tmpfs of `size` (as `mount -o size=` takes it, e.g. "256k") at a
 * fresh directory. Returns `undefined`, printing why, where mounting is not
 * possible (not root, no mount): the caller then skips its test.
 */
export function mountTmpfs(size: string, test: string): Tmpfs | undefined {
  const skip = (why: string) => {
    console.log(`skipped "${test}": ${why}`);
    return undefined;
  };
  if (Deno.build.os !== "linux") return skip("tmpfs needs Linux");
  const path = Deno.makeTempDirSync({ prefix: "zig-session-tmpfs-" });
  let out: Deno.CommandOutput | undefined;
  try {
    out = new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", path],
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
  } catch {
    // No mount command.
  }
  if (!out?.success) {
    Deno.removeSync(path);
    const why = out ? new TextDecoder().decode(out.stderr).trim() : "no mount";
    return skip(`cannot mount a tmpfs (root is needed): ${why}`);
  }
  return {
    path,
    [Symbol.dispose]() {
      // Lazily: a file a failed test left open must not keep it mounted.
      const umount = new Deno.Command("umount", { args: ["-l", path] })
        .outputSync();
      if (!umount.success) throw new Error(`Cannot unmount ${path}`);
      Deno.removeSync(path);
    },
  };
}

/**
 * Fills a file system with a filler file until the disk is full, then frees
 * `leavePages` pages of it. Returns the filler's path (remove it to free the
 * space again).
 */
export function fillUp(dir: string, leavePages = 0): string {
  const path = join(dir, "filler");
  const file = Deno.openSync(path, { create: true, write: true });
  let size = 0;
  try {
    const block = new Uint8Array(64 * 1024);
    for (;;) size += file.writeSync(block);
  } catch (error) {
    if (!String(error).includes("No space left")) throw error;
  }
  file.truncateSync(Math.max(0, size - leavePages * PAGE));
  file.close();
  return path;
}
