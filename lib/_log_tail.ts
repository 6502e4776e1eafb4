// Internal: a log's complete lines from its end backward, for queries that
// want its last events: they read only as far back as they go. Memory holds
// one chunk and one line; a line longer than LONG_LINE is only located (its
// bytes can be streamed from the file when they are needed).
import { fsError } from "./_fs.ts";
import { LONG_LINE } from "./_line_parser.ts";

const FIRST_READ = 64 * 1024; // most tails asked for are short
const CHUNK = 1 << 20;

/** Bytes this module has read: lets tests prove that a tail reads only the end. */
export const tailBytesRead = { count: 0 };

/** A complete line, found going backward. */
export interface TailLine {
  /** Byte offset where the line starts. */
  start: number;
  /** Byte offset of its newline. */
  end: number;
  /** Its bytes, when the line is at most LONG_LINE long. */
  bytes?: Uint8Array;
}

/** Reads a log's complete lines backward. Close it when done. */
export class LinesBackward {
  #file: Deno.FsFile;
  #path: string;
  #size: number;
  #buf = new Uint8Array(0);
  #bufStart = 0; // file offset of #buf[0]
  #lastNewline: number;
  #end: number; // offset of the newline that ends the next line, or -1
  #step = FIRST_READ;

  /** Opens a log; throws a ZigError when it cannot be read. */
  constructor(path: string) {
    this.#path = path;
    try {
      this.#file = Deno.openSync(path, { read: true });
    } catch (error) {
      throw fsError(error, { action: "read the session log", path });
    }
    try {
      this.#size = this.#file.statSync().size;
    } catch (error) {
      this.#file.close();
      throw fsError(error, { action: "read the session log", path });
    }
    this.#bufStart = this.#size;
    this.#lastNewline = this.#end = this.#locate(this.#size).newline;
  }

  /** Size of the log when it was opened. */
  get size(): number {
    return this.#size;
  }

  /** The torn last line (bytes after the last newline), if there is one. */
  get torn(): { offset: number; length: number } | undefined {
    const offset = this.#lastNewline + 1;
    return offset < this.#size
      ? { offset, length: this.#size - offset }
      : undefined;
  }

  /** The line before the last one returned (the last complete line first). */
  previous(): TailLine | undefined {
    const end = this.#end;
    if (end < 0) return undefined;
    const { newline, long } = this.#locate(end);
    const start = newline + 1;
    this.#end = newline;
    if (long) return { start, end };
    return {
      start,
      end,
      bytes: this.#buf.subarray(start - this.#bufStart, end - this.#bufStart),
    };
  }

  /** Reads `length` bytes from `offset` (a torn line, a piece of a long line). */
  read(offset: number, length: number): Uint8Array {
    return this.#read(offset, length);
  }

  close(): void {
    this.#file.close();
  }

  /**
   * The newline before `end` (-1 at the file's start), reading more as
   * needed; `long` when the line is longer than LONG_LINE (then it is not
   * held, only located).
   */
  #locate(end: number): { newline: number; long: boolean } {
    while (true) {
      if (end > this.#bufStart) {
        const at = this.#buf.lastIndexOf(10, end - 1 - this.#bufStart);
        if (at >= 0) return { newline: this.#bufStart + at, long: false };
      }
      if (this.#bufStart === 0) return { newline: -1, long: false };
      if (end - this.#bufStart > LONG_LINE) break;
      this.#grow(end);
    }
    const newline = this.#scanBack(this.#bufStart);
    this.#buf = new Uint8Array(0);
    this.#bufStart = Math.max(0, newline);
    return { newline, long: true };
  }

  /** Reads the chunk before the held bytes, keeping those up to `end`. */
  #grow(end: number): void {
    const from = Math.max(0, this.#bufStart - this.#step);
    this.#step = Math.min(CHUNK, this.#step * 2);
    const keep = end - this.#bufStart;
    const before = this.#read(from, this.#bufStart - from);
    if (before.length < this.#bufStart - from) this.#shrank();
    const buf = new Uint8Array(before.length + keep);
    buf.set(before);
    buf.set(this.#buf.subarray(0, keep), before.length);
    this.#buf = buf;
    this.#bufStart = from;
  }

  /** The last newline before `before`, reading backward without holding; -1 if none. */
  #scanBack(before: number): number {
    for (let limit = before; limit > 0;) {
      const from = Math.max(0, limit - CHUNK);
      const bytes = this.#read(from, limit - from);
      if (bytes.length < limit - from) this.#shrank();
      const at = bytes.lastIndexOf(10);
      if (at >= 0) return from + at;
      limit = from;
    }
    return -1;
  }

  #read(offset: number, length: number): Uint8Array {
    const bytes = new Uint8Array(length);
    let filled = 0;
    try {
      this.#file.seekSync(offset, Deno.SeekMode.Start);
      while (filled < length) {
        const n = this.#file.readSync(bytes.subarray(filled));
        if (n === null) break;
        filled += n;
      }
    } catch (error) {
      throw fsError(error, {
        action: "read the session log",
        path: this.#path,
      });
    }
    tailBytesRead.count += filled;
    return bytes.subarray(0, filled);
  }

  #shrank(): never {
    throw fsError(
      new Error("the file shrank while it was read backward"),
      { action: "read the session log", path: this.#path },
    );
  }
}
