// Internal: splits the bytes of a log into lines and parses lines as events,
// reporting malformed and torn lines instead of failing.
import { reportProblem } from "./_problems.ts";
import type { ProblemHandler, SessionLogEvent } from "./types.ts";

/** Splits bytes into complete lines; what follows the last newline waits. */
export class LineSplitter {
  #decoder = new TextDecoder();
  #carry = "";
  #line = 0;
  #bytes = 0; // bytes pushed so far
  #lineStart = 0; // byte offset just after the last newline
  #path: string;
  #onProblem: ProblemHandler | undefined;

  constructor(path: string, onProblem: ProblemHandler | undefined) {
    this.#path = path;
    this.#onProblem = onProblem;
  }

  /** Calls `onLine` for every complete line in `bytes` (with what was carried over). */
  push(bytes: Uint8Array, onLine: (text: string, line: number) => void): void {
    const last = bytes.lastIndexOf(10);
    if (last >= 0) this.#lineStart = this.#bytes + last + 1;
    this.#bytes += bytes.length;
    const text = this.#carry + this.#decoder.decode(bytes, { stream: true });
    let start = 0;
    let newline: number;
    while ((newline = text.indexOf("\n", start)) !== -1) {
      onLine(text.slice(start, newline), ++this.#line);
      start = newline + 1;
    }
    this.#carry = start === 0 ? text : text.slice(start);
  }

  /** Ends the input: a line left without its newline is reported as torn. */
  finish(): void {
    const rest = this.#carry + this.#decoder.decode();
    this.#carry = "";
    if (rest.trim() === "") return;
    const line = this.#line + 1;
    reportProblem(this.#onProblem, {
      kind: "torn_line",
      path: this.#path,
      line,
      offset: this.#lineStart,
      message:
        `Line ${line} of ${this.#path} is torn: it has no newline (${rest.length} characters, a write cut short), left out of the events`,
    });
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

/** Splits bytes into lines and parses each as an event. */
export class LineParser {
  #splitter: LineSplitter;
  #path: string;
  #onProblem: ProblemHandler | undefined;

  constructor(path: string, onProblem: ProblemHandler | undefined) {
    this.#splitter = new LineSplitter(path, onProblem);
    this.#path = path;
    this.#onProblem = onProblem;
  }

  /** Parses every complete line in `bytes` into `into`. */
  push(bytes: Uint8Array, into: SessionLogEvent[]): void {
    this.#splitter.push(bytes, (text, line) => {
      const event = parseEventLine(text, {
        path: this.#path,
        line,
        onProblem: this.#onProblem,
      });
      if (event !== undefined) into.push(event);
    });
  }

  /** Ends the input: a line left without its newline is reported as torn. */
  finish(): void {
    this.#splitter.finish();
  }
}
