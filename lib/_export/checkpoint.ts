// Checkpoints: per endpoint and session, what was acknowledged. Stored in the
// zig home as <home>/export/<endpoint key>/<session id>.json, each replaced
// atomically (a new temporary file renamed over it) while the endpoint's lock
// (<home>/export/<endpoint key>/.lock) is held. Nothing is created through a
// symbolic link, and a checkpoint that does not parse is moved aside.
import { createHash } from "node:crypto";
import { join } from "node:path";
import { ZigError } from "../../mod.ts";
import type { ExportConfig } from "./config.ts";

/** What was acknowledged for one session. */
export interface Checkpoint {
  /** Every event up to this seq was delivered as a log record. */
  logs_seq: number;
  /** Every span ended by an event up to this seq was delivered. */
  spans_seq: number;
  /** The root span was delivered: no span of this session is left. */
  spans_closed: boolean;
  /** Bytes of the log read when this was written: unchanged means done. */
  log_size: number;
}

/** An empty checkpoint: nothing sent yet. */
export const NOTHING_SENT: Readonly<Checkpoint> = Object.freeze({
  logs_seq: 0,
  spans_seq: 0,
  spans_closed: false,
  log_size: 0,
});

/**
 * The folder name of an endpoint: host and port, and a short hash of both
 * signal URLs (never the headers, which may hold credentials).
 */
export function endpointKey(config: ExportConfig): string {
  const url = new URL(config.logs.url);
  const host = `${url.hostname}_${
    url.port || (url.protocol === "https:" ? "443" : "80")
  }`
    .replace(/[^A-Za-z0-9._-]/g, "_");
  const hash = createHash("sha256")
    .update(`${config.logs.url}\n${config.traces.url}`)
    .digest("hex")
    .slice(0, 8);
  return `${host}-${hash}`;
}

/** Session ids that are safe as file names (no separators, no dot names). */
export function safeSessionId(id: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(id);
}

function ioError(error: unknown, action: string, path: string): ZigError {
  if (error instanceof ZigError) return error;
  const kind = error instanceof Deno.errors.PermissionDenied ||
      error instanceof Deno.errors.NotCapable
    ? "permission"
    : "io";
  return new ZigError(
    `Cannot ${action} at "${path}": ${(error as Error).message}`,
    { kind, path, cause: error },
  );
}

/** lstat, or undefined when the path does not exist. */
function lstat(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.lstatSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw ioError(error, "look up the checkpoint path", path);
  }
}

function refuseLink(path: string): never {
  throw new ZigError(
    `Refusing to use "${path}" for export checkpoints: it is a symbolic link or not a regular file or folder; checkpoints are only written inside the zig home, remove it or move it aside`,
    { kind: "permission", path },
  );
}

/** The checkpoints of one endpoint in one zig home. */
export class CheckpointStore {
  readonly dir: string;
  #home: string;
  #lock?: Deno.FsFile;
  #onProblem: (message: string) => void;
  #readOnly: boolean;
  #temp = 0;

  constructor(
    home: string,
    options: {
      key: string;
      onProblem: (message: string) => void;
      /** Never change anything (a dry run): a corrupt file stays. */
      readOnly?: boolean;
    },
  ) {
    this.#home = home;
    this.dir = join(home, "export", options.key);
    this.#onProblem = options.onProblem;
    this.#readOnly = options.readOnly ?? false;
  }

  /** Creates `<home>/export/<key>`, one level at a time, never via a link. */
  #ensureDir(): void {
    for (const dir of [join(this.#home, "export"), this.dir]) {
      const info = lstat(dir);
      if (info === undefined) {
        try {
          Deno.mkdirSync(dir, { mode: 0o700 });
        } catch (error) {
          if (!(error instanceof Deno.errors.AlreadyExists)) {
            throw ioError(error, "create the checkpoint folder", dir);
          }
          if (!lstat(dir)?.isDirectory) refuseLink(dir);
        }
      } else if (!info.isDirectory) refuseLink(dir);
    }
  }

  /** Refuses folders that are links: nothing is read through them either. */
  #checkDirs(): boolean {
    for (const dir of [join(this.#home, "export"), this.dir]) {
      const info = lstat(dir);
      if (info === undefined) return false;
      if (!info.isDirectory) refuseLink(dir);
    }
    return true;
  }

  /** The checkpoint of a session (nothing sent when there is none). */
  read(sessionId: string): Checkpoint {
    if (!this.#checkDirs()) return { ...NOTHING_SENT };
    const path = join(this.dir, `${sessionId}.json`);
    const info = lstat(path);
    if (info === undefined) return { ...NOTHING_SENT };
    if (!info.isFile) refuseLink(path);
    let text: string;
    try {
      text = Deno.readTextFileSync(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return { ...NOTHING_SENT };
      throw ioError(error, "read the checkpoint", path);
    }
    try {
      const value = JSON.parse(text);
      if (
        Number.isSafeInteger(value.logs_seq) &&
        Number.isSafeInteger(value.spans_seq) &&
        typeof value.spans_closed === "boolean" &&
        Number.isSafeInteger(value.log_size)
      ) {
        return {
          logs_seq: value.logs_seq,
          spans_seq: value.spans_seq,
          spans_closed: value.spans_closed,
          log_size: value.log_size,
        };
      }
    } catch {
      // Handled below, like a value of the wrong shape.
    }
    if (this.#readOnly) {
      this.#onProblem(
        `The checkpoint ${path} did not parse: session ${sessionId} would be exported again from its start`,
      );
      return { ...NOTHING_SENT };
    }
    const aside = `${path}.corrupt-${Date.now()}`;
    try {
      Deno.renameSync(path, aside);
    } catch (error) {
      throw ioError(error, "move the corrupt checkpoint aside", path);
    }
    this.#onProblem(
      `The checkpoint ${path} did not parse: moved it to ${aside}; session ${sessionId} is exported again from its start`,
    );
    return { ...NOTHING_SENT };
  }

  /** Replaces a session's checkpoint atomically. Hold the lock. */
  write(sessionId: string, checkpoint: Checkpoint): void {
    // Holding the lock, lock() checked the folders just before.
    if (!this.#lock) this.#ensureDir();
    const path = join(this.dir, `${sessionId}.json`);
    const temp = join(
      this.dir,
      `.${sessionId}.tmp-${Deno.pid}-${++this.#temp}`,
    );
    const text = JSON.stringify({
      zig_session_id: sessionId,
      ...checkpoint,
      updated_at: new Date().toISOString(),
    }) + "\n";
    try {
      // createNew: never opens an existing file, nor follows a link.
      const file = Deno.openSync(temp, {
        write: true,
        createNew: true,
        mode: 0o600,
      });
      try {
        file.writeSync(new TextEncoder().encode(text));
      } finally {
        file.close();
      }
      const info = lstat(path);
      if (info !== undefined && !info.isFile) refuseLink(path);
      Deno.renameSync(temp, path);
    } catch (error) {
      try {
        Deno.removeSync(temp);
      } catch {
        // Never created.
      }
      throw ioError(error, "write the checkpoint", path);
    }
  }

  /**
   * Takes the endpoint's lock (an OS lock, released if the process dies),
   * waiting for another exporter to release it.
   */
  async lock(): Promise<void> {
    this.#ensureDir();
    const path = join(this.dir, ".lock");
    const info = lstat(path);
    if (info !== undefined && !info.isFile) refuseLink(path);
    try {
      const file = await Deno.open(path, { create: true, write: true });
      await file.lock(true);
      this.#lock = file;
    } catch (error) {
      throw ioError(error, "lock the checkpoints", path);
    }
  }

  /** Releases the lock. */
  unlock(): void {
    this.#lock?.close();
    this.#lock = undefined;
  }
}
