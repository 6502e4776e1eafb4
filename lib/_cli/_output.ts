// Internal to the CLI: output people read: writers, colors, visible text,
// warnings, tables, progress, and times and durations for people.
import { parseTimestamp, ZigError } from "../../mod.ts";
import type { AnySessionEntry, ProblemHandler } from "../../mod.ts";
import type { Context, Writer } from "./_context.ts";

const encoder = new TextEncoder();

/** A writer over a Deno standard stream, synchronous so that nothing lags. */
export function streamWriter(stream: typeof Deno.stdout): Writer {
  const isTerminal = stream.isTerminal();
  const writeBytes = (bytes: Uint8Array) => {
    let offset = 0;
    try {
      while (offset < bytes.length) {
        offset += stream.writeSync(bytes.subarray(offset));
      }
    } catch (error) {
      // The reader went away (a closed pipe): stop quietly, like cat.
      if (error instanceof Deno.errors.BrokenPipe) Deno.exit(0);
      throw error;
    }
  };
  return {
    write: (text: string) => writeBytes(encoder.encode(text)),
    writeBytes,
    isTerminal,
    color: isTerminal && !Deno.noColor,
  };
}

const CODES = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
} as const;

/** Wraps text in an ANSI style when the writer allows colors. */
export function paint(
  writer: Writer,
  style: keyof typeof CODES,
): (text: string) => string {
  if (!writer.color) return (text) => text;
  const [on, off] = CODES[style];
  return (text) => `\x1b[${on}m${text}\x1b[${off}m`;
}

/** Every style, for one writer. */
export type Palette = Record<keyof typeof CODES, (text: string) => string>;

const palettes = new WeakMap<Writer, Palette>();

/** The styles of a writer (plain text when it allows no colors). */
export function palette(writer: Writer): Palette {
  let styles = palettes.get(writer);
  if (!styles) {
    styles = Object.fromEntries(
      (Object.keys(CODES) as Array<keyof typeof CODES>).map((
        style,
      ) => [style, paint(writer, style)]),
    ) as Palette;
    palettes.set(writer, styles);
  }
  return styles;
}

// C0 controls but tab, DEL, and C1 controls: what a terminal may act on.
// deno-lint-ignore no-control-regex
const CONTROLS = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;

/**
 * Text as a terminal should show it: control characters (ESC and every other
 * C0 or C1 control but tab, newline included) written visibly as `\x1b`
 * (`\n` and `\r` for newline and carriage return), so that no field read
 * from a log or an index can move the cursor, retitle the window or hide what
 * follows. For human output only; `--json` keeps the exact text.
 */
export function visible(text: string): string {
  return text.replace(
    CONTROLS,
    (c) =>
      c === "\n"
        ? "\\n"
        : c === "\r"
        ? "\\r"
        : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/** Like {@linkcode visible}, keeping newlines (for multi-line fields). */
export function visibleLines(text: string): string {
  return text.split("\n").map(visible).join("\n");
}

/** Problems go to stderr as warnings. */
export function warn(ctx: Context): ProblemHandler {
  return (problem) =>
    ctx.err.write(`zig-session: warning: ${visible(problem.message)}\n`);
}

/**
 * A warning that may come once per session (a log that is gone, an entry
 * that leads elsewhere): what a count of them says, and what fixes them.
 */
export interface WarningKind {
  /** The summary of `n` of them. */
  count(n: number): string;
  /** The command that fixes them, or lists them all. */
  fix: string;
}

/** The warnings that repeat when many sessions are read. */
export const WARNING_KINDS = {
  missingLog: {
    count: (n: number) =>
      `${n} indexed session(s) have no log and were skipped`,
    fix:
      "zig-session verify lists them, zig-session reindex drops their entries",
  },
  elsewhere: {
    count: (n: number) =>
      `${n} index entr${
        n === 1 ? "y leads" : "ies lead"
      } out of the zig home and were not followed`,
    fix:
      "zig-session verify lists them, zig-session reindex rebuilds the index from the logs",
  },
  unreadable: {
    count: (n: number) => `${n} log(s) could not be read and were skipped`,
    fix: "zig-session verify checks every log",
  },
  torn_line: {
    count: (n: number) => `${n} torn line(s) (writes cut short)`,
    fix: "zig-session verify --repair moves torn bytes aside",
  },
  malformed_line: {
    count: (n: number) => `${n} line(s) that are not events`,
    fix: "zig-session verify lists them",
  },
  invalid_utf8: {
    count: (n: number) => `${n} line(s) with bytes that are not UTF-8`,
    fix: "zig-session verify lists them",
  },
  corrupt_index: {
    count: (n: number) => `${n} index problem(s)`,
    fix: "zig-session verify checks the indexes",
  },
  index_not_updated: {
    count: (n: number) => `${n} index update(s) failed`,
    fix: "zig-session reindex brings them up to date",
  },
  vanished_log: {
    count: (n: number) => `${n} log(s) removed while being read`,
    fix: "zig-session verify checks the indexes against the logs",
  },
} satisfies Record<string, WarningKind>;

/**
 * Warnings of a command that reads many sessions, summarized: the first few
 * of each kind go to stderr as they come, the others are only counted, and
 * {@linkcode Warnings.prototype.summarize} ends with one line per kind that
 * says how many there were and which command fixes them. So 100,000 sessions
 * whose logs are gone give a handful of lines, not 100,000.
 */
export class Warnings {
  #ctx: Context;
  #shown: number;
  #counts = new Map<WarningKind, number>();

  /**
   * @param ctx Where the warnings go (stderr).
   * @param shown How many of each kind are printed in full.
   */
  constructor(ctx: Context, shown = 5) {
    this.#ctx = ctx;
    this.#shown = shown;
  }

  /** Counts a warning, printing it if it is among the first of its kind. */
  add(kind: WarningKind, message: string): void {
    const n = (this.#counts.get(kind) ?? 0) + 1;
    this.#counts.set(kind, n);
    if (n <= this.#shown) {
      this.#ctx.err.write(`zig-session: warning: ${visible(message)}\n`);
    }
  }

  /**
   * Counts a session skipped because its log could not be read: gone
   * (`not_found`) or otherwise unreadable.
   */
  skippedLog(logPath: string, error: unknown): void {
    this.add(
      error instanceof ZigError && error.kind === "not_found"
        ? WARNING_KINDS.missingLog
        : WARNING_KINDS.unreadable,
      `skipped ${logPath}: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
  }

  /** The module's problems, counted by their kind. */
  readonly onProblem: ProblemHandler = (problem) =>
    this.add(
      (WARNING_KINDS as Record<string, WarningKind>)[problem.kind] ??
        WARNING_KINDS.unreadable,
      problem.message,
    );

  /** How many warnings of a kind there were. */
  count(kind: WarningKind): number {
    return this.#counts.get(kind) ?? 0;
  }

  /**
   * Ends with one line per kind of which more were counted than shown: how
   * many, and the command that fixes them.
   */
  summarize(): void {
    for (const [kind, n] of this.#counts) {
      if (n <= this.#shown) continue;
      this.#ctx.err.write(
        `zig-session: warning: ${
          kind.count(n)
        } (the first ${this.#shown} shown above): ${kind.fix}\n`,
      );
    }
  }
}

/** Formats milliseconds for people: `850ms`, `12.3s`, `4m05s`, `2h03m`. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return "-";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/** A timestamp shortened for a table: `2026-11-23 22:41:46` (UTC). */
export function shortTime(timestamp: string | null | undefined): string {
  if (!timestamp) return "-";
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)$/.test(timestamp)) {
    return timestamp.slice(0, 10) + " " + timestamp.slice(11, 19); // UTC already
  }
  const ns = parseTimestamp(timestamp);
  if (ns === undefined) return timestamp;
  return new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19).replace(
    "T",
    " ",
  );
}

/**
 * How long ago a timestamp was, for people: `just now`, `42 s ago`,
 * `3 min ago`, `5 h ago`, `2 days ago`, `in 3 min` (a clock ahead); the
 * date (UTC) beyond 30 days.
 */
export function relativeTime(
  timestamp: string | null | undefined,
  now: number = Date.now(),
): string {
  const ns = timestamp ? parseTimestamp(timestamp) : undefined;
  if (ns === undefined) return shortTime(timestamp);
  const ms = now - Number(ns / 1_000_000n);
  const span = Math.abs(ms);
  let text: string;
  if (span < 1000) return "just now";
  if (span < 60_000) text = `${Math.floor(span / 1000)} s`;
  else if (span < 3_600_000) text = `${Math.floor(span / 60_000)} min`;
  else if (span < 86_400_000) text = `${Math.floor(span / 3_600_000)} h`;
  else if (span < 30 * 86_400_000) {
    const days = Math.floor(span / 86_400_000);
    text = `${days} day${days === 1 ? "" : "s"}`;
  } else return shortTime(timestamp).slice(0, 10);
  return ms < 0 ? `in ${text}` : `${text} ago`;
}

/**
 * A session's project as a column shows it: the name of its project folder
 * under the zig home's `projects/` (the repository's path with `/` written
 * `-`, such as `home-ada-src-shop`), its end when longer than 32
 * characters; `-` for a session outside any repository (kept in the zig
 * home itself).
 */
export function projectLabel(entry: AnySessionEntry): string {
  const dir = "project" in entry ? entry.project : entry.workspace_path;
  if (typeof dir !== "string") return "-";
  const parts = dir.split(/[\\/]/).filter((part) => part !== "");
  const name = parts.at(-1);
  if (name === undefined || parts.at(-2) !== "projects") return "-";
  return name.length > 32 ? "…" + name.slice(-31) : name;
}

/** Lays out rows as aligned columns. */
export function table(rows: string[][], widthsOf: string[][] = rows): string {
  const widths: number[] = [];
  for (const row of widthsOf) {
    row.forEach((cell, i) => widths[i] = Math.max(widths[i] ?? 0, cell.length));
  }
  return rows.map((row, r) =>
    row.map((cell, i) =>
      i === row.length - 1
        ? cell
        : cell + " ".repeat(widths[i] - widthsOf[r][i].length)
    ).join("  ")
  ).join("\n") + "\n";
}

/** Shows progress on a terminal's stderr; nothing elsewhere. */
export function progress(ctx: Context, label: string) {
  const show = ctx.err.isTerminal;
  let last = -Infinity;
  return {
    tick(done: number, total: number) {
      if (!show) return;
      const now = performance.now();
      if (now - last < 100 && done !== total) return;
      last = now;
      ctx.err.write(`\r\x1b[K${label} ${done}/${total}`);
    },
    done() {
      if (show) ctx.err.write("\r\x1b[K");
    },
  };
}

/** A byte count for people: `812 B`, `12.3 kB`, `4.5 MB`. */
function formatSize(bytes: number | null): string {
  if (bytes === null) return "gone";
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} kB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e9).toFixed(1)} GB`;
}

/**
 * Sessions as an aligned table: id, project (with `global`), workflow, when
 * they ended, and the size of their log (what gc removes, or would).
 */
export function sessionTable(
  out: Writer,
  what: {
    doomed: Array<{ entry: AnySessionEntry; size: number | null }>;
    global: boolean;
  },
): string {
  const header = [
    "ID",
    ...(what.global ? ["PROJECT"] : []),
    "WORKFLOW",
    "ENDED (UTC)",
    "LOG",
  ];
  const rows = what.doomed.map(({ entry, size }) =>
    [
      entry.zig_session_id,
      ...(what.global ? [projectLabel(entry)] : []),
      entry.workflow_name,
      shortTime(entry.ended_at),
      formatSize(size),
    ].map((cell) => visible(cell))
  );
  const bold = paint(out, "bold");
  return table([header.map(bold), ...rows], [header, ...rows]);
}
