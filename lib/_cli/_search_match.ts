// Internal to the CLI: how `search` matches events (the values of their
// fields, never keys or envelope), in lines of any length, and what a hit's
// line shows of the match.
import type { ProblemHandler, SessionLogEvent } from "../../mod.ts";
import type { ScannedObject, StringVisitor } from "../_json_scan.ts";
import { type LongLine, readChunks, scanLogLines } from "../_log_lines.ts";
import { paint, visible, type Writer } from "./common.ts";
import { UsageError } from "./_args.ts";
import { formatEvent } from "./format.ts";

/** Every string in a value, depth first. */
function anyString(value: unknown, test: (s: string) => boolean): boolean {
  if (typeof value === "string") return test(value);
  if (value === null || typeof value !== "object") return false;
  for (const v of Array.isArray(value) ? value : Object.values(value)) {
    if (anyString(v, test)) return true;
  }
  return false;
}

const ESCAPES: Record<string, string> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

/** Undoes JSON escapes in a whole line, so that values read as they are. */
function unescapeLine(line: string): string {
  // Most escaped lines hold only escaped quotes: undo those the cheap way.
  const quotesOnly = line.replaceAll('\\"', '"');
  if (!quotesOnly.includes("\\")) return quotesOnly;
  return line.replace(
    /\\(?:u([0-9a-fA-F]{4})|(.))/g,
    (_, hex: string | undefined, c: string) =>
      hex ? String.fromCharCode(parseInt(hex, 16)) : ESCAPES[c] ?? c,
  );
}

const ENVELOPE = new Set(["seq", "ts", "zig_session_id", "type"]);

const WINDOW = 1 << 20;
const OVERLAP = 64 * 1024;

/**
 * Matches the string values of a line too long to hold as they pass, in
 * windows of 1 MiB that overlap by 64 KiB (more for a longer query): a match
 * longer than the overlap can be missed; none is made up.
 */
export class LongMatch implements StringVisitor {
  matched = false;
  #test: (window: string, from: number, final: boolean) => boolean;
  #overlap: number;
  #skip = true;
  #window = "";
  #from = 0;

  constructor(
    test: (window: string, from: number, final: boolean) => boolean,
    overlap: number,
  ) {
    this.#test = test;
    this.#overlap = overlap;
  }

  open(key: string | undefined): void {
    this.#skip = this.matched || (key !== undefined && ENVELOPE.has(key));
    this.#window = "";
    this.#from = 0;
  }

  piece(text: string): void {
    if (this.#skip) return;
    this.#window += text;
    if (this.#window.length >= WINDOW + this.#overlap) this.#judge(false);
  }

  close(): void {
    if (!this.#skip) this.#judge(true);
    this.#window = "";
  }

  #judge(final: boolean): void {
    const window = this.#window;
    if (this.#test(window, this.#from, final)) {
      this.matched = true;
      this.#skip = true;
      return;
    }
    // Keep the last `overlap` characters, and one before them as context.
    let keep = Math.max(1, window.length - this.#overlap);
    const c = window.charCodeAt(keep);
    if (c >= 0xdc00 && c <= 0xdfff) keep--; // not half a surrogate pair
    this.#window = window.slice(keep - 1);
    this.#from = 1;
  }
}

/** A long event as `search` shows it: long values cut to their start. */
function shownEvent(object: ScannedObject): SessionLogEvent {
  const event: Record<string, unknown> = { ...object.members };
  for (const [key, cut] of Object.entries(object.cut)) {
    event[key] = cut.preview === undefined
      ? `[${cut.stored} characters not shown: --json prints the event whole]`
      : `${cut.preview}… [${
        cut.length! - cut.preview.length
      } more characters: --json prints the event whole]`;
  }
  return event as unknown as SessionLogEvent;
}

/** Writes a long line as stored, a chunk at a time. */
export async function writeLine(
  path: string,
  long: LongLine,
  out: { write(text: string): void },
): Promise<void> {
  const decoder = new TextDecoder();
  for await (
    const bytes of readChunks(path, {
      offset: long.offset,
      length: long.length,
    })
  ) {
    out.write(decoder.decode(bytes, { stream: true }));
  }
  out.write(decoder.decode() + "\n");
}

/** What {@linkcode matcher} builds. */
export type Matcher = ReturnType<typeof matcher>;

/** Builds the matcher: a cheap test on the raw line, then one on the values. */
export function matcher(
  query: string,
  options: { regex: boolean; ignoreCase: boolean },
) {
  let test: (s: string) => boolean;
  let raw: (line: string) => boolean;
  // Tests a window of a long string whose real text starts at `from`.
  let long: (window: string, from: number, final: boolean) => boolean = (
    window,
  ) => test(window);
  if (options.regex) {
    let re: RegExp;
    try {
      re = new RegExp(query, options.ignoreCase ? "iu" : "u");
    } catch (error) {
      throw new UsageError(
        `Invalid --regex "${query}": ${(error as Error).message}`,
      );
    }
    test = (s) => re.test(s);
    const global = new RegExp(re.source, re.flags + "g");
    long = (window, from, final) => {
      global.lastIndex = from;
      let m: RegExpExecArray | null;
      while ((m = global.exec(window)) !== null) {
        // A match that touches the window's end may owe it to the cut ($,
        // \b, lookahead): the next window, which overlaps, judges it.
        if (final || m.index + m[0].length < window.length) return true;
        global.lastIndex = m.index + 1;
      }
      return false;
    };
    // A value that matches also matches somewhere in its line once the
    // line's escapes are undone, unless the pattern looks at what surrounds
    // the match (anchors, boundaries, lookbehind): those lines are parsed.
    const contextual = /[$^]|\\[bBAzZ]|\(\?<[=!]/.test(query);
    raw = contextual
      ? () => true
      : (line) =>
        re.test(line) || (line.includes("\\") && re.test(unescapeLine(line)));
  } else if (options.ignoreCase) {
    const needle = query.toLowerCase();
    test = (s) => s.toLowerCase().includes(needle);
    raw = (line) => line.includes("\\") || line.toLowerCase().includes(needle);
  } else {
    const escaped = JSON.stringify(query).slice(1, -1);
    test = (s) => s.includes(query);
    raw = (line) =>
      line.includes(escaped) || (escaped !== query && line.includes(query));
  }
  return {
    raw,
    long: () => new LongMatch(long, Math.max(OVERLAP, query.length)),
    event(event: Record<string, unknown>): boolean {
      for (const key in event) {
        if (!ENVELOPE.has(key) && anyString(event[key], test)) return true;
      }
      return false;
    },
    /** The fields whose values match, each with its first matching string. */
    fields(event: Record<string, unknown>): Array<[string, string]> {
      const found: Array<[string, string]> = [];
      for (const key in event) {
        if (ENVELOPE.has(key)) continue;
        let hit: string | undefined;
        anyString(event[key], (s) => test(s) && (hit = s) !== undefined);
        if (hit !== undefined) found.push([key, hit]);
      }
      return found;
    },
    /** Where the match is in a matching string, to cut it around. */
    at(s: string): number {
      if (options.regex) {
        return new RegExp(query, options.ignoreCase ? "iu" : "u").exec(s)
          ?.index ?? 0;
      }
      return Math.max(
        0,
        options.ignoreCase
          ? s.toLowerCase().indexOf(query.toLowerCase())
          : s.indexOf(query),
      );
    },
  };
}

const PLAIN: Writer = { write() {}, isTerminal: false, color: false };

/**
 * What a search hit's line leaves out: each matching field whose matching
 * text the line does not show, as ` field="value"` (a long value cut around
 * the match), so that every hit shows why it matched.
 */
export function hiddenMatches(
  event: SessionLogEvent,
  match: Matcher,
): string {
  const line = formatEvent(event, { out: PLAIN });
  let context = "";
  for (
    const [key, hit] of match.fields(
      event as unknown as Record<string, unknown>,
    )
  ) {
    if (line.includes(visible(hit))) continue;
    let value = hit;
    if (value.length > 120) {
      const at = match.at(value);
      const from = Math.max(0, at - 50);
      // Cut by code units: a surrogate pair cut in two becomes U+FFFD.
      value = ((from > 0 ? "…" : "") + value.slice(from, from + 120) +
        (from + 120 < value.length ? "…" : "")).toWellFormed();
    }
    context += ` ${visible(key)}=${visible(JSON.stringify(value))}`;
  }
  return context;
}

/**
 * A matching event of a log: its line as stored and the event, or for a line
 * too long to hold, where it is and the event as `search` shows it.
 */
export type Hit =
  | { text: string; event: SessionLogEvent; long?: undefined }
  | { long: LongLine; event: SessionLogEvent };

/**
 * A hit's lines as `search` prints them, without the last newline: the
 * session id prefix and seq, then the event as `events` prints it; what
 * matched but that line leaves out ends its first line (not for a line too
 * long to hold, whose match is not kept).
 */
export function hitLine(
  hit: Hit,
  options: { id: string; match: Matcher; out: Writer },
): string {
  const { id, match, out } = options;
  const { event } = hit;
  const dim = paint(out, "dim");
  if (hit.long) {
    return `${dim(`${id} #${event.seq}`)} ${formatEvent(event, { out })}`;
  }
  const [head, ...rest] = formatEvent(event, { out }).split("\n");
  return [
    `${dim(visible(`${id} #${event.seq}`))} ${head}${
      dim(hiddenMatches(event, match))
    }`,
    ...rest,
  ].join("\n");
}

/** The events of a log that match, as they are read. */
export async function* matchingEvents(
  logPath: string,
  options: { match: Matcher; types: string[]; onProblem: ProblemHandler },
): AsyncGenerator<Hit> {
  const { match, types, onProblem } = options;
  const typeNeedles = types.map((t) => `"type":"${t}"`);
  const longs = new Map<number, LongMatch>();
  const strings = (line: number) => {
    const long = match.long();
    longs.set(line, long);
    return long;
  };
  for await (
    const { text, line, long } of scanLogLines(logPath, {
      onProblem,
      strings,
    })
  ) {
    if (long !== undefined) {
      const matched = longs.get(line)?.matched;
      longs.delete(line);
      const members = long.object?.members;
      if (
        !matched || typeof members?.seq !== "number" ||
        typeof members.type !== "string"
      ) continue;
      if (types.length > 0 && !types.includes(members.type)) continue;
      yield { long, event: shownEvent(long.object!) };
      continue;
    }
    if (
      typeNeedles.length > 0 && !typeNeedles.some((n) => text.includes(n))
    ) continue;
    if (!match.raw(text)) continue;
    let event: SessionLogEvent;
    try {
      event = JSON.parse(text);
    } catch {
      continue;
    }
    if (types.length > 0 && !types.includes(event.type)) continue;
    if (!match.event(event as unknown as Record<string, unknown>)) continue;
    yield { text, event };
  }
}
