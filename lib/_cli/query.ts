// `list` and `show`: what sessions there are, and what happened in one.
import { listSessions, resolveLogPath } from "../../mod.ts";
import type { AnySessionEntry } from "../../mod.ts";
import {
  type CommandSpec,
  type Context,
  formatDuration,
  instant,
  intFlag,
  newestFirstWithInstants,
  paint,
  parseCommand,
  parseSince,
  projectLabel,
  relativeTime,
  relativeTimes,
  resolveSession,
  scopeOf,
  type SessionState,
  sessionState,
  shortTime,
  stringFlag,
  table,
  UsageError,
  visible,
  visibleLines,
  warn,
  Warnings,
} from "./common.ts";
import { formatTimeline, SummaryBuilder } from "./format.ts";
import { foldLog } from "./_summary_read.ts";
import {
  elapsedMs,
  judgeEntry,
  newestFromTail,
  writeListJson,
} from "./_list_read.ts";

const STATES: SessionState[] = ["success", "failure", "running", "abandoned"];

export const LIST: CommandSpec = {
  name: "list",
  summary: "list sessions, newest first",
  usage:
    "Usage: zig-session list [--status S] [--workflow W] [--since D] [--limit N] [--global] [--utc] [--json]",
  details: `Status is success, failure, running, or abandoned (no end event, and
nothing written to its log for 3 heartbeat intervals, judged by the file's
modification time as well as its last event: its process died; a session
opened with start allows its idle timeout). Duration runs from the session's
started_at to its end (to now while it runs), the figure show, stats and the
end event tell too. On a terminal, start times are relative ("3 min ago");
elsewhere, and with --utc, they are UTC. With --global, PROJECT is the
project's folder under the zig home (its repository's path, / written -).

Options:
  --status S      only sessions in this state (repeatable)
  --workflow W    only this workflow (repeatable)
  --since D       started since a date (2026-11-20), a timestamp, or a duration
                  back from now (2h, 7d)
  --limit N       at most N sessions
  --global        every project's sessions, not just this project's
  --utc           absolute start times (UTC), also on a terminal
  --json          a JSON array: index entries with state and duration_ms`,
  options: {
    status: { type: "string", multiple: true },
    workflow: { type: "string", multiple: true },
    since: { type: "string" },
    limit: { type: "string" },
    global: { type: "boolean" },
    utc: { type: "boolean" },
    json: { type: "boolean" },
  },
};

/** An index entry with what the list shows. */
export interface ListedSession {
  entry: AnySessionEntry;
  /** Where the log is (looked up when first asked). */
  readonly logPath: string;
  state: SessionState;
  durationMs: number | null;
}

/** The sessions of a scope with their state, newest first, filtered. */
export function listed(
  ctx: Context,
  options: {
    global: boolean;
    statuses?: string[];
    workflows?: string[];
    since?: bigint;
    limit?: number;
    /** Where warnings count; default: straight to stderr. */
    warnings?: Warnings;
  },
): ListedSession[] {
  const scope = scopeOf(ctx, options.global);
  if (options.warnings) scope.list.onProblem = options.warnings.onProblem;
  const now = BigInt(Date.now()) * 1_000_000n;
  const out: ListedSession[] = [];
  const chosen = (entry: AnySessionEntry) =>
    !(options.workflows?.length &&
      !options.workflows.includes(entry.workflow_name)) &&
    !(options.since !== undefined && instant(entry.started_at) < options.since);
  // The newest sessions are the last indexed: a few read from the index's
  // end, when that is enough to tell which they are.
  const entries = (options.limit !== undefined && !options.statuses?.length &&
    newestFromTail(scope, { limit: options.limit, chosen })) ||
    newestFirstWithInstants(listSessions(scope.list));
  for (const { entry, at } of entries) {
    if (options.limit !== undefined && out.length >= options.limit) break;
    if (!chosen(entry)) continue;
    const judged = judgeEntry(ctx, {
      entry,
      at,
      scope,
      now,
      warnings: options.warnings,
    });
    if (
      options.statuses?.length && !options.statuses.includes(judged.state)
    ) continue;
    let logPath = judged.logPath;
    out.push({
      entry,
      get logPath() {
        return logPath ??= resolveLogPath(entry, {
          indexPath: scope.indexPath,
          zigHome: scope.home,
        });
      },
      state: judged.state,
      durationMs: judged.durationMs,
    });
  }
  return out;
}

/**
 * A session's duration, the one definition every command uses: from its
 * `started_at` to its end (the index's `ended_at`, else its log's end
 * event), or to now while it runs; `null` when unknown. The writer records
 * the same figure as the end event's `duration_ms`.
 */
function durationOf(
  startedAt: bigint,
  where: { state: SessionState; lastActivity?: string; now: bigint },
): number | null {
  const end = where.state === "running"
    ? where.now
    : where.lastActivity === undefined
    ? undefined
    : instant(where.lastActivity);
  return elapsedMs(startedAt, end);
}

function stateColor(ctx: Context, state: SessionState) {
  return paint(
    ctx.out,
    state === "success"
      ? "green"
      : state === "failure"
      ? "red"
      : state === "running"
      ? "cyan"
      : "yellow",
  )(state);
}

/** `zig-session list`. */
export function list(argv: string[], ctx: Context): number {
  const parsed = parseCommand(LIST, { argv, ctx });
  if (!parsed) return 0;
  const statuses = (parsed.values.status as string[] | undefined) ?? [];
  for (const s of statuses) {
    if (!STATES.includes(s as SessionState)) {
      throw new UsageError(
        `Invalid --status "${s}": expected one of ${STATES.join(", ")}`,
      );
    }
  }
  const sinceFlag = stringFlag(parsed, "since");
  const since = sinceFlag === undefined ? undefined : parseSince(sinceFlag);
  const global = parsed.values.global === true;
  const limit = intFlag(parsed, "limit");
  const workflows = parsed.values.workflow as string[] | undefined;
  // Every session as JSON: streamed from the index, never held whole.
  if (
    parsed.values.json && limit === undefined && statuses.length === 0 &&
    !workflows?.length && since === undefined && writeListJson(ctx, { global })
  ) return 0;
  const warnings = new Warnings(ctx);
  const sessions = listed(ctx, {
    global,
    statuses,
    workflows,
    since,
    limit,
    warnings,
  });
  warnings.summarize();
  if (parsed.values.json) {
    ctx.out.write(
      JSON.stringify(
        sessions.map((s) => ({
          ...s.entry,
          state: s.state,
          duration_ms: s.durationMs,
        })),
        null,
        2,
      ) + "\n",
    );
    return 0;
  }
  if (sessions.length === 0) {
    if (limit === 0) return 0; // none asked for
    ctx.err.write(
      `No sessions${global ? "" : " in this project (try --global)"}\n`,
    );
    return 0;
  }
  const relative = relativeTimes(ctx, parsed);
  const now = Date.now();
  const header = [
    "ID",
    ...(global ? ["PROJECT"] : []),
    "WORKFLOW",
    "STATUS",
    relative ? "STARTED" : "STARTED (UTC)",
    "DURATION",
  ];
  const statusColumn = global ? 3 : 2;
  const rows = sessions.map((s) => [
    visible(s.entry.zig_session_id.slice(0, 8)),
    ...(global ? [visible(projectLabel(s.entry))] : []),
    visible(s.entry.workflow_name),
    s.state,
    visible(
      relative
        ? relativeTime(s.entry.started_at, now)
        : shortTime(s.entry.started_at),
    ),
    formatDuration(s.durationMs ?? undefined),
  ]);
  const bold = paint(ctx.out, "bold");
  const shown = [
    header.map(bold),
    ...rows.map((r, i) => {
      const row = [...r];
      row[statusColumn] = stateColor(ctx, sessions[i].state);
      return row;
    }),
  ];
  ctx.out.write(table(shown, [header, ...rows]));
  return 0;
}

export const SHOW: CommandSpec = {
  name: "show",
  summary:
    "show a session: workflow, prompt, status, and a timeline of its tiers and steps",
  usage: "Usage: zig-session show (ID | --latest) [--global] [--utc] [--json]",
  details:
    `ID is a session id or a unique prefix of one. The duration runs from the
session's started_at to its end (to now while it runs), as in list and stats;
the timeline's offsets count from started_at too. On a terminal, the start is
also told relative to now ("3 min ago").

Options:
  --latest    the session that started last
  --global    look in every project
  --utc       the start in UTC only, also on a terminal
  --json      the index entry and the derived summary as JSON`,
  options: {
    latest: { type: "boolean" },
    global: { type: "boolean" },
    utc: { type: "boolean" },
    json: { type: "boolean" },
  },
  positionals: true,
};

/** `zig-session show`. */
export function show(argv: string[], ctx: Context): number {
  const parsed = parseCommand(SHOW, { argv, ctx });
  if (!parsed) return 0;
  if (parsed.positionals.length > 1) {
    throw new UsageError("Give one session id");
  }
  const found = resolveSession(ctx, {
    id: parsed.positionals[0],
    latest: parsed.values.latest === true,
    global: parsed.values.global === true,
  });
  const builder = new SummaryBuilder();
  foldLog(found.logPath, { builder, onProblem: warn(ctx) });
  const summary = builder.summary;
  const now = BigInt(Date.now()) * 1_000_000n;
  const { state, lastTs } = sessionState(found.entry, {
    logPath: found.logPath,
    now,
  });
  const entry = found.entry;
  const durationMs = durationOf(instant(entry.started_at), {
    state,
    lastActivity: lastTs,
    now,
  });
  if (parsed.values.json) {
    ctx.out.write(
      JSON.stringify(
        {
          entry,
          log_path: found.logPath,
          state,
          duration_ms: durationMs,
          summary,
        },
        null,
        2,
      ) + "\n",
    );
    return 0;
  }
  const bold = paint(ctx.out, "bold");
  const dim = paint(ctx.out, "dim");
  const lines = [
    bold(`Session ${visible(entry.zig_session_id)}`),
    `  workflow  ${visible(entry.workflow_name)}${
      summary.workflow_path ? dim(`  (${visible(summary.workflow_path)})`) : ""
    }`,
  ];
  if (typeof summary.prompt === "string") {
    lines.push(
      `  prompt    ${
        visibleLines(summary.prompt).replaceAll("\n", "\n            ")
      }`,
    );
  }
  lines.push(
    `  status    ${stateColor(ctx, state)}`,
    `  started   ${
      relativeTimes(ctx, parsed)
        ? `${visible(relativeTime(entry.started_at))}  ${
          dim(`(${visible(shortTime(entry.started_at))} UTC)`)
        }`
        : `${visible(shortTime(entry.started_at))} UTC`
    }`,
    `  duration  ${formatDuration(durationMs ?? undefined)}${
      state === "running" ? " so far" : ""
    }`,
    `  log       ${visible(found.logPath)}  ${
      dim(`(${summary.events} events)`)
    }`,
    "",
  );
  ctx.out.write(lines.join("\n") + "\n");
  ctx.out.write(
    formatTimeline(summary, { out: ctx.out, startedAt: entry.started_at }),
  );
  return 0;
}
