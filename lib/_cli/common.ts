// Internal to the CLI: argument parsing, output, and what several commands
// share. The CLI is built on the public module only (../../mod.ts), plus the
// internal confinement checks (../_confine.ts).
import { parseArgs, type ParseArgsConfig } from "node:util";
import {
  findSession,
  globalIndexPath,
  judgeSessionState,
  latestSession,
  listSessions,
  parseTimestamp,
  projectDir,
  projectIndexPath,
  resolveLogPath,
  sessionStateDetails,
  ZigError,
  zigHome,
} from "../../mod.ts";
import type {
  AnySessionEntry,
  ProblemHandler,
  SessionState,
} from "../../mod.ts";
// Internal to the package: confinement to the zig home (one rule, one place).
import { assertInsideHome, escapeOf, layoutOf } from "../_confine.ts";
import { basename, dirname, join } from "node:path";
import { UsageError } from "./_args.ts";

export { parseDuration, parseSince, UsageError } from "./_args.ts";

/** What a command runs with. */
export interface Context {
  /** The zig home, when not taken from the environment. */
  zigHome?: string;
  /** The working directory. */
  cwd: string;
  /** Writes to standard output. */
  out: Writer;
  /** Writes to standard error. */
  err: Writer;
}

/** A text sink that knows whether it is a terminal. */
export interface Writer {
  /** Writes text as it is. */
  write(text: string): void;
  /** Whether the sink is a terminal. */
  isTerminal: boolean;
  /** Whether colors may be used: a terminal, and NO_COLOR not set. */
  color: boolean;
}

const encoder = new TextEncoder();

/** A writer over a Deno standard stream, synchronous so that nothing lags. */
export function streamWriter(stream: typeof Deno.stdout): Writer {
  const isTerminal = stream.isTerminal();
  return {
    write(text: string) {
      const bytes = encoder.encode(text);
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
    },
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

/** A command's help text and options. */
export interface CommandSpec {
  /** The command's name. */
  name: string;
  /** One line: what the command does. */
  summary: string;
  /** Usage lines. */
  usage: string;
  /** The rest of the help. */
  details?: string;
  /** `parseArgs` options, without `help`. */
  options: NonNullable<ParseArgsConfig["options"]>;
  /** Whether positionals are accepted. */
  positionals?: boolean;
}

/** What {@linkcode parseCommand} returns. */
export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/**
 * Parses a command's arguments strictly. Returns `undefined` after printing
 * the help when `--help` was given.
 */
export function parseCommand(
  spec: CommandSpec,
  args: { argv: string[]; ctx: Context },
): Parsed | undefined {
  const options = { ...spec.options, help: { type: "boolean", short: "h" } };
  // Not Node's strict mode: its messages are written for Node programs
  // ("argument is ambiguous", quoting hints); each mistake is told here.
  const parsed = parseArgs({
    args: args.argv,
    options: options as NonNullable<ParseArgsConfig["options"]>,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  for (const token of parsed.tokens) checkToken(spec, token);
  if (parsed.values.help) {
    args.ctx.out.write(helpText(spec));
    return undefined;
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

type Token = NonNullable<ReturnType<typeof parseArgs>["tokens"]>[number];

function checkToken(spec: CommandSpec, token: Token): void {
  if (token.kind === "positional") {
    if (!spec.positionals) {
      throw new UsageError(
        `Unexpected argument "${token.value}": zig-session ${spec.name} takes options only`,
      );
    }
    return;
  }
  if (token.kind !== "option") return;
  const option = token.name === "help"
    ? { type: "boolean" }
    : Object.hasOwn(spec.options, token.name)
    ? spec.options[token.name]
    : undefined;
  if (!option) throw new UsageError(`Unknown option ${token.rawName}`);
  if (option.type === "boolean") {
    if (token.value !== undefined) {
      throw new UsageError(`Option ${token.rawName} takes no value`);
    }
    return;
  }
  if (token.value === undefined) {
    throw new UsageError(`Missing the value of ${token.rawName}`);
  }
  // A following word that looks like an option is not taken as the value,
  // except a negative number, which the value's own check then explains.
  if (
    !token.inlineValue && token.value.startsWith("-") &&
    !/^-\d/.test(token.value)
  ) {
    throw new UsageError(
      `Missing the value of ${token.rawName} before "${token.value}" (a value that starts with "-" is written ${token.rawName}=VALUE)`,
    );
  }
}

function helpText(spec: CommandSpec): string {
  const lines = [`zig-session ${spec.name}: ${spec.summary}`, "", spec.usage];
  if (spec.details) lines.push("", spec.details.trimEnd());
  return lines.join("\n") + "\n";
}

/** A flag's value as a string, if given. */
export function stringFlag(parsed: Parsed, name: string): string | undefined {
  const value = parsed.values[name];
  return typeof value === "string" ? value : undefined;
}

/** A repeatable flag's values. */
export function listFlag(parsed: Parsed, name: string): string[] {
  const value = parsed.values[name];
  return Array.isArray(value)
    ? value
    : typeof value === "string"
    ? [value]
    : [];
}

/** A flag that must be a non-negative integer. */
export function intFlag(parsed: Parsed, name: string): number | undefined {
  const value = stringFlag(parsed, name);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) {
    throw new UsageError(
      `Invalid --${name} "${value}": expected a non-negative integer`,
    );
  }
  return Number(value);
}

/** Nanoseconds since the epoch of a timestamp, 0 when it does not parse. */
export function instant(timestamp: string | null | undefined): bigint {
  return (timestamp ? parseTimestamp(timestamp) : undefined) ?? 0n;
}

/**
 * Where a scope's index is, and the options to list it. The index must lie
 * inside the zig home after resolving symbolic links.
 */
export function scopeOf(ctx: Context, global: boolean) {
  const home = zigHome({ zigHome: ctx.zigHome });
  const indexPath = global
    ? globalIndexPath(home)
    : projectIndexPath(projectDir({ zigHome: home, cwd: ctx.cwd }));
  assertInsideHome(indexPath, home);
  return {
    home,
    indexPath,
    list: { zigHome: home, cwd: ctx.cwd, global, onProblem: warn(ctx) },
  };
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

/**
 * Finds the logs of many sessions fast. An entry's log is where the layout
 * puts it, and it must lie inside the zig home after resolving symbolic
 * links: the folder it is in is resolved once (not once per log), and a log
 * is itself resolved only when it is a symbolic link. After a few lookups in
 * one folder, the folder is listed once, so that a log that is gone costs no
 * failing system call (100,000 of them took 25 s). What cannot be followed
 * or is missing is counted in the {@linkcode Warnings}.
 */
export class LogFinder {
  #scope: { home: string; indexPath: string };
  #warnings: Warnings;
  #folders = new Map<string, {
    escape: string | undefined;
    lookups: number;
    names?: Map<string, boolean>;
  }>();

  /**
   * @param scope The zig home and the index the entries come from.
   * @param warnings Where missing logs and entries leading elsewhere count.
   */
  constructor(
    scope: { home: string; indexPath: string },
    warnings: Warnings,
  ) {
    this.#scope = scope;
    this.#warnings = warnings;
  }

  /**
   * Where an entry's log is, when it can be followed; `undefined`, with a
   * warning, when it leads out of the zig home or (with `exists`) is gone.
   */
  find(
    entry: AnySessionEntry,
    options: { exists?: boolean } = {},
  ): string | undefined {
    const found = this.locate(entry);
    if ("refused" in found) {
      this.#warnings.add(WARNING_KINDS.elsewhere, `skipped: ${found.refused}`);
      return undefined;
    }
    if (!found.exists && options.exists) {
      this.#warnings.add(
        WARNING_KINDS.missingLog,
        `skipped session ${entry.zig_session_id}: its log "${found.logPath}" does not exist`,
      );
      return undefined;
    }
    return found.logPath;
  }

  /**
   * Where an entry's log is and whether it exists; or, when the entry or
   * the log leads out of the zig home, why it is not followed.
   */
  locate(
    entry: AnySessionEntry,
  ): { logPath: string; exists: boolean } | { refused: string } {
    let logPath: string;
    try {
      logPath = layoutOf(entry, {
        home: this.#scope.home,
        indexPath: this.#scope.indexPath,
      }).logPath;
    } catch (error) {
      if (!(error instanceof ZigError && error.kind === "corrupt")) throw error;
      return { refused: error.message };
    }
    const folder = this.#folder(dirname(logPath));
    const refuse = (escape: string) => ({
      refused:
        `Refusing "${logPath}": it resolves to "${escape}", outside the zig home "${this.#scope.home}" (a symbolic link leads out of it), so it is not followed; remove the link or move the files into the zig home`,
    });
    if (folder.escape !== undefined) {
      return refuse(join(folder.escape, basename(logPath)));
    }
    let kind: "file" | "link" | "missing";
    if (folder.names) {
      const link = folder.names.get(basename(logPath));
      kind = link === undefined ? "missing" : link ? "link" : "file";
    } else {
      kind = lstatKind(logPath);
    }
    if (kind === "link") {
      const escape = escapeOf(logPath, this.#scope.home);
      if (escape !== undefined) return refuse(escape);
    }
    return { logPath, exists: kind !== "missing" };
  }

  #folder(path: string) {
    let folder = this.#folders.get(path);
    if (!folder) {
      folder = { escape: escapeOf(path, this.#scope.home), lookups: 0 };
      this.#folders.set(path, folder);
    }
    // Listing a folder costs about as much as a few dozen failing lookups.
    if (++folder.lookups === 32 && folder.escape === undefined) {
      folder.names = listNames(path);
    }
    return folder;
  }
}

function lstatKind(path: string): "file" | "link" | "missing" {
  try {
    return Deno.lstatSync(path).isSymlink ? "link" : "file";
  } catch (error) {
    if (
      error instanceof Deno.errors.NotFound ||
      error instanceof Deno.errors.NotADirectory
    ) return "missing";
    throw error;
  }
}

/** A folder's entries, each with whether it is a symbolic link. */
function listNames(path: string): Map<string, boolean> {
  const names = new Map<string, boolean>();
  try {
    for (const item of Deno.readDirSync(path)) {
      names.set(item.name, item.isSymlink);
    }
  } catch (error) {
    if (
      !(error instanceof Deno.errors.NotFound ||
        error instanceof Deno.errors.NotADirectory)
    ) throw error;
  }
  return names;
}

/**
 * Where an entry's log is, inside the zig home; `undefined`, with a warning
 * naming the entry, when the entry leads elsewhere (it is never followed).
 */
export function locateLog(
  ctx: Context,
  where: {
    entry: AnySessionEntry;
    scope: { home: string; indexPath: string };
    /** Where the warning counts; default: straight to stderr. */
    warnings?: Warnings;
  },
): string | undefined {
  try {
    return resolveLogPath(where.entry, {
      indexPath: where.scope.indexPath,
      zigHome: where.scope.home,
    });
  } catch (error) {
    if (!(error instanceof ZigError && error.kind === "corrupt")) throw error;
    if (where.warnings) {
      where.warnings.add(WARNING_KINDS.elsewhere, `skipped: ${error.message}`);
    } else ctx.err.write(`zig-session: warning: skipped: ${error.message}\n`);
    return undefined;
  }
}

/** A session found from the command line, with where its log is. */
export interface FoundSession {
  entry: AnySessionEntry;
  logPath: string;
}

/**
 * Finds the session a command names: an id or unique prefix, or the latest
 * with `--latest`. Looks in the current project, then every project.
 */
export function resolveSession(
  ctx: Context,
  options: { id?: string; latest?: boolean; global?: boolean },
): FoundSession {
  if (options.latest && options.id !== undefined) {
    throw new UsageError(
      `Give a session id or --latest, not both (got "${options.id}" and --latest)`,
    );
  }
  const scopes = options.global ? [true] : [false, true];
  let lastError: unknown;
  for (const global of scopes) {
    const scope = scopeOf(ctx, global);
    try {
      let entry: AnySessionEntry | undefined;
      if (options.latest) {
        entry = latestSession(listSessions(scope.list));
        if (!entry) {
          throw new ZigError(
            `No sessions yet in ${
              global ? "any project" : "this project"
            } (index ${scope.indexPath})`,
            { kind: "not_found" },
          );
        }
      } else {
        if (!options.id) {
          throw new UsageError(
            "Missing the session id: give an id, a prefix of one, or --latest",
          );
        }
        entry = findSession(options.id, scope.list);
      }
      return {
        entry,
        logPath: resolveLogPath(entry, {
          indexPath: scope.indexPath,
          zigHome: scope.home,
        }),
      };
    } catch (error) {
      if (!(error instanceof ZigError && error.kind === "not_found")) {
        throw error;
      }
      lastError = error;
    }
  }
  throw lastError;
}

/** How a session stands (the module's rule: see `sessionStateDetails`). */
export type { SessionState } from "../../mod.ts";

/**
 * The state of a session and the instant it was last heard of, by the
 * module's rule (`sessionStateDetails`): the entry's status, else its log's
 * end event, else running while the log was written within 3 heartbeat
 * intervals.
 */
export function sessionState(
  entry: AnySessionEntry,
  where: { logPath: string; now?: bigint },
): { state: SessionState; lastTs?: string } {
  const details = sessionStateDetails(entry, where);
  return { state: details.state, lastTs: details.lastActivity };
}

/**
 * The state a log's last event tells, by the module's rule
 * (`judgeSessionState`) without the log file's own facts (its modification
 * time and declared heartbeat interval): prefer {@linkcode sessionState}.
 */
export function stateAfter(
  last: Record<string, unknown> | undefined,
  options: { since: string; now?: bigint },
): { state: SessionState; lastTs?: string } {
  const details = judgeSessionState({
    last,
    startedAt: options.since,
    now: options.now,
  });
  return { state: details.state, lastTs: details.lastActivity };
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
 * Whether times are shown relative to now ("3 min ago"): on a terminal,
 * unless `--utc` or `--json` asks for absolute UTC times. Output that is
 * not a terminal (a pipe, a file) always gets absolute UTC times, which stay
 * true when read later.
 */
export function relativeTimes(ctx: Context, parsed: Parsed): boolean {
  return ctx.out.isTerminal && parsed.values.utc !== true &&
    parsed.values.json !== true;
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

/** Entries with the instant they started, newest first. */
export function newestFirstWithInstants<T extends { started_at: string }>(
  entries: T[],
): Array<{ entry: T; at: bigint }> {
  const keyed = entries.map((entry) => ({
    entry,
    at: instant(entry.started_at),
  }));
  return keyed.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
}

/** Sorts entries newest first by the instant they started. */
export function newestFirst<T extends { started_at: string }>(
  entries: T[],
): T[] {
  return newestFirstWithInstants(entries).map((k) => k.entry);
}
