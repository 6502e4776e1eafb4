// Internal: `list` reads only what it needs. With --limit, the last blocks of
// the index (the newest sessions are the last indexed); with --json, the
// whole index a block at a time, each entry printed as it is read back, never
// the whole index parsed nor the whole output held. Whenever the index is not
// in zig's layout, in start order, or sessions are known only from pending
// markers, the callers fall back to the full read (which also recovers a
// corrupt index).
import type { AnySessionEntry } from "../../mod.ts";
import { sessionStateDetails, ZigError } from "../../mod.ts";
import { pendingEntries, scopeOf as indexScope } from "../_index_file.ts";
import {
  EXACT_BLOCKS,
  IndexBackward,
  Instant,
  parseIndexBlock,
} from "../_index_tail.ts";
import {
  type Context,
  instant,
  locateLog,
  scopeOf,
  type SessionState,
  type Warnings,
} from "./common.ts";

/**
 * Blocks read past the newest N (all older than the Nth) before the rest of
 * the index is taken to be older too.
 */
const MARGIN = 64;
/** A longer list is read from the whole index. */
const TAIL_LIMIT = 1000;
/** Sessions that started at the same instant, past which --json reads whole. */
const TIE_LIMIT = 1000;

type Scope = ReturnType<typeof scopeOf>;

/**
 * How an entry stands, and for how long it ran. An entry that says how the
 * session ended needs no log: the rule reads none then, so it is not looked
 * for. One that leads out of the zig home is not followed: never heard from.
 */
export function judgeEntry(
  ctx: Context,
  options: {
    entry: AnySessionEntry;
    at: bigint;
    scope: Scope;
    now: bigint;
    /** Where warnings count; default: straight to stderr. */
    warnings?: Warnings;
  },
): { state: SessionState; durationMs: number | null; logPath?: string } {
  const { entry, scope, now, warnings } = options;
  const ended = entry.status === "success" || entry.status === "failure";
  const running = ended
    ? undefined
    : locateLog(ctx, { entry, scope, warnings });
  const { state, lastActivity } = !ended && running === undefined
    ? { state: "abandoned" as const, lastActivity: undefined }
    : sessionStateDetails(entry, { logPath: running ?? "", now });
  const endNs = state === "running"
    ? now
    : lastActivity === undefined
    ? undefined
    : instant(lastActivity);
  return { state, durationMs: elapsedMs(options.at, endNs), logPath: running };
}

/**
 * Milliseconds from `start` to `end`; `null` when either is unknown (0 is
 * what an unparsable timestamp gives) or the end comes before the start.
 */
export function elapsedMs(
  start: bigint,
  end: bigint | undefined,
): number | null {
  if (start <= 0n || end === undefined || end <= 0n || end < start) return null;
  return Number((end - start) / 1_000_000n);
}

/** Whether sessions known only from pending markers are to be listed. */
function hasPending(indexPath: string): boolean {
  return pendingEntries(indexPath, []).length > 0;
}

/**
 * The newest `limit` entries of a scope that `chosen` accepts, newest first
 * (ties in index order), read from the end of the index; `undefined` when
 * the full read must decide. The index lists sessions as they were indexed,
 * which is the order they started except for sessions started moments apart:
 * the blocks are read until MARGIN of them in a row are older than the
 * newest `limit` found, so that an entry up to MARGIN places out of order is
 * still placed right.
 */
export function newestFromTail(
  scope: Scope,
  options: { limit: number; chosen: (entry: AnySessionEntry) => boolean },
): Array<{ entry: AnySessionEntry; at: bigint }> | undefined {
  const { limit } = options;
  if (limit > TAIL_LIMIT) return undefined;
  const kind = indexScope(scope.indexPath);
  const reader = new IndexBackward(scope.indexPath);
  try {
    if (hasPending(scope.indexPath)) return undefined;
    const found: Array<{ entry: AnySessionEntry; at: bigint; from: number }> =
      [];
    const top: bigint[] = []; // the newest `limit` instants found, newest first
    let margin = 0;
    for (let from = 0; limit > 0 && margin < MARGIN; from++) {
      const block = reader.previous();
      if (block === null) return undefined;
      if (block === undefined) break;
      const parsed = parseIndexBlock(block, kind);
      if (parsed === undefined) return undefined;
      const entry = parsed.entry as AnySessionEntry;
      const at = instant(entry.started_at);
      if (options.chosen(entry)) {
        found.push({ entry, at, from });
        let i = top.length;
        while (i > 0 && top[i - 1] < at) i--;
        if (i < limit) {
          top.splice(i, 0, at);
          if (top.length > limit) top.pop();
        }
      }
      margin = top.length === limit && at < top[limit - 1] ? margin + 1 : 0;
    }
    // Newest first; among equal instants, the one indexed first (read last).
    found.sort((a, b) => a.at < b.at ? 1 : a.at > b.at ? -1 : b.from - a.from);
    return found.slice(0, limit).map(({ entry, at }) => ({ entry, at }));
  } finally {
    reader.close();
  }
}

// What --json does with an entry: print it from its text (in zig's layout,
// ended: its state and duration known from its text), or parse and judge it
// again when it is printed (its log may be read then).
const SUCCESS = 0;
const FAILURE = 1;
const JUDGE = 2;

/**
 * `list --json` (without filters or --limit): writes every entry of a scope,
 * newest first, exactly as the full read prints them, reading the index
 * twice from its end, a window of blocks at a time: once to check it and
 * its order, once to print it. Returns `false`, having written nothing, when
 * the full read must do it: an index not in zig's layout (or corrupt), not in
 * start order, or sessions known only from pending markers.
 */
export function writeListJson(
  ctx: Context,
  options: { global: boolean },
): boolean {
  const scope = scopeOf(ctx, options.global);
  const kind = indexScope(scope.indexPath);
  const exact = EXACT_BLOCKS[kind];
  const reader = new IndexBackward(scope.indexPath);
  try {
    if (hasPending(scope.indexPath)) return false;
    // First pass, from the end: every block exact and in start order. What
    // each block needs is noted, numbered from the last.
    const kinds: number[] = [];
    const durations: Array<number | null> = [];
    const ties: boolean[] = []; // started at the same instant as the next
    const start = new Instant();
    const end = new Instant();
    let nextSeconds = Infinity;
    let nextNanos = Infinity;
    let tie = 0;
    const starts: string[] = [];
    const ends: Array<string | undefined> = [];
    const statuses: Array<string | undefined> = [];
    for (let window; (window = reader.previousWindow()) !== undefined;) {
      if (window === null) return false;
      // Every block in zig's layout, its start, end and status noted.
      starts.length = ends.length = statuses.length = 0;
      exact.lastIndex = 0;
      while (exact.lastIndex < window.length) {
        const m = exact.exec(window);
        if (m === null) return false;
        starts.push(m[1]);
        ends.push(m[2]);
        statuses.push(m[3]);
      }
      for (let b = starts.length - 1; b >= 0; b--) {
        if (!start.read(starts[b])) {
          start.seconds = 0; // what the full read sorts it by
          start.nanos = 0;
        }
        const s = start.seconds;
        const n = start.nanos;
        if (s > nextSeconds || (s === nextSeconds && n > nextNanos)) {
          return false; // not in start order: the full read sorts it
        }
        const same = s === nextSeconds && n === nextNanos;
        tie = same ? tie + 1 : 0;
        if (tie >= TIE_LIMIT) return false;
        ties.push(same);
        nextSeconds = s;
        nextNanos = n;
        const status = statuses[b] === "success"
          ? SUCCESS
          : statuses[b] === "failure"
          ? FAILURE
          : JUDGE;
        kinds.push(status);
        durations.push(
          status !== JUDGE && end.read(ends[b]) ? elapsed(start, end) : null,
        );
      }
    }
    // Second pass: print them, newest first (equal instants in index
    // order), as bytes: each block's lines lose two spaces of indentation
    // and gain the state and the duration.
    const now = BigInt(Date.now()) * 1_000_000n;
    const out = new Output(ctx);
    let group: Uint8Array[] = []; // entries that started at the same instant
    let k = 0;
    let blocks = new Uint8Array(0); // a window's blocks, indented for output
    const bounds: number[] = []; // where each starts and ends in `blocks`
    const print = (from: number, to: number) => {
      const what = kinds[k];
      const tied = ties[k + 1] === true || group.length > 0;
      if (tied) out.begin();
      out.separator();
      if (what === JUDGE) {
        const entry = JSON.parse(
          `{${decoder.decode(blocks.subarray(from, to))}}`,
        ) as AnySessionEntry;
        const at = instant(entry.started_at);
        const judged = judgeEntry(ctx, { entry, at, scope, now });
        out.text(
          "  " + JSON.stringify(
            { ...entry, state: judged.state, duration_ms: judged.durationMs },
            null,
            2,
          ).replaceAll("\n", "\n  "),
        );
      } else {
        out.member(blocks.subarray(from, to));
        out.ending(what === SUCCESS ? SUCCEEDED : FAILED, durations[k]);
      }
      if (tied) {
        group.push(out.end());
        if (ties[k + 1] !== true) {
          // The group is complete: print it in index order.
          for (let i = group.length - 1; i >= 0; i--) out.bytes(group[i]);
          group = [];
        }
      }
      k++;
    };
    const whole = kinds.length === 0 ||
      reader.eachWindowBytes((bytes, from, to) => {
        if (blocks.length < to - from) blocks = new Uint8Array(2 * (to - from));
        bounds.length = 0;
        // Each block: "{", member lines ("\n      …"), "\n    }"; blocks are
        // separated by ",\n    ". Members are copied two spaces less deep.
        let at = 0;
        for (let i = from; i < to;) {
          bounds.push(at);
          i++; // past "{"
          while (true) {
            const c = bytes[i];
            if (c === 10) {
              if (bytes[i + 5] === 125) break; // "\n    }": the block ends
              blocks[at++] = 10;
              i += 3;
              continue;
            }
            blocks[at++] = c;
            i++;
          }
          bounds.push(at);
          i += 12; // past "\n    },\n    "
        }
        for (let b = bounds.length - 2; b >= 0; b -= 2) {
          print(bounds[b], bounds[b + 1]);
        }
      });
    if (!whole || k !== kinds.length) {
      throw new ZigError(
        `Cannot read the index ${scope.indexPath}: it changed while it was read, run the command again`,
        { kind: "io", path: scope.indexPath },
      );
    }
    out.close();
    return true;
  } finally {
    reader.close();
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const SUCCEEDED = encoder.encode(
  ',\n    "state": "success",\n    "duration_ms": ',
);
const FAILED = encoder.encode(
  ',\n    "state": "failure",\n    "duration_ms": ',
);

/**
 * The JSON array `list --json` prints, made as bytes in a buffer that is
 * written whenever it fills: "[", the elements separated by ",\n", "]".
 * An element can be made apart (`begin` … `end`) and printed later.
 */
class Output {
  #ctx: Context;
  #decoder = new TextDecoder();
  #buf = new Uint8Array(1 << 16);
  #at = 0;
  #first = true;
  #apart = -1; // where the element made apart starts

  constructor(ctx: Context) {
    this.#ctx = ctx;
    this.#ascii("[");
  }

  /** Starts an element to be taken out with `end` (and printed with `bytes`). */
  begin(): void {
    this.#apart = this.#at;
  }

  /** Ends the element begun, taking its bytes out of the output. */
  end(): Uint8Array {
    const bytes = this.#buf.slice(this.#apart, this.#at);
    this.#at = this.#apart;
    this.#apart = -1;
    return bytes;
  }

  /** The separator before an element (one made apart gets it when printed). */
  separator(): void {
    if (this.#apart >= 0) return;
    this.#ascii(this.#first ? "\n" : ",\n");
    this.#first = false;
  }

  /** An element made apart, after its separator. */
  bytes(element: Uint8Array): void {
    this.separator();
    this.#room(element.length);
    this.#buf.set(element, this.#at);
    this.#at += element.length;
  }

  /** Text, as UTF-8. */
  text(text: string): void {
    const bytes = encoder.encode(text);
    this.#room(bytes.length);
    this.#buf.set(bytes, this.#at);
    this.#at += bytes.length;
  }

  /** "  {" and an entry's member lines, indented for output. */
  member(lines: Uint8Array): void {
    this.#room(lines.length + 3);
    const buf = this.#buf;
    buf[this.#at++] = 32;
    buf[this.#at++] = 32;
    buf[this.#at++] = 123;
    buf.set(lines, this.#at);
    this.#at += lines.length;
  }

  /** The state and duration members, and the element's closing. */
  ending(state: Uint8Array, duration: number | null): void {
    this.#room(state.length);
    this.#buf.set(state, this.#at);
    this.#at += state.length;
    this.#ascii(duration === null ? "null" : String(duration));
    this.#ascii("\n  }");
  }

  /** Ends the array and writes what is left. */
  close(): void {
    this.#ascii(this.#first ? "]\n" : "\n]\n");
    this.#write(this.#at);
  }

  #ascii(text: string): void {
    this.#room(text.length);
    for (let i = 0; i < text.length; i++) {
      this.#buf[this.#at++] = text.charCodeAt(i);
    }
  }

  /** Makes room for `length` more bytes, writing what is complete. */
  #room(length: number): void {
    if (this.#at + length <= this.#buf.length) return;
    const upTo = this.#apart >= 0 ? this.#apart : this.#at;
    if (upTo > 0) {
      this.#write(upTo);
      this.#buf.copyWithin(0, upTo, this.#at);
      this.#at -= upTo;
      if (this.#apart >= 0) this.#apart = 0;
    }
    if (this.#at + length > this.#buf.length) {
      const bigger = new Uint8Array(2 * (this.#at + length));
      bigger.set(this.#buf.subarray(0, this.#at));
      this.#buf = bigger;
    }
  }

  #write(upTo: number): void {
    const bytes = this.#buf.subarray(0, upTo);
    const out = this.#ctx.out;
    if (out.writeBytes) out.writeBytes(bytes);
    else out.write(this.#decoder.decode(bytes, { stream: true }));
  }
}

/**
 * `elapsedMs` of two instants read by {@linkcode Instant}: null when either
 * is not after the epoch or the end comes first.
 */
function elapsed(start: Instant, end: Instant): number | null {
  const positive = (t: Instant) =>
    t.seconds > 0 || (t.seconds === 0 && t.nanos > 0);
  if (!positive(start) || !positive(end)) return null;
  if (
    end.seconds < start.seconds ||
    (end.seconds === start.seconds && end.nanos < start.nanos)
  ) return null;
  return (end.seconds - start.seconds) * 1000 +
    Math.floor((end.nanos - start.nanos) / 1_000_000);
}
