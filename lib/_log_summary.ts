// Internal: reading a log's first and last lines without reading the rest.
// Newlines are searched in the bytes (never by joining chunks), and a line
// longer than LONG_LINE is read in one streaming pass that keeps only its
// short members: time is linear and memory bounded whatever a line's length.
import { fsError } from "./_fs.ts";
import { JsonScanner } from "./_json_scan.ts";
import { LONG_LINE } from "./_line_parser.ts";

const CHUNK = 64 * 1024;
const decoder = new TextDecoder();

/** Bytes this module has read from logs: lets tests prove its reads linear. */
export const bytesRead = { count: 0 };

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? value
      : undefined;
  } catch {
    return undefined;
  }
}

/** Fills `buffer` from `position` (less at the end of the file). */
function readInto(
  file: Deno.FsFile,
  position: number,
  buffer: Uint8Array,
): Uint8Array {
  file.seekSync(position, Deno.SeekMode.Start);
  let filled = 0;
  while (filled < buffer.length) {
    const n = file.readSync(buffer.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  bytesRead.count += filled;
  return buffer.subarray(0, filled);
}

/** A line, whole when it is short; its short members when it is long. */
function parseLine(
  file: Deno.FsFile,
  range: { start: number; end: number; bytes?: Uint8Array },
): Record<string, unknown> | undefined {
  const { start, end } = range;
  if (end - start <= LONG_LINE) {
    const bytes = range.bytes ??
      readInto(file, start, new Uint8Array(end - start));
    const text = decoder.decode(bytes).trim();
    return text === "" ? undefined : parseObject(text);
  }
  const scanner = new JsonScanner();
  const stream = new TextDecoder();
  const buffer = new Uint8Array(CHUNK);
  for (let at = start; at < end;) {
    const bytes = readInto(
      file,
      at,
      buffer.subarray(0, Math.min(CHUNK, end - at)),
    );
    if (bytes.length === 0) return undefined; // the file shrank
    scanner.push(stream.decode(bytes, { stream: true }));
    at += bytes.length;
  }
  scanner.push(stream.decode());
  return scanner.end()?.members;
}

/** Reads a file backward a chunk at a time, keeping the last chunk read. */
class Backward {
  #file: Deno.FsFile;
  #buffer = new Uint8Array(CHUNK);
  #start = 0; // the file range the buffer holds
  #end = 0;
  #step = 4096; // most last lines are short: start small

  constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  /** Where the last newline before `before` is, or -1. */
  newlineBefore(before: number): number {
    let limit = before;
    while (limit > 0) {
      if (!(this.#start < limit && limit <= this.#end)) {
        const from = Math.max(0, limit - this.#step);
        this.#step = CHUNK;
        const bytes = readInto(
          this.#file,
          from,
          this.#buffer.subarray(0, limit - from),
        );
        this.#start = from;
        this.#end = from + bytes.length;
        if (this.#end < limit) return -1; // the file shrank
      }
      const at = this.#buffer.lastIndexOf(10, limit - 1 - this.#start);
      if (at >= 0) return this.#start + at;
      limit = this.#start;
    }
    return -1;
  }

  /** The bytes from `start` to `end` if the last chunk read holds them. */
  held(start: number, end: number): Uint8Array | undefined {
    return start >= this.#start && end <= this.#end
      ? this.#buffer.subarray(start - this.#start, end - this.#start)
      : undefined;
  }
}

/** The first line, if it is complete and parses. */
export function firstEvent(file: Deno.FsFile, size: number) {
  const parts: Uint8Array[] = [];
  let held = 0;
  let scanner: JsonScanner | undefined;
  const stream = new TextDecoder();
  for (let at = 0; at < size;) {
    const chunk = readInto(
      file,
      at,
      new Uint8Array(Math.min(CHUNK, size - at)),
    );
    if (chunk.length === 0) break;
    at += chunk.length;
    const newline = chunk.indexOf(10);
    const piece = newline < 0 ? chunk : chunk.subarray(0, newline);
    if (scanner !== undefined) {
      scanner.push(stream.decode(piece, { stream: true }));
    } else {
      parts.push(piece);
      held += piece.length;
      if (newline < 0 && held > LONG_LINE) {
        // Too long to hold: read on with a scan that keeps the short members.
        scanner = new JsonScanner();
        for (const part of parts) {
          scanner.push(stream.decode(part, { stream: true }));
        }
        parts.length = 0;
      }
    }
    if (newline < 0) continue;
    if (scanner === undefined) {
      const line = new Uint8Array(held);
      let offset = 0;
      for (const part of parts) {
        line.set(part, offset);
        offset += part.length;
      }
      return parseObject(decoder.decode(line));
    }
    scanner.push(stream.decode());
    return scanner.end()?.members;
  }
  return undefined;
}

/** The last line that ends with a newline and parses, and where the last newline is. */
function tail(file: Deno.FsFile, size: number) {
  const back = new Backward(file);
  const lastNewline = back.newlineBefore(size);
  let end = lastNewline;
  while (end >= 0) {
    const start = back.newlineBefore(end) + 1;
    const event = parseLine(file, { start, end, bytes: back.held(start, end) });
    if (event !== undefined) return { event, lastNewline };
    end = start - 1;
  }
  return { event: undefined, lastNewline };
}

/** The last line that ends with a newline and parses, reading backward. */
export function lastEvent(file: Deno.FsFile, size: number) {
  return tail(file, size).event;
}

/** Whether the file ends with a newline (an empty file does). */
export function endsWithNewline(file: Deno.FsFile, size: number): boolean {
  return size === 0 ||
    readInto(file, size - 1, new Uint8Array(1))[0] === 10;
}

/** Where an appender stands: the last `seq` written and whether the tail is torn. */
export interface LogTail {
  /** `seq` of the last complete event, 0 when there is none. */
  seq: number;
  /** Whether the file ends without a newline. */
  torn: boolean;
  /** Where the torn line starts, when `torn`. */
  tornOffset?: number;
  /** The status, when the last complete event is `zig_session_ended`. */
  ended?: string;
}

/** Reads the tail of an open log (opened for reading). */
export function lastEventOfFile(file: Deno.FsFile, path: string): LogTail {
  try {
    const size = file.statSync().size;
    const { event, lastNewline } = tail(file, size);
    const seq = typeof event?.seq === "number" ? event.seq : 0;
    const ended = event?.type === "zig_session_ended"
      ? String(event.status)
      : undefined;
    if (lastNewline === size - 1 || size === 0) {
      return { seq, torn: false, ended };
    }
    return { seq, torn: true, tornOffset: lastNewline + 1, ended };
  } catch (error) {
    throw fsError(error, { action: "read the end of the session log", path });
  }
}
