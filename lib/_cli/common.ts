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
import { assertInsideHome } from "../_confine.ts";

/** A command-line mistake: exit code 2 and a hint to `--help`. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

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
  /**
   * Writes UTF-8 bytes as they are, when the sink takes bytes (saves
   * decoding what is encoded again at once).
   */
  writeBytes?(bytes: Uint8Array): void;
  /** Whether the sink is a terminal. */
  isTerminal: boolean;
  /** Whether colors may be used: a terminal, and NO_COLOR not set. */
  color: boolean;
}

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

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Parses a duration such as `500ms`, `90s`, `5m`, `2h`, `7d` or `1w`. */
export function parseDuration(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(value.trim());
  if (!m) {
    throw new UsageError(
      `Invalid ${flag} "${value}": expected a duration like 90s, 5m, 2h or 7d`,
    );
  }
  return Number(m[1]) * UNITS[m[2]];
}

/**
 * Parses `--since`: a relative duration back from now (`2h`, `7d`) or an ISO
 * date or timestamp. Returns the instant in nanoseconds since the epoch.
 */
export function parseSince(value: string): bigint {
  if (/^\d+(?:\.\d+)?(ms|s|m|h|d|w)$/.test(value)) {
    const ms = Date.now() - parseDuration(value, "--since");
    return BigInt(Math.round(ms)) * 1_000_000n;
  }
  const exact = parseTimestamp(value);
  if (exact !== undefined) return exact;
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(value)
    ? Date.parse(`${value}T00:00:00Z`)
    : Date.parse(value);
  if (Number.isNaN(ms)) {
    throw new UsageError(
      `Invalid --since "${value}": expected a date (2026-11-20), a timestamp, or a duration back from now (2h, 7d)`,
    );
  }
  return BigInt(ms) * 1_000_000n;
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
 * Where an entry's log is, inside the zig home; `undefined`, with a warning
 * naming the entry, when the entry leads elsewhere (it is never followed).
 */
export function locateLog(
  ctx: Context,
  where: { entry: AnySessionEntry; scope: { home: string; indexPath: string } },
): string | undefined {
  try {
    return resolveLogPath(where.entry, {
      indexPath: where.scope.indexPath,
      zigHome: where.scope.home,
    });
  } catch (error) {
    if (!(error instanceof ZigError && error.kind === "corrupt")) throw error;
    ctx.err.write(`zig-session: warning: skipped: ${error.message}\n`);
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
