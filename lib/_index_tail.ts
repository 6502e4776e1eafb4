// Internal: reading an index a block at a time from its end, without its
// whole text or every entry parsed at once. zig pretty-prints an index (and
// so does this module), one entry per block indented by four:
//
//   {
//     "sessions": [
//       {
//         "zig_session_id": "…",
//         …
//       },
//       {
//         …
//       }
//     ]
//   }
//
// The newest sessions are the last indexed: `list --limit N` reads the last
// blocks only. Any text that is not in this shape is left to the full parse
// (which also recovers a corrupt index): a reader here only says "not in
// zig's shape" and lets the caller fall back.
import { assertInsideHome, homeOfIndex } from "./_confine.ts";
import { fsError } from "./_fs.ts";
import { type AnyEntry, entryProblem, type Scope } from "./_index_file.ts";
import { parseTimestamp } from "./timestamp.ts";

/**
 * Bytes read at a time: their text stays a regular heap object (not a large
 * one, each of which costs memory pages until a full collection), which
 * keeps a reader's memory flat.
 */
const CHUNK = 64 * 1024;
const HEAD = '{\n  "sessions": [';
const CLOSE = "\n    }\n  ]\n}";
const EMPTY = '{\n  "sessions": []\n}';
const BLOCK_START = "\n    {\n";
const BLOCK_END = "\n    }";
const SEPARATOR = "},\n    {\n";
const CLOSE_BYTES = new TextEncoder().encode(CLOSE);
const HEAD_BYTES = new TextEncoder().encode(HEAD + BLOCK_START);
const SEPARATOR_BYTES = new TextEncoder().encode(SEPARATOR);

/** Whether `bytes` holds `expected` at `at`. */
function sameBytes(bytes: Uint8Array, at: number, expected: Uint8Array) {
  if (at < 0 || at + expected.length > bytes.length) return false;
  for (let i = 0; i < expected.length; i++) {
    if (bytes[at + i] !== expected[i]) return false;
  }
  return true;
}

/** Bytes read by index readers here: lets tests prove a tail reads only the end. */
export const indexBytesRead = { count: 0 };

const decoder = new TextDecoder();

/** A string value as zig writes it (no escape, quote or control character), or null. */
const VALUE = '(?:"([^"\\\\\\x00-\\x1f]*)"|null)';
const STRING = '"([^"\\\\\\x00-\\x1f]*)"';

/** The fields of an entry, in the order zig writes them; `true`: may be null. */
const FIELDS: Record<Scope, Array<[string, boolean]>> = {
  project: [
    ["zig_session_id", false],
    ["workflow_name", false],
    ["workflow_path", false],
    ["log_path", false],
    ["started_at", false],
    ["ended_at", true],
    ["status", true],
    ["workspace_path", true],
  ],
  global: [
    ["zig_session_id", false],
    ["workflow_name", false],
    ["project", false],
    ["log_path", false],
    ["started_at", false],
    ["ended_at", true],
    ["status", true],
  ],
};

/** A block in exactly zig's layout, its values captured. */
const SHAPES: Record<Scope, RegExp> = {
  project: shape(FIELDS.project),
  global: shape(FIELDS.global),
};

function shape(fields: Array<[string, boolean]>): RegExp {
  const members = fields.map(([key, nullable]) =>
    `\\n      "${key}": ${nullable ? VALUE : STRING}`
  );
  return new RegExp(`^\\{${members.join(",")}\\n    \\}$`);
}

/**
 * One block of a window (see {@linkcode IndexBackward.previousWindow}) in
 * exactly zig's layout, and the separator after it unless it is the last:
 * set `lastIndex` to the block's "{". Captures `started_at`, `ended_at` and
 * `status` (the last two undefined when null).
 */
export const EXACT_BLOCKS: Record<Scope, RegExp> = {
  project: exactBlock(FIELDS.project),
  global: exactBlock(FIELDS.global),
};

function exactBlock(fields: Array<[string, boolean]>): RegExp {
  const plain = '[^"\\\\\\x00-\\x1f]*';
  const captured = new Set(["started_at", "ended_at", "status"]);
  const members = fields.map(([key, nullable]) => {
    const value = captured.has(key) ? `(${plain})` : plain;
    return `\\n      "${key}": ${
      nullable ? `(?:"${value}"|null)` : `"${value}"`
    }`;
  });
  return new RegExp(`\\{${members.join(",")}\\n    \\}(?:,\\n    |$)`, "y");
}

/** An entry read from a block. */
export interface IndexBlock {
  /** The entry, validated as a full read validates it. */
  entry: AnyEntry;
  /**
   * Whether the block is exactly what JSON.stringify(entry, null, 2) writes
   * (indented by four): it can then be printed from its text.
   */
  exact: boolean;
}

/**
 * Reads one block (from its "{" to its "}"): `undefined` when it is no
 * entry a full read would accept.
 */
export function parseIndexBlock(
  text: string,
  scope: Scope,
): IndexBlock | undefined {
  const m = SHAPES[scope].exec(text);
  if (m !== null) {
    const entry: Record<string, unknown> = {};
    const fields = FIELDS[scope];
    for (let i = 0; i < fields.length; i++) {
      entry[fields[i][0]] = m[i + 1] ?? null;
    }
    return { entry: entry as unknown as AnyEntry, exact: true };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (Array.isArray(value) || entryProblem(value, scope) !== undefined) {
    return undefined;
  }
  return { entry: value as AnyEntry, exact: false };
}

/**
 * An instant as `parseTimestamp` reads it, split into whole seconds and
 * nanoseconds so that no BigInt is needed: `seconds` is NaN when the text is
 * no timestamp. Reads zig's own form without a regular expression, and
 * remembers the last day it read (a list's timestamps share few days).
 */
export class Instant {
  seconds = Number.NaN;
  nanos = 0;
  #day = "\0"; // "YYYY-MM-DD" of the last day computed (none yet)
  #dayMs = 0;

  /**
   * Reads the timestamp `text` holds from `from` to `to` (default: all of
   * it); returns whether it is one.
   */
  read(text: unknown, from = 0, to?: number): boolean {
    this.seconds = Number.NaN;
    this.nanos = 0;
    if (typeof text !== "string") return false;
    const end = to ?? text.length;
    if (this.#fast(text, from, end)) return true;
    const ns = parseTimestamp(
      from === 0 && end === text.length ? text : text.slice(from, end),
    );
    if (ns === undefined) return false;
    let seconds = ns / 1_000_000_000n;
    let nanos = ns % 1_000_000_000n;
    if (nanos < 0n) {
      nanos += 1_000_000_000n;
      seconds -= 1n;
    }
    this.seconds = Number(seconds);
    this.nanos = Number(nanos);
    return true;
  }

  /**
   * `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` with fields in range, as zig
   * and this module write it; `false` for anything else (read the slow way).
   */
  #fast(t: string, at: number, n: number): boolean {
    if (
      n - at < 20 || t.charCodeAt(at + 4) !== 45 ||
      t.charCodeAt(at + 7) !== 45 || t.charCodeAt(at + 10) !== 84 ||
      t.charCodeAt(at + 13) !== 58 || t.charCodeAt(at + 16) !== 58
    ) return false;
    const hour = digits2(t, at + 11);
    const minute = digits2(t, at + 14);
    const second = digits2(t, at + 17);
    if (!(hour < 24 && minute < 60 && second < 60)) return false;
    let i = at + 19;
    let nanos = 0;
    if (t.charCodeAt(i) === 46) {
      let scale = 100_000_000;
      const from = ++i;
      for (
        let c = t.charCodeAt(i);
        i < n && c >= 48 && c <= 57;
        c = t.charCodeAt(++i)
      ) {
        nanos += (c - 48) * scale;
        scale = scale >= 10 ? scale / 10 : 0;
      }
      if (i === from) return false;
    }
    let offset = 0;
    const sign = t.charCodeAt(i);
    if (sign === 90 && i + 1 === n) {
      offset = 0;
    } else if ((sign === 43 || sign === 45) && i + 6 === n) {
      if (t.charCodeAt(i + 3) !== 58) return false;
      const oh = digits2(t, i + 1);
      const om = digits2(t, i + 4);
      if (!(oh >= 0 && om >= 0)) return false;
      offset = (oh * 60 + om) * (sign === 45 ? -1 : 1);
    } else return false;
    if (!t.startsWith(this.#day, at)) {
      const year = digits2(t, at) * 100 + digits2(t, at + 2);
      const month = digits2(t, at + 5);
      const day = digits2(t, at + 8);
      // Date.UTC reads years 0 to 99 as 1900 to 1999: the slow way agrees.
      if (!(year >= 100 && month >= 1 && month <= 12 && day >= 1)) {
        return false;
      }
      this.#dayMs = Date.UTC(year, month - 1, day);
      this.#day = t.slice(at, at + 10);
    }
    this.seconds = this.#dayMs / 1000 + hour * 3600 + minute * 60 + second -
      offset * 60;
    this.nanos = nanos;
    return true;
  }
}

/** The number two ASCII digits at `at` spell, or NaN. */
function digits2(text: string, at: number): number {
  const a = text.charCodeAt(at) - 48;
  const b = text.charCodeAt(at + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : Number.NaN;
}

/**
 * Reads an index's entry blocks from its end backward. `previous()` gives
 * the text of each block in turn, `undefined` once the head is passed, and
 * `null` when the text is not in zig's layout (the caller then reads it
 * whole, as before).
 */
export class IndexBackward {
  #file: Deno.FsFile | undefined;
  #path: string;
  #size: number;
  #to: number; // bytes before this offset are not read yet
  #text = ""; // decoded text not yet split into blocks
  #end = -1; // in #text: where the next block's "}" is, -1 before the first
  #buffer = new Uint8Array(CHUNK);
  #done = false;

  /**
   * Opens an index (which must lie inside its zig home); a missing index
   * reads as one without entries.
   */
  constructor(path: string) {
    this.#path = path;
    assertInsideHome(path, homeOfIndex(path));
    try {
      this.#file = Deno.openSync(path, { read: true });
      this.#size = this.#to = this.#file.statSync().size;
    } catch (error) {
      this.#file?.close();
      this.#file = undefined;
      if (!(error instanceof Deno.errors.NotFound)) {
        throw fsError(error, { action: "read the index", path });
      }
      this.#size = this.#to = 0;
      this.#done = true;
    }
  }

  /**
   * Starts again from the end of the same file (what another process
   * renamed over the index meanwhile is not seen).
   */
  rewind(): void {
    this.#to = this.#size;
    this.#text = "";
    this.#end = -1;
    this.#done = this.#file === undefined;
  }

  /** The text of the block before the last one given; see the class. */
  previous(): string | undefined | null {
    if (this.#done) return undefined;
    if (this.#end < 0) {
      const first = this.#openEnd();
      if (first !== true) return first;
    }
    while (true) {
      const text = this.#text;
      const start = text.lastIndexOf(BLOCK_START, this.#end);
      if (start >= 2 || (start >= 0 && this.#to === 0)) {
        // The block's end must be the first one after its start.
        if (text.indexOf(BLOCK_END, start) !== this.#end - 5) return null;
        const block = text.slice(start + 5, this.#end + 1);
        if (
          text.charCodeAt(start - 1) === 44 &&
          text.charCodeAt(start - 2) === 125
        ) {
          this.#end = start - 2;
          return block;
        }
        if (start === HEAD.length && this.#to === 0 && text.startsWith(HEAD)) {
          this.#done = true;
          this.#text = "";
          return block;
        }
        return null;
      }
      if (!this.#readMore()) return null;
    }
  }

  /**
   * The blocks before those given, as one text: from the first one's "{" to
   * the last one's "}", separated by ",\n    " (the caller checks that every
   * one is an entry); `undefined` once every block was given, `null` when
   * the text is not in zig's layout.
   */
  previousWindow(): string | undefined | null {
    if (this.#done) return undefined;
    if (this.#end < 0) {
      const first = this.#openEnd();
      if (first !== true) return first;
    }
    while (true) {
      const text = this.#text;
      if (this.#to === 0 && text.startsWith(HEAD + BLOCK_START)) {
        this.#done = true;
        this.#text = "";
        return text.slice(HEAD.length + 5, this.#end + 1);
      }
      const separator = text.indexOf(SEPARATOR);
      if (separator >= 0 && separator + 7 <= this.#end) {
        const window = text.slice(separator + 7, this.#end + 1);
        this.#end = separator;
        return window;
      }
      if (!this.#readMore()) return null;
    }
  }

  /**
   * Gives the bytes of every block, a window of blocks at a time from the
   * last window to the first: `visit` gets a buffer and where the window's
   * first "{" and last "}" are in it (valid during the call); the blocks in
   * it are separated by ",\n    ". For an index found in zig's layout by a
   * first reading; returns `false` when the layout does not hold.
   */
  eachWindowBytes(
    visit: (bytes: Uint8Array, from: number, to: number) => void,
  ): boolean {
    if (this.#file === undefined) return true;
    // The bytes from workStart on that are still needed, at the start of a
    // buffer reused as the reading goes back.
    let space = new Uint8Array(2 * CHUNK);
    let work = space.subarray(0, 0);
    let workStart = this.#size; // file offset of work[0]
    const grow = (keep: number): boolean => {
      if (workStart === 0) return false;
      const from = Math.max(0, workStart - CHUNK);
      const n = workStart - from;
      if (n + keep > space.length) {
        const bigger = new Uint8Array(2 * (n + keep));
        bigger.set(work.subarray(0, keep), n);
        space = bigger;
      } else space.copyWithin(n, 0, keep);
      if (this.#fill(from, space.subarray(0, n)) < n) return false;
      work = space.subarray(0, n + keep);
      workStart = from;
      return true;
    };
    // The last block's "}" is where the closing starts, after whitespace.
    let end: number;
    while (true) {
      let last = work.length - 1;
      while (
        last >= 0 &&
        (work[last] === 32 || (work[last] >= 9 && work[last] <= 13))
      ) last--;
      end = last - CLOSE.length + 6;
      if (sameBytes(work, end - 5, CLOSE_BYTES)) break;
      if (workStart === 0) {
        // No block: an index without entries, or no index.
        return decoder.decode(work).trim() === EMPTY || last < 0;
      }
      if (last >= CLOSE.length) return false;
      if (!grow(work.length)) return false;
    }
    while (true) {
      if (workStart === 0 && sameBytes(work, 0, HEAD_BYTES)) {
        visit(work, HEAD_BYTES.length - 2, end);
        return true;
      }
      // The first separator, "},\n    {\n": the window starts after it.
      let separator = work.indexOf(125);
      while (separator >= 0 && separator < end) {
        if (sameBytes(work, separator, SEPARATOR_BYTES)) break;
        separator = work.indexOf(125, separator + 1);
      }
      if (separator >= 0 && separator < end) {
        visit(work, separator + 7, end);
        end = separator;
      }
      if (!grow(end + 1)) return false;
      end = work.length - 1;
    }
  }

  close(): void {
    this.#file?.close();
  }

  /** Fills `bytes` from `offset`; returns how many were read. */
  #fill(offset: number, bytes: Uint8Array): number {
    let filled = 0;
    try {
      this.#file!.seekSync(offset, Deno.SeekMode.Start);
      while (filled < bytes.length) {
        const n = this.#file!.readSync(bytes.subarray(filled));
        if (n === null) break;
        filled += n;
      }
    } catch (error) {
      throw fsError(error, { action: "read the index", path: this.#path });
    }
    indexBytesRead.count += filled;
    return filled;
  }

  /**
   * Reads the end: `true` when blocks follow, `undefined` for an index
   * without entries, `null` when it is not in zig's layout.
   */
  #openEnd(): true | undefined | null {
    while (true) {
      const trimmed = this.#text.trimEnd();
      if (trimmed.endsWith(CLOSE)) {
        this.#text = trimmed;
        this.#end = trimmed.length - CLOSE.length + 5;
        return true;
      }
      if (this.#to === 0) {
        this.#done = true;
        return trimmed === "" || trimmed === EMPTY ? undefined : null;
      }
      if (trimmed.length > EMPTY.length) return null;
      if (!this.#readMore()) return null;
    }
  }

  /**
   * Reads the chunk before what was read into the text, from its first
   * whole character on. `false` at the file's start, or when it shrank.
   */
  #readMore(): boolean {
    if (this.#to === 0) return false;
    const from = Math.max(0, this.#to - CHUNK);
    const bytes = this.#buffer.subarray(0, this.#to - from);
    if (this.#fill(from, bytes) < bytes.length) return false;
    let cut = 0;
    if (from > 0) {
      while (cut < bytes.length && (bytes[cut] & 0xc0) === 0x80) cut++;
    }
    const text = decoder.decode(bytes.subarray(cut));
    // What follows the next block was given out already: drop it.
    const kept = this.#end < 0
      ? this.#text
      : this.#text.slice(0, this.#end + 1);
    this.#text = text + kept;
    if (this.#end >= 0) this.#end += text.length;
    this.#to = from + cut;
    return true;
  }
}
