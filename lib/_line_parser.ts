// Internal: turns the bytes of a log into events, line by line, reporting
// malformed and torn lines instead of failing.
import { reportProblem } from "./_problems.ts";
import type { ProblemHandler, SessionLogEvent } from "./types.ts";

/** Splits bytes into lines and parses each as an event. */
export class LineParser {
  #decoder = new TextDecoder();
  #carry = "";
  #line = 0;
  #path: string;
  #onProblem: ProblemHandler | undefined;

  constructor(path: string, onProblem: ProblemHandler | undefined) {
    this.#path = path;
    this.#onProblem = onProblem;
  }

  /** Number of complete lines seen so far. */
  get lines(): number {
    return this.#line;
  }

  /** Whether bytes of an unfinished line are waiting for their newline. */
  get pending(): boolean {
    return this.#carry.length > 0;
  }

  /** Parses every complete line in `bytes` (plus what was carried over). */
  push(bytes: Uint8Array, into: SessionLogEvent[]): void {
    const text = this.#carry + this.#decoder.decode(bytes, { stream: true });
    let start = 0;
    let newline: number;
    while ((newline = text.indexOf("\n", start)) !== -1) {
      this.#line++;
      this.#parse(text.slice(start, newline), into);
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
      message:
        `Line ${line} of ${this.#path} is torn: it has no newline (${rest.length} characters, a write cut short), left out of the events`,
    });
  }

  #parse(text: string, into: SessionLogEvent[]): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      if (text.trim() === "") return;
      this.#malformed(`it is not JSON (${(error as Error).message})`);
      return;
    }
    if (
      value === null || typeof value !== "object" ||
      typeof (value as SessionLogEvent).seq !== "number" ||
      typeof (value as SessionLogEvent).type !== "string"
    ) {
      this.#malformed('it is not an event object with "seq" and "type"');
      return;
    }
    into.push(value as SessionLogEvent);
  }

  #malformed(reason: string): void {
    reportProblem(this.#onProblem, {
      kind: "malformed_line",
      path: this.#path,
      line: this.#line,
      message:
        `Line ${this.#line} of ${this.#path} is malformed: ${reason}; skipped it and read on`,
    });
  }
}
