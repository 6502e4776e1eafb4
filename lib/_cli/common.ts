// Internal to the CLI: parsing a command's arguments, and what several
// commands share. The CLI is built on the module (../../mod.ts), plus a few
// internals (confinement, the heartbeat, the raw readers). The shared pieces by
// concern are in `_`-files (context, output, lookup, args), re-exported here
// for the commands that still import them from here.
import { parseArgs, type ParseArgsConfig } from "node:util";
import {
  judgeSessionState,
  parseTimestamp,
  sessionStateDetails,
} from "../../mod.ts";
import type { AnySessionEntry, SessionState } from "../../mod.ts";
import { UsageError } from "./_args.ts";
import type { Context } from "./_context.ts";

export { parseDuration, parseSince, UsageError } from "./_args.ts";
export type { Context, Writer } from "./_context.ts";
export {
  formatDuration,
  paint,
  type Palette,
  palette,
  progress,
  projectLabel,
  relativeTime,
  shortTime,
  streamWriter,
  table,
  visible,
  visibleLines,
  warn,
  WARNING_KINDS,
  type WarningKind,
  Warnings,
} from "./_output.ts";
export {
  type FoundSession,
  locateLog,
  LogFinder,
  resolveSession,
  scopeOf,
} from "./_lookup.ts";

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

/** Nanoseconds since the epoch of a timestamp, 0 when it does not parse. */
export function instant(timestamp: string | null | undefined): bigint {
  return (timestamp ? parseTimestamp(timestamp) : undefined) ?? 0n;
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

/**
 * Whether times are shown relative to now ("3 min ago"): on a terminal,
 * unless `--utc` or `--json` asks for absolute UTC times. Output that is
 * not a terminal (a pipe, a file) always gets absolute UTC times, which stay
 * true when read later.
 */
export function relativeTimes(
  ctx: Context,
  flags: { utc?: boolean; json?: boolean },
): boolean {
  return ctx.out.isTerminal && flags.utc !== true && flags.json !== true;
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
