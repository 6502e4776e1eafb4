// Internal: a log's bytes in chunks, and its lines for readers that must not
// hold a line too long to hold (counting, searching).
import { fsError } from "./_fs.ts";
import { type BlockHandler, LineSplitter } from "./_line_parser.ts";
import {
  JsonScanner,
  type ScannedObject,
  type StringVisitor,
} from "./_json_scan.ts";
import type { ProblemHandler } from "./types.ts";

/**
 * Bytes read at a time: small enough to stay in the processor's cache while
 * they are decoded and scanned (reading 1 MiB chunks measured 4 times slower
 * than 256 KiB ones, the copy itself dominating).
 */
const CHUNK = 256 * 1024;

/** Where problems go, and a signal to stop. */
export interface ChunkOptions {
  /** Told about torn lines and bytes that are not UTF-8. */
  onProblem?: ProblemHandler;
  /** Stops reading when aborted. */
  signal?: AbortSignal;
}

/**
 * Reads a log in chunks of at most 256 KiB. The next chunk is read while the
 * caller works on this one, into a second buffer: a chunk is valid until the
 * next one is asked for.
 */
export async function* readChunks(
  path: string,
  options: ChunkOptions & { offset?: number; length?: number } = {},
): AsyncGenerator<Uint8Array> {
  const action = "read the session log";
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    throw fsError(error, { action, path });
  }
  try {
    if (options.offset) await file.seek(options.offset, Deno.SeekMode.Start);
    yield* fileChunks(file, { ...options, path, action });
  } finally {
    file.close();
  }
}

/** Options of {@linkcode fileChunks}. */
export interface FileChunkOptions {
  /** The file's path, for errors. */
  path: string;
  /** What was being done, for errors ("read the session log"). */
  action: string;
  /** Bytes read at a time. Default: 256 KiB. */
  chunkSize?: number;
  /** Bytes to read at most. Default: to the end. */
  length?: number;
  /**
   * Checked before each chunk is handed over: when aborted, the read throws
   * the signal's reason, or with `quiet` just ends.
   */
  signal?: AbortSignal;
  /** End without an error when the signal aborts. */
  quiet?: boolean;
  /**
   * Called at the end of the file: resolves true to read on from there (the
   * file grew, or may have), false to end. Default: the end of the file ends.
   */
  atEnd?: () => Promise<boolean>;
}

/**
 * The one chunked read loop: the bytes of an open file from where it stands,
 * in chunks, the next chunk read while the caller works on this one (into a
 * second buffer: a chunk is valid until the next one is asked for). Serves
 * the readers (to the end) and the follower (on at the end, as it grows).
 * The caller closes the file.
 */
export async function* fileChunks(
  file: Deno.FsFile,
  options: FileChunkOptions,
): AsyncGenerator<Uint8Array> {
  const { path, action, signal } = options;
  const size = options.chunkSize ?? CHUNK;
  let pending: Promise<number | null> | undefined;
  try {
    let left = options.length ?? Infinity;
    const buffers = [new Uint8Array(size), new Uint8Array(size)];
    let turn = 0;
    const next = () => {
      const buffer = buffers[turn];
      return file.read(
        left < size ? buffer.subarray(0, left) : buffer,
      );
    };
    pending = left > 0 ? next() : undefined;
    while (pending !== undefined) {
      if (signal?.aborted) {
        if (options.quiet) return;
        signal.throwIfAborted();
      }
      let n: number | null;
      try {
        n = await pending;
      } catch (error) {
        pending = undefined;
        throw fsError(error, { action, path });
      }
      pending = undefined;
      if (n === null) {
        if (options.atEnd && await options.atEnd()) {
          pending = next();
          continue;
        }
        break;
      }
      left -= n;
      const chunk = buffers[turn].subarray(0, n);
      turn ^= 1;
      if (left > 0) pending = next();
      yield chunk;
    }
  } finally {
    // A read still under way must end before the file closes.
    await pending?.catch(() => {});
  }
}

/** Reads a log in chunks of at most 256 KiB, synchronously (the buffer is reused). */
function* readChunksSync(
  path: string,
  options: ChunkOptions = {},
): Generator<Uint8Array> {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch (error) {
    throw fsError(error, { action: "read the session log", path });
  }
  try {
    const buffer = new Uint8Array(CHUNK);
    while (true) {
      options.signal?.throwIfAborted();
      let n: number | null;
      try {
        n = file.readSync(buffer);
      } catch (error) {
        throw fsError(error, { action: "read the session log", path });
      }
      if (n === null) break;
      yield buffer.subarray(0, n);
    }
  } finally {
    file.close();
  }
}

/** A line longer than 1 MiB, scanned without holding it. */
export interface LongLine {
  /** Byte offset where the line starts. */
  offset: number;
  /** Its length in bytes, without the newline. */
  length: number;
  /** What the scan kept, or `undefined` when the line is no JSON object. */
  object: ScannedObject | undefined;
  /** Why the line is no JSON object. */
  error?: string;
}

/** A complete line: its text, or a long line's scan. */
export type ScannedLine =
  | { line: number; text: string; long?: undefined }
  | { line: number; text?: undefined; long: LongLine };

/** Options of {@linkcode scanLogLines}. */
export interface ScanLinesOptions extends ChunkOptions {
  /** Shown the string values of each long line (given its number), as they pass. */
  strings?: (line: number) => StringVisitor | undefined;
}

/** A sink for a long line's text that scans it, then hands it on. */
function longScanner(
  offset: number,
  options: {
    strings?: StringVisitor;
    done: (long: LongLine) => void;
  },
) {
  const scanner = new JsonScanner({ strings: options.strings });
  return {
    piece: (text: string) => scanner.push(text),
    end(length: number) {
      const object = scanner.end();
      options.done({ offset, length, object, error: scanner.error });
    },
  };
}

/** Where {@linkcode readBlocks} sends a log's complete lines. */
export interface BlockSink {
  /**
   * Lines decoded together, each ending with "\n", the first numbered
   * `line`; returns how many there are. A line carried over from one chunk to
   * the next comes alone.
   */
  block: BlockHandler;
  /**
   * A line longer than 1 MiB, scanned as it passes instead of held (what the
   * scan kept, given its number). Without it, long lines come to `block`.
   */
  long?: (long: LongLine, line: number) => void;
}

/**
 * Reads a log's complete lines in runs decoded at once, for queries that
 * look at most lines' raw text and parse few: one chunk (256 KiB) and one line
 * held at a time. A torn last line is reported to `onProblem`. Synchronous:
 * a query reads as fast as the file comes.
 */
export function readBlocks(
  path: string,
  sink: BlockSink,
  options: ChunkOptions = {},
): void {
  const long = sink.long;
  const splitter = new LineSplitter(
    path,
    options.onProblem,
    long === undefined ? {} : {
      long: (line, offset) =>
        longScanner(offset, { done: (scanned) => long(scanned, line) }),
    },
  );
  const onLine = (text: string, line: number) => {
    sink.block(text + "\n", line);
  };
  for (const bytes of readChunksSync(path, options)) {
    splitter.push(bytes, onLine, sink.block);
  }
  splitter.finish();
}

/**
 * Streams a log's complete lines: the text of each line up to 1 MiB, and
 * for longer lines what a one-pass scan kept (envelope and short members),
 * so that memory does not grow with a line's length.
 */
export async function* scanLogLines(
  path: string,
  options: ScanLinesOptions = {},
): AsyncGenerator<ScannedLine> {
  let batch: ScannedLine[] = [];
  const splitter = new LineSplitter(path, options.onProblem, {
    long: (line, offset) =>
      longScanner(offset, {
        strings: options.strings?.(line),
        done: (long) => batch.push({ line, long }),
      }),
  });
  const onLine = (text: string, line: number) => batch.push({ line, text });
  for await (const bytes of readChunks(path, options)) {
    splitter.push(bytes, onLine);
    if (batch.length === 0) continue;
    const lines = batch;
    batch = [];
    yield* lines;
  }
  splitter.finish();
}
