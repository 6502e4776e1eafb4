// Internal to the CLI: the sessions of a scope as list (and stats) show them,
// each with its state and duration, the color a state is shown in, and the
// table list prints.
import { listSessions, resolveLogPath } from "../../mod.ts";
import type { AnySessionEntry } from "../../mod.ts";
import {
  type Context,
  formatDuration,
  instant,
  newestFirstWithInstants,
  paint,
  projectLabel,
  relativeTime,
  scopeOf,
  type SessionState,
  shortTime,
  table,
  visible,
  type Warnings,
} from "./common.ts";
import { elapsedMs, judgeEntry, newestFromTail } from "./_list_read.ts";

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
export function durationOf(
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

/** A state, in its color on a terminal. */
export function stateColor(ctx: Context, state: SessionState): string {
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

/** The table `list` prints: a row a session, its state in color. */
export function listTable(
  sessions: ListedSession[],
  options: { ctx: Context; global: boolean; relative: boolean },
): string {
  const { ctx, global, relative } = options;
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
  return table(shown, [header, ...rows]);
}
