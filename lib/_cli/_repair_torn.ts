// Internal to the CLI: repairing a torn log (what verify --repair does): its
// unterminated last bytes moved aside, never deleted, under the log's lock.
import { basename, dirname } from "node:path";
import { sessionStateDetails, ZigError, zigHome } from "../../mod.ts";
import { type Context, paint, visible } from "./common.ts";
// Internal to the package: confinement to the zig home.
import { assertInsideHome, isSessionId } from "../_confine.ts";

/**
 * Where the unterminated bytes at the end of an open log start (after its
 * last newline), or `undefined` when it ends with a newline.
 */
function unterminatedTail(file: Deno.FsFile, size: number): number | undefined {
  if (size === 0) return undefined;
  const byte = new Uint8Array(1);
  file.seekSync(size - 1, Deno.SeekMode.Start);
  if (file.readSync(byte) === 1 && byte[0] === 10) return undefined;
  const chunk = new Uint8Array(64 * 1024);
  let end = size;
  while (end > 0) {
    const start = Math.max(0, end - chunk.length);
    const part = chunk.subarray(0, end - start);
    file.seekSync(start, Deno.SeekMode.Start);
    let filled = 0;
    while (filled < part.length) {
      const n = file.readSync(part.subarray(filled));
      if (n === null) break;
      filled += n;
    }
    const nl = part.subarray(0, filled).lastIndexOf(10);
    if (nl >= 0) return start + nl + 1;
    end = start;
  }
  return 0;
}

/**
 * Moves a torn tail into a file beside the log and cuts the log back. All is
 * decided again under the log's lock, which every appending writer takes:
 * nothing is cut from a session that is live (written within its heartbeat
 * allowance), and only the unterminated bytes found under the lock are cut,
 * whatever was seen before (complete events written since stay).
 */
export function repairTorn(logPath: string, ctx: Context): void {
  let file: Deno.FsFile;
  try {
    file = openForRepair(logPath, zigHome({ zigHome: ctx.zigHome }));
  } catch (error) {
    if (!(error instanceof ZigError)) throw error;
    ctx.out.write(`${paint(ctx.out, "red")("✗")} ${error.message}\n`);
    return;
  }
  try {
    file.lockSync(true);
    const { state } = sessionStateDetails({}, { logPath: logPath });
    if (state === "running") {
      ctx.out.write(
        `left ${
          visible(logPath)
        } as it is: written to since it was checked, its session is running\n`,
      );
      return;
    }
    const info = file.statSync();
    const size = info.size;
    const at = unterminatedTail(file, size);
    if (at === undefined) {
      ctx.out.write(
        `left ${visible(logPath)} as it is: its last line is complete now\n`,
      );
      return;
    }
    const torn = new Uint8Array(size - at);
    file.seekSync(at, Deno.SeekMode.Start);
    let filled = 0;
    while (filled < torn.length) {
      const n = file.readSync(torn.subarray(filled));
      if (n === null) break;
      filled += n;
    }
    const aside = `${logPath}.torn-${
      new Date().toISOString().replace(/[-:.]/g, "")
    }`;
    Deno.writeFileSync(aside, torn.subarray(0, filled), { createNew: true });
    file.truncateSync(at);
    // Cutting is no sign of life: keep the time the log was last written.
    if (info.mtime) file.utimeSync(info.atime ?? info.mtime, info.mtime);
    ctx.out.write(
      `repaired ${visible(logPath)}: moved ${filled} torn bytes to ${
        visible(aside)
      }\n`,
    );
  } finally {
    file.close();
  }
}

/**
 * Opens a log to cut its torn tail: only a regular `<id>.jsonl` file with a
 * single link (a hard link would cut another file too), in a `sessions`
 * folder inside the zig home, and only the very file `lstat` saw.
 */
function openForRepair(logPath: string, home: string): Deno.FsFile {
  const refuse = (why: string) =>
    new ZigError(`Not repairing "${logPath}": ${why}`, {
      kind: "corrupt",
      path: logPath,
    });
  const name = basename(logPath);
  if (
    !name.endsWith(".jsonl") || !isSessionId(name.slice(0, -6)) ||
    basename(dirname(logPath)) !== "sessions"
  ) {
    throw refuse("it is not a session log (<id>.jsonl in a sessions folder)");
  }
  assertInsideHome(logPath, home);
  const seen = Deno.lstatSync(logPath);
  if (!seen.isFile) throw refuse("it is not a regular file");
  if ((seen.nlink ?? 1) > 1) {
    throw refuse(
      `it has ${seen.nlink} hard links, so cutting it would cut another file too`,
    );
  }
  const file = Deno.openSync(logPath, { read: true, write: true });
  const opened = file.statSync();
  if (opened.dev !== seen.dev || opened.ino !== seen.ino) {
    file.close();
    throw refuse("it was replaced while it was opened");
  }
  return file;
}
