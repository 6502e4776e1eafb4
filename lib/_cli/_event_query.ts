// Internal: `events` reads only what it needs. Raw lines are judged before
// they are parsed: a line whose bytes cannot hold an event of the types asked
// for is skipped unparsed, a step_output line in zig's exact shape is counted
// without a parse (it is JSON for sure), and --last reads the log from its end
// backward, stopping once it has the events it wants.
import type { ProblemHandler, SessionLogEvent } from "../../mod.ts";
import { JsonScanner } from "../_json_scan.ts";
import { LONG_LINE } from "../_line_parser.ts";
import { type LongLine, readBlocks } from "../_log_lines.ts";
import { LinesBackward, type TailLine } from "../_log_tail.ts";
import { isOutputLine, OUTPUT_RUN } from "../_raw_event.ts";

/** What `events` selects and how it prints. */
export interface EventQuery {
  /** Only events of these types (none: every type). */
  types: string[];
  /** Only events with seq > this. */
  after?: number;
  /** Only events with seq < this. */
  before?: number;
  /** Only the last this many (after the other filters). */
  last?: number;
  /** Print the number of events only. */
  count: boolean;
}

/** Where a query's results go. */
export interface EventSink {
  /**
   * A selected event's line as stored, and the event when it was parsed
   * (not called when counting).
   */
  event(text: string, event?: SessionLogEvent): void;
  /** Told about torn, malformed and non-UTF-8 lines. */
  onProblem: ProblemHandler;
}

const decoder = new TextDecoder();
const strict = new TextDecoder("utf-8", { fatal: true });

/** `seq` read from a line that starts with zig's envelope; undefined when it does not. */
function rawSeq(text: string, start: number): number | undefined {
  if (!text.startsWith('{"seq":', start)) return undefined;
  let i = start + 7;
  let seq = 0;
  let c = text.charCodeAt(i);
  if (c === 48) {
    i++;
  } else {
    for (; c >= 48 && c <= 57 && i < start + 22; c = text.charCodeAt(++i)) {
      seq = seq * 10 + (c - 48);
    }
  }
  return i > start + 7 && i <= start + 22 && text.charCodeAt(i) === 44
    ? seq
    : undefined;
}

/** Judges events against a query: raw text first, then the parsed event. */
class Selection {
  readonly needles: string[];
  readonly #query: EventQuery;
  readonly #seqs: boolean;
  readonly #outputs: boolean;

  constructor(query: EventQuery) {
    this.#query = query;
    // zig writes the type right after the envelope, compact, unescaped: an
    // event of type T holds these bytes. Other lines are not parsed.
    this.needles = query.types.map((t) => `"type":"${t}"`);
    this.#seqs = query.after !== undefined || query.before !== undefined;
    this.#outputs = query.types.length === 0 ||
      query.types.includes("step_output");
  }

  /** Whether a seq read from the raw line passes the seq filters. */
  seqPasses(seq: number): boolean {
    const { after, before } = this.#query;
    return (after === undefined || seq > after) &&
      (before === undefined || seq < before);
  }

  /**
   * From the raw line text[start, end) (type needles already passed): `false`
   * when its envelope says it is out of the seq range, `true` when it is a
   * step_output line in zig's shape that is selected, `undefined` when it
   * must be parsed.
   */
  raw(text: string, start: number): boolean | undefined {
    if (this.#seqs) {
      const seq = rawSeq(text, start);
      if (seq !== undefined && !this.seqPasses(seq)) return false;
    }
    return this.#outputs && isOutputLine(text, start) ? true : undefined;
  }

  /** Whether a parsed value is a selected event. */
  matches(value: unknown): boolean {
    const event = value as { type?: unknown; seq?: unknown } | null;
    const { types, after, before } = this.#query;
    if (types.length > 0 && !types.includes(event?.type as string)) {
      return false;
    }
    if (after !== undefined && !((event?.seq as number) > after)) return false;
    if (before !== undefined && !((event?.seq as number) < before)) {
      return false;
    }
    return true;
  }

  /** Whether the raw line may hold an event of the types asked for. */
  mayHoldType(line: string): boolean {
    if (this.needles.length === 0) return true;
    for (const needle of this.needles) if (line.includes(needle)) return true;
    return false;
  }
}

/** The event a long line holds (its short members), or `undefined` if none. */
function longEvent(
  long: LongLine,
  where: { path: string; line?: number; onProblem: ProblemHandler },
): SessionLogEvent | undefined {
  const members = long.object?.members;
  if (typeof members?.seq === "number" && typeof members.type === "string") {
    return members as unknown as SessionLogEvent;
  }
  where.onProblem({
    kind: "malformed_line",
    path: where.path,
    line: where.line,
    offset: where.line === undefined ? long.offset : undefined,
    message: `${
      lineName(where.line, long.offset)
    } of ${where.path} is malformed: ${
      long.error ?? 'it is not an event object with "seq" and "type"'
    }; skipped it`,
  });
  return undefined;
}

/** "Line N", or for a line found reading backward (number unknown) "The line at byte N". */
function lineName(line: number | undefined, offset: number): string {
  return line === undefined ? `The line at byte ${offset}` : `Line ${line}`;
}

/** Parses a line, reporting it when it is no JSON (blank lines are skipped). */
function parsed(
  text: string,
  where: {
    path: string;
    line?: number;
    offset: number;
    onProblem: ProblemHandler;
  },
): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) };
  } catch {
    if (text.trim() !== "") {
      where.onProblem({
        kind: "malformed_line",
        path: where.path,
        line: where.line,
        offset: where.line === undefined ? where.offset : undefined,
        message: `${
          lineName(where.line, where.offset)
        } of ${where.path} is malformed: skipped it`,
      });
    }
    return undefined;
  }
}

/**
 * Runs a query over a log; returns how many events it selected (with
 * `last`, at most that many).
 */
export function queryEvents(
  path: string,
  options: { query: EventQuery; sink: EventSink },
): number {
  const { query } = options;
  return query.last === undefined
    ? forward(path, options)
    : backward(path, { ...options, last: query.last });
}

/** Reads the log from its start, judging raw lines a block at a time. */
function forward(
  path: string,
  options: { query: EventQuery; sink: EventSink },
): number {
  const { query, sink } = options;
  const select = new Selection(query);
  const needles = select.needles;
  const hits = needles.map(() => -1);
  const onProblem = sink.onProblem;
  let count = 0;
  // Counting every event: runs of step_output lines in zig's shape are
  // recognised in one native pass each, the other lines parsed.
  const every = query.count && needles.length === 0 &&
    query.after === undefined && query.before === undefined;
  const block = (text: string, first: number): number => {
    if (every) return countBlock(text, first);
    hits.fill(-1);
    let start = 0;
    let line = first;
    let newline: number;
    for (; (newline = text.indexOf("\n", start)) !== -1; start = newline + 1) {
      const number = line++;
      if (needles.length > 0) {
        // The next place each needle is found, kept while lines pass it.
        let candidate = false;
        for (let i = 0; i < needles.length; i++) {
          if (hits[i] !== Infinity && hits[i] < start) {
            const at = text.indexOf(needles[i], start);
            hits[i] = at < 0 ? Infinity : at;
          }
          if (hits[i] < newline) candidate = true;
        }
        if (!candidate) continue;
      }
      const raw = select.raw(text, start);
      if (raw === false) continue;
      if (raw === true) {
        count++;
        if (!query.count) sink.event(text.slice(start, newline));
        continue;
      }
      const stored = text.slice(start, newline);
      const result = parsed(stored, {
        path,
        line: number,
        offset: 0,
        onProblem,
      });
      if (result === undefined || !select.matches(result.value)) continue;
      count++;
      if (!query.count) sink.event(stored, result.value as SessionLogEvent);
    }
    return line - first;
  };
  const countBlock = (text: string, first: number): number => {
    let line = first;
    for (let start = 0; start < text.length;) {
      OUTPUT_RUN.lastIndex = start;
      OUTPUT_RUN.test(text);
      const end = OUTPUT_RUN.lastIndex;
      for (; start < end; line++, count++) {
        start = text.indexOf("\n", start) + 1;
      }
      if (start >= text.length) break;
      const newline = text.indexOf("\n", start);
      const result = parsed(text.slice(start, newline), {
        path,
        line,
        offset: 0,
        onProblem,
      });
      if (result !== undefined) count++;
      line++;
      start = newline + 1;
    }
    return line - first;
  };
  const long = (scanned: LongLine, line: number) => {
    const event = longEvent(scanned, { path, line, onProblem });
    if (event !== undefined && select.matches(event)) count++;
  };
  // Counting needs no line whole: a line too long to hold is scanned instead.
  readBlocks(path, query.count ? { block, long } : { block }, {
    onProblem,
  });
  return count;
}

/** The event a long line holds, read in one streaming pass from the file. */
function scanLong(
  lines: LinesBackward,
  line: TailLine,
): LongLine {
  const scanner = new JsonScanner();
  const stream = new TextDecoder();
  for (let at = line.start; at < line.end;) {
    const bytes = lines.read(at, Math.min(LONG_LINE, line.end - at));
    if (bytes.length === 0) break;
    scanner.push(stream.decode(bytes, { stream: true }));
    at += bytes.length;
  }
  scanner.push(stream.decode());
  const object = scanner.end();
  return {
    offset: line.start,
    length: line.end - line.start,
    object,
    error: scanner.error,
  };
}

/** Decodes a line, telling whether it held bytes that are not UTF-8. */
function decodeLine(bytes: Uint8Array): { text: string; invalid: boolean } {
  const text = decoder.decode(bytes);
  if (!text.includes("\uFFFD")) return { text, invalid: false };
  try {
    strict.decode(bytes);
    return { text, invalid: false };
  } catch {
    return { text, invalid: true };
  }
}

/**
 * Reads the log from its end backward until `last` events are selected.
 * Problems are told in file order, with byte offsets (line numbers would
 * need the whole file read).
 */
function backward(
  path: string,
  options: { query: EventQuery; sink: EventSink; last: number },
): number {
  const { query, sink, last } = options;
  const select = new Selection(query);
  const problems: Parameters<ProblemHandler>[0][] = [];
  const onProblem: ProblemHandler = (problem) => problems.push(problem);
  const kept: Array<{ event?: SessionLogEvent; text: string }> = [];
  let count = 0;
  const lines = new LinesBackward(path);
  try {
    const torn = lines.torn;
    if (torn !== undefined) {
      const rest = torn.length > LONG_LINE
        ? undefined
        : decoder.decode(lines.read(torn.offset, torn.length));
      if (rest === undefined || rest.trim() !== "") {
        onProblem({
          kind: "torn_line",
          path,
          offset: torn.offset,
          message:
            `The last line of ${path} is torn: it has no newline (${torn.length} bytes from byte ${torn.offset}, a write cut short), left out of the events`,
        });
      }
    }
    while (count < last) {
      const line = lines.previous();
      if (line === undefined) break;
      if (line.bytes === undefined) {
        // Too long to hold: counted from a scan, printed whole (as forward).
        const scanned = scanLong(lines, line);
        const event = longEvent(scanned, {
          path,
          onProblem,
        });
        if (event === undefined || !select.matches(event)) continue;
        count++;
        if (!query.count) {
          const { text } = decodeLine(
            lines.read(line.start, line.end - line.start),
          );
          kept.push({ text });
        }
        continue;
      }
      const { text, invalid } = decodeLine(line.bytes);
      if (invalid) {
        onProblem({
          kind: "invalid_utf8",
          path,
          offset: line.start,
          message:
            `The line at byte ${line.start} of ${path} holds bytes that are not UTF-8: read them as U+FFFD, but zig cannot read this log`,
        });
      }
      if (!select.mayHoldType(text)) continue;
      const raw = select.raw(text, 0);
      if (raw === false) continue;
      if (raw === true) {
        count++;
        if (!query.count) kept.push({ text });
        continue;
      }
      const result = parsed(text, { path, offset: line.start, onProblem });
      if (result === undefined || !select.matches(result.value)) continue;
      count++;
      if (!query.count) {
        kept.push({ event: result.value as SessionLogEvent, text });
      }
    }
  } finally {
    lines.close();
  }
  for (const problem of problems.reverse()) sink.onProblem(problem);
  for (let i = kept.length - 1; i >= 0; i--) {
    sink.event(kept[i].text, kept[i].event);
  }
  return count;
}
