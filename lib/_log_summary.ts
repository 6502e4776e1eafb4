// Internal: reading a log's first and last lines without reading the rest.
import { fsError, readRangeSync } from "./_fs.ts";

const CHUNK = 64 * 1024;
const decoder = new TextDecoder();

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

function lastNewline(buffer: Uint8Array, from: number): number {
  return from < 0 ? -1 : buffer.lastIndexOf(10, from);
}

function readAt(file: Deno.FsFile, position: number, length: number) {
  return readRangeSync(file, { position, length });
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

/** The first line, if it is complete and parses. */
export function firstEvent(file: Deno.FsFile, size: number) {
  let head: Uint8Array = new Uint8Array(0);
  let newline = -1;
  while (newline < 0 && head.length < size) {
    const more = readAt(file, head.length, Math.min(CHUNK, size - head.length));
    if (more.length === 0) break;
    newline = more.indexOf(10);
    if (newline >= 0) newline += head.length;
    head = concat(head, more);
  }
  return newline < 0
    ? undefined
    : parseObject(decoder.decode(head.subarray(0, newline)));
}

/** The last line that ends with a newline and parses, reading backward. */
export function lastEvent(file: Deno.FsFile, size: number) {
  let end = size;
  let tail: Uint8Array = new Uint8Array(0);
  let tailStart = size;
  let step = 4096; // most last lines are short: start small
  while (tailStart > 0) {
    const from = Math.max(0, tailStart - step);
    step = CHUNK;
    tail = concat(readAt(file, from, tailStart - from), tail);
    tailStart = from;
    let lineEnd = lastNewline(tail, end - tailStart - 1);
    while (lineEnd >= 0) {
      const lineStart = lastNewline(tail, lineEnd - 1) + 1;
      if (lineStart === 0 && tailStart > 0) break; // the line starts earlier
      const text = decoder.decode(tail.subarray(lineStart, lineEnd)).trim();
      const event = text === "" ? undefined : parseObject(text);
      if (event !== undefined) return event;
      end = tailStart + lineStart;
      lineEnd = lineStart - 1;
    }
  }
  return undefined;
}

/** Whether the file ends with a newline (an empty file does). */
export function endsWithNewline(file: Deno.FsFile, size: number): boolean {
  return size === 0 || readAt(file, size - 1, 1)[0] === 10;
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
    const last = lastEvent(file, size);
    const seq = typeof last?.seq === "number" ? last.seq : 0;
    const ended = last?.type === "zig_session_ended"
      ? String(last.status)
      : undefined;
    if (endsWithNewline(file, size)) return { seq, torn: false, ended };
    const before = readAt(
      file,
      Math.max(0, size - CHUNK),
      Math.min(CHUNK, size),
    );
    const nl = before.lastIndexOf(10);
    const tornOffset = nl < 0 && size > CHUNK
      ? undefined
      : size - before.length + nl + 1;
    return { seq, torn: true, tornOffset, ended };
  } catch (error) {
    throw fsError(error, { action: "read the end of the session log", path });
  }
}
