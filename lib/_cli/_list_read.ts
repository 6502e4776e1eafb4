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
  ENDED_AT,
  EXACT_WINDOWS,
  IndexBackward,
  Instant,
  parseIndexBlock,
  STARTED_AT,
  STATUS,
} from "../_index_tail.ts";
import {
  type Context,
  instant,
  locateLog,
  scopeOf,
  type SessionState,
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
  },
): { state: SessionState; durationMs: number | null; logPath?: string } {
  const { entry, scope, now } = options;
  const ended = entry.status === "success" || entry.status === "failure";
  const running = ended ? undefined : locateLog(ctx, { entry, scope });
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
  const exact = EXACT_WINDOWS[kind];
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
    for (let window; (window = reader.previousWindow()) !== undefined;) {
      if (window === null || !exact.test(window)) return false;
      // Where each block's started_at value starts, in order: the window is
      // in zig's layout, so the fields after it are where the layout says.
      const at: number[] = [];
      for (
        let i = window.indexOf(STARTED_AT);
        i >= 0;
        i = window.indexOf(STARTED_AT, i + 1)
      ) at.push(i + STARTED_AT.length);
      for (let b = at.length - 1; b >= 0; b--) {
        const startEnd = window.indexOf('"', at[b]);
        if (!start.read(window, at[b], startEnd)) {
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
        // "ended_at": "…" or null, then "status": "…" or null.
        let i = startEnd + ENDED_AT.length;
        let endedFrom = -1;
        let endedTo = -1;
        if (window.charCodeAt(i) === 34) {
          endedFrom = i + 1;
          endedTo = window.indexOf('"', endedFrom);
          i = endedTo + 1;
        } else i += 4;
        i += STATUS.length;
        const status = window.startsWith('"success"', i)
          ? SUCCESS
          : window.startsWith('"failure"', i)
          ? FAILURE
          : JUDGE;
        kinds.push(status);
        durations.push(
          status !== JUDGE && endedFrom >= 0 &&
            end.read(window, endedFrom, endedTo)
            ? elapsed(start, end)
            : null,
        );
      }
    }
    // Second pass: print them, newest first; equal instants in index order.
    reader.rewind();
    const now = BigInt(Date.now()) * 1_000_000n;
    const parts: string[] = ["["];
    let group: string[] = []; // entries that started at the same instant
    let first = true;
    const flush = () => {
      for (let i = group.length - 1; i >= 0; i--) {
        parts.push(first ? "\n" : ",\n", group[i]);
        first = false;
      }
      group = [];
    };
    let k = 0;
    for (let window; (window = reader.previousWindow()) !== undefined;) {
      // The blocks indented as the output is, without their outer braces.
      const pieces = typeof window === "string"
        ? window.replaceAll("\n  ", "\n").slice(1, -4).split("\n  },\n  {")
        : [];
      for (let i = pieces.length - 1; i >= 0; i--, k++) {
        if (!ties[k]) flush();
        const what = kinds[k];
        if (what !== JUDGE) {
          const duration = durations[k];
          group.push(
            `  {${pieces[i]},\n    "state": "${
              what === SUCCESS ? "success" : "failure"
            }",\n    "duration_ms": ${
              duration === null ? "null" : duration
            }\n  }`,
          );
          continue;
        }
        const entry = JSON.parse(`{${pieces[i]}}`) as AnySessionEntry;
        const at = instant(entry.started_at);
        const judged = judgeEntry(ctx, { entry, at, scope, now });
        group.push(
          "  " + JSON.stringify(
            { ...entry, state: judged.state, duration_ms: judged.durationMs },
            null,
            2,
          ).replaceAll("\n", "\n  "),
        );
      }
      if (parts.length > 200) {
        ctx.out.write(parts.join(""));
        parts.length = 0;
        parts.push("");
      }
    }
    if (k !== kinds.length) {
      throw new ZigError(
        `Cannot read the index ${scope.indexPath}: it changed while it was read, run the command again`,
        { kind: "io", path: scope.indexPath },
      );
    }
    flush();
    parts.push(first ? "]\n" : "\n]\n");
    ctx.out.write(parts.join(""));
    return true;
  } finally {
    reader.close();
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
