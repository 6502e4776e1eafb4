// Internal: splits the bytes of a log into lines and parses lines as events,
// reporting malformed and torn lines instead of failing.
import { reportProblem } from "./_problems.ts";
import { OUTPUT_RUN, OutputEvents } from "./_raw_event.ts";
import type { ProblemHandler, SessionLogEvent } from "./types.ts";

/** Lines longer than this (bytes) go to a long-line sink when there is one. */
export const LONG_LINE = 1 << 20;

/** Receives a line too long to hold, as text, a piece at a time. */
export interface LongLineSink {
  /** The next piece of the line's text. */
  piece(text: string): void;
  /** The line ended with its newline; `length` is its length in bytes. */
  end(length: number): void;
}

/**
 * Receives a run of complete lines decoded at once: `text` holds one or more
 * lines, each ending with "\n", the first numbered `line`. Returns how many
 * lines it holds (the handler walks them anyway; the splitter does not walk
 * them again).
 */
export type BlockHandler = (text: string, line: number) => number;

/** Options of {@linkcode LineSplitter}. */
export interface SplitterOptions {
  /**
   * Opens a sink for a line longer than {@linkcode LONG_LINE} bytes, given
   * its number and the byte offset where it starts. Without it, long lines
   * are held whole like the others.
   */
  long?: (line: number, offset: number) => LongLineSink;
}

/**
 * The longest line held as text, in bytes: V8's longest string (in UTF-16
 * units, never more than a line's UTF-8 bytes). A longer line cannot be
 * decoded; it is reported and skipped, not held.
 */
export const MAX_TEXT_LINE = 0x1fff_ffe8;

const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Whether bytes that decoded to `text` hold invalid UTF-8 (checked only when U+FFFD shows). */
function invalidUtf8(bytes: Uint8Array, text: string): boolean {
  if (!text.includes("\uFFFD")) return false;
  try {
    strict.decode(bytes);
    return false; // a real U+FFFD, written as such
  } catch {
    return true;
  }
}

/** Where the last complete UTF-8 sequence in `bytes` ends. */
function completeUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = n - 1;
  while (i >= 0 && i > n - 4 && (bytes[i] & 0xc0) === 0x80) i--;
  if (i < 0) return n;
  const lead = bytes[i];
  const size = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return lead < 0xf8 && n - i < size ? i : n;
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const joined = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.length;
  }
  return joined;
}

/**
 * Splits bytes into complete lines; what follows the last newline waits.
 * Each chunk is searched for newlines once, and a line's bytes are decoded
 * once, whatever its length: time is linear in the input. Bytes that are not
 * UTF-8 are read as U+FFFD and reported (`invalid_utf8`).
 */
export class LineSplitter {
  #line = 0;
  #bytes = 0; // bytes pushed so far
  #lineStart = 0; // byte offset just after the last newline
  #parts: Uint8Array[] = []; // the waiting line's bytes, copied
  #partsLength = 0;
  #sink: LongLineSink | undefined; // the waiting line, when too long to hold
  #pending: Uint8Array = new Uint8Array(0); // a character the last chunk cut
  #invalid = false; // whether the long line held invalid UTF-8
  #overlong = false; // the waiting line is longer than MAX_TEXT_LINE: dropped
  #path: string;
  #onProblem: ProblemHandler | undefined;
  #long: SplitterOptions["long"];

  constructor(
    path: string,
    onProblem: ProblemHandler | undefined,
    options: SplitterOptions = {},
  ) {
    this.#path = path;
    this.#onProblem = onProblem;
    this.#long = options.long;
  }

  /**
   * Calls `onLine` for every complete line in `bytes` (with what was carried
   * over); with `onBlock`, runs of lines decoded together go to it instead,
   * as one text.
   */
  push(
    bytes: Uint8Array,
    onLine: (text: string, line: number) => void,
    onBlock?: BlockHandler,
  ): void {
    if (bytes.length === 0) return;
    const first = bytes.indexOf(10);
    if (first < 0) {
      this.#hold(bytes);
      this.#bytes += bytes.length;
      return;
    }
    let from = 0;
    if (this.#sink !== undefined || this.#partsLength > 0 || this.#overlong) {
      this.#endWaiting(bytes.subarray(0, first), onLine);
      from = first + 1;
    }
    const last = bytes.lastIndexOf(10);
    if (last >= from) {
      this.#lines(bytes.subarray(from, last + 1), onLine, onBlock);
    }
    this.#lineStart = this.#bytes + last + 1;
    this.#bytes += bytes.length;
    if (last + 1 < bytes.length) this.#hold(bytes.subarray(last + 1));
  }

  /** Ends the input: a line left without its newline is reported as torn. */
  finish(): void {
    const length = this.#bytes - this.#lineStart;
    const rest = this.#sink !== undefined || this.#overlong
      ? undefined
      : decoder.decode(concat(this.#parts, this.#partsLength));
    this.#sink = undefined;
    this.#overlong = false;
    this.#parts = [];
    this.#partsLength = 0;
    this.#pending = new Uint8Array(0);
    if (length === 0 || rest?.trim() === "") return;
    const line = this.#line + 1;
    reportProblem(this.#onProblem, {
      kind: "torn_line",
      path: this.#path,
      line,
      offset: this.#lineStart,
      message:
        `Line ${line} of ${this.#path} is torn: it has no newline (${length} bytes, a write cut short), left out of the events`,
    });
  }

  /** Complete lines, each ending with a newline: decoded at once, split as text. */
  #lines(
    bytes: Uint8Array,
    onLine: (text: string, line: number) => void,
    onBlock: BlockHandler | undefined,
  ) {
    const text = decoder.decode(bytes);
    if (text.includes("\uFFFD")) return this.#linesChecked(bytes, onLine);
    if (onBlock !== undefined) {
      this.#line += onBlock(text, this.#line + 1);
      return;
    }
    let start = 0;
    let newline: number;
    while ((newline = text.indexOf("\n", start)) !== -1) {
      onLine(text.slice(start, newline), ++this.#line);
      start = newline + 1;
    }
  }

  /** The same, a line at a time, telling which lines are not UTF-8. */
  #linesChecked(
    bytes: Uint8Array,
    onLine: (text: string, line: number) => void,
  ) {
    let start = 0;
    let newline: number;
    while ((newline = bytes.indexOf(10, start)) !== -1) {
      this.#emit(bytes.subarray(start, newline), onLine);
      start = newline + 1;
    }
  }

  #emit(bytes: Uint8Array, onLine: (text: string, line: number) => void) {
    const text = decoder.decode(bytes);
    const line = ++this.#line;
    if (invalidUtf8(bytes, text)) this.#reportInvalid(line);
    onLine(text, line);
  }

  #reportInvalid(line: number): void {
    reportProblem(this.#onProblem, {
      kind: "invalid_utf8",
      path: this.#path,
      line,
      message:
        `Line ${line} of ${this.#path} holds bytes that are not UTF-8: read them as U+FFFD, but zig cannot read this log`,
    });
  }

  /** Keeps the start of a line that has no newline yet. */
  #hold(bytes: Uint8Array): void {
    if (this.#sink !== undefined) return this.#feed(bytes);
    if (this.#overlong) return;
    this.#parts.push(bytes.slice());
    this.#partsLength += bytes.length;
    if (this.#long === undefined && this.#partsLength > MAX_TEXT_LINE) {
      // Too long for a string: nothing could read it, so it is not held.
      this.#overlong = true;
      this.#parts = [];
      this.#partsLength = 0;
      return;
    }
    if (this.#long === undefined || this.#partsLength <= LONG_LINE) return;
    // Too long to hold: stream it to a sink from now on.
    this.#sink = this.#long(this.#line + 1, this.#lineStart);
    this.#invalid = false;
    const parts = this.#parts;
    this.#parts = [];
    this.#partsLength = 0;
    for (const part of parts) this.#feed(part);
  }

  /** Sends bytes of a long line to its sink, whole characters only. */
  #feed(bytes: Uint8Array): void {
    if (this.#pending.length > 0) {
      bytes = concat(
        [this.#pending, bytes],
        this.#pending.length + bytes.length,
      );
    }
    const end = completeUtf8(bytes);
    this.#pending = bytes.slice(end);
    this.#decodeTo(bytes.subarray(0, end));
  }

  #decodeTo(bytes: Uint8Array): void {
    const text = decoder.decode(bytes);
    if (!this.#invalid && invalidUtf8(bytes, text)) this.#invalid = true;
    this.#sink!.piece(text);
  }

  /** The waiting line ends with `tail`. */
  #endWaiting(
    tail: Uint8Array,
    onLine: (text: string, line: number) => void,
  ): void {
    const sink = this.#sink;
    if (
      this.#overlong ||
      (sink === undefined && this.#partsLength + tail.length > MAX_TEXT_LINE)
    ) {
      this.#overlong = false;
      this.#parts = [];
      this.#partsLength = 0;
      const line = ++this.#line;
      const length = this.#bytes + tail.length - this.#lineStart;
      const reason =
        `${length} bytes long, more than the ${MAX_TEXT_LINE} a text can hold`;
      reportProblem(this.#onProblem, {
        kind: "malformed_line",
        path: this.#path,
        line,
        reason,
        message:
          `Line ${line} of ${this.#path} cannot be read: it is ${reason}; skipped it and read on`,
      });
      return;
    }
    if (sink === undefined) {
      this.#parts.push(tail);
      const bytes = concat(this.#parts, this.#partsLength + tail.length);
      this.#parts = [];
      this.#partsLength = 0;
      this.#emit(bytes, onLine);
      return;
    }
    this.#feed(tail);
    if (this.#pending.length > 0) this.#decodeTo(this.#pending); // cut short: U+FFFD
    this.#pending = new Uint8Array(0);
    this.#sink = undefined;
    const line = ++this.#line;
    if (this.#invalid) this.#reportInvalid(line);
    sink.end(this.#bytes + tail.length - this.#lineStart);
  }
}

/** Parses one line as an event, or reports it as malformed. Blank lines are skipped. */
export function parseEventLine(
  text: string,
  where: { path: string; line: number; onProblem: ProblemHandler | undefined },
): SessionLogEvent | undefined {
  let value: unknown;
  let reason: string;
  let why: string;
  try {
    value = JSON.parse(text);
    if (
      value !== null && typeof value === "object" &&
      typeof (value as SessionLogEvent).seq === "number" &&
      typeof (value as SessionLogEvent).type === "string"
    ) {
      return value as SessionLogEvent;
    }
    reason = 'not an event object with "seq" and "type"';
    why = `it is ${reason}`;
  } catch (error) {
    if (text.trim() === "") return undefined;
    reason = (error as Error).message;
    why = `it is not JSON (${reason})`;
  }
  reportProblem(where.onProblem, {
    kind: "malformed_line",
    path: where.path,
    line: where.line,
    text,
    reason,
    message:
      `Line ${where.line} of ${where.path} is malformed: ${why}; skipped it and read on`,
  });
  return undefined;
}

/** Options of {@linkcode LineParser}. */
export interface LineParserOptions {
  /**
   * Build the events of step_output lines in zig's exact shape from their
   * raw text instead of parsing them (the same events, faster). Their
   * strings then share the memory of the chunk's text: for readers that
   * keep every event anyway.
   */
  fromText?: boolean;
}

/** Splits bytes into lines and parses each as an event. */
export class LineParser {
  #splitter: LineSplitter;
  #path: string;
  #onProblem: ProblemHandler | undefined;
  #outputs: OutputEvents | undefined;

  constructor(
    path: string,
    onProblem: ProblemHandler | undefined,
    options: LineParserOptions = {},
  ) {
    this.#splitter = new LineSplitter(path, onProblem);
    this.#path = path;
    this.#onProblem = onProblem;
    this.#outputs = options.fromText ? new OutputEvents() : undefined;
  }

  /** Parses every complete line in `bytes` into `into`. */
  push(bytes: Uint8Array, into: SessionLogEvent[]): void {
    const outputs = this.#outputs;
    const onLine = (text: string, line: number) => {
      const event = outputs?.build(text, 0) as SessionLogEvent | undefined ??
        parseEventLine(text, {
          path: this.#path,
          line,
          onProblem: this.#onProblem,
        });
      if (event !== undefined) into.push(event);
    };
    if (outputs === undefined) return this.#splitter.push(bytes, onLine);
    this.#splitter.push(bytes, onLine, (text, first) => {
      let line = first;
      for (let start = 0; start < text.length; line++) {
        // A run of zig's output lines is recognised in one pass.
        OUTPUT_RUN.lastIndex = start;
        OUTPUT_RUN.test(text);
        for (const end = OUTPUT_RUN.lastIndex; start < end; line++) {
          const newline = text.indexOf("\n", start);
          into.push(
            outputs.known(text, start, newline) as unknown as SessionLogEvent,
          );
          start = newline + 1;
        }
        if (start >= text.length) break;
        const newline = text.indexOf("\n", start);
        onLine(text.slice(start, newline), line);
        start = newline + 1;
      }
      return line - first;
    });
  }

  /** Ends the input: a line left without its newline is reported as torn. */
  finish(): void {
    this.#splitter.finish();
  }
}
