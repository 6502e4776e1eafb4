// Internal: a log's bytes in chunks, and its lines for readers that must not
// hold a line too long to hold (counting, searching).
import { fsError } from "./_fs.ts";
import { LineSplitter } from "./_line_parser.ts";
import {
  JsonScanner,
  type ScannedObject,
  type StringVisitor,
} from "./_json_scan.ts";
import type { ProblemHandler } from "./types.ts";

const CHUNK = 1 << 20;

/** Where problems go, and a signal to stop. */
export interface ChunkOptions {
  /** Told about torn lines and bytes that are not UTF-8. */
  onProblem?: ProblemHandler;
  /** Stops reading when aborted. */
  signal?: AbortSignal;
}

/** Reads a log in chunks of at most 1 MiB (the buffer is reused). */
export async function* readChunks(
  path: string,
  options: ChunkOptions & { offset?: number; length?: number } = {},
): AsyncGenerator<Uint8Array> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    throw fsError(error, { action: "read the session log", path });
  }
  try {
    let left = options.length ?? Infinity;
    if (options.offset) await file.seek(options.offset, Deno.SeekMode.Start);
    const buffer = new Uint8Array(CHUNK);
    while (left > 0) {
      options.signal?.throwIfAborted();
      let n: number | null;
      try {
        n = await file.read(
          left < CHUNK ? buffer.subarray(0, left) : buffer,
        );
      } catch (error) {
        throw fsError(error, { action: "read the session log", path });
      }
      if (n === null) break;
      left -= n;
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
    long(line, offset) {
      const scanner = new JsonScanner({ strings: options.strings?.(line) });
      return {
        piece: (text) => scanner.push(text),
        end(length) {
          const object = scanner.end();
          batch.push({
            line,
            long: { offset, length, object, error: scanner.error },
          });
        },
      };
    },
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
