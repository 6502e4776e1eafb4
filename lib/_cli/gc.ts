// `zig-session gc`: removing old ended sessions.
import { dirname, join } from "node:path";
import {
  globalIndexPath,
  listSessions,
  summarizeLog,
  updateGlobalIndex,
  updateProjectIndex,
  ZigError,
} from "../../mod.ts";
import type { AnySessionEntry } from "../../mod.ts";
import {
  type CommandSpec,
  type Context,
  instant,
  intFlag,
  LogFinder,
  newestFirst,
  paint,
  parseCommand,
  parseDuration,
  projectLabel,
  scopeOf,
  shortTime,
  stringFlag,
  table,
  visible,
  WARNING_KINDS,
  Warnings,
} from "./common.ts";
// Internal to the package: confinement to the zig home.
import { assertInsideHome } from "../_confine.ts";

export const GC: CommandSpec = {
  name: "gc",
  summary: "remove old ended sessions (a dry run unless --force)",
  usage:
    "Usage: zig-session gc [--older-than D] [--keep N] [--force] [--global]",
  details:
    `Removes the logs and index entries of sessions that ended (their log has an
end event) longer ago than --older-than (default 30d), always keeping the N
newest sessions with --keep N. With only --keep, age does not matter. Open
sessions are never touched. Without --force, only says what it would remove.
Index entries are removed under the index lock. An entry whose id or log_path
leads out of the zig home is skipped, with a warning: nothing outside the zig
home is ever deleted.`,
  options: {
    "older-than": { type: "string" },
    keep: { type: "string" },
    force: { type: "boolean" },
    global: { type: "boolean" },
  },
};

/**
 * The project index of a log where the layout puts it (from
 * `resolveLogPath`, never an entry's `log_path`): `<project>/logs/index.json`.
 */
function indexOfLayoutLog(logPath: string): string {
  return join(dirname(dirname(logPath)), "index.json");
}

/** `zig-session gc`. */
export function gc(argv: string[], ctx: Context): number {
  const parsed = parseCommand(GC, { argv, ctx });
  if (!parsed) return 0;
  const keep = intFlag(parsed, "keep");
  const olderFlag = stringFlag(parsed, "older-than") ??
    (keep === undefined ? "30d" : undefined);
  const cutoff = olderFlag === undefined ? undefined : BigInt(
    Math.round(Date.now() - parseDuration(olderFlag, "--older-than")),
  ) * 1_000_000n;
  const global = parsed.values.global === true;
  const scope = scopeOf(ctx, global);
  const warnings = new Warnings(ctx);
  const sessions = newestFirst(
    listSessions({ ...scope.list, onProblem: warnings.onProblem }),
  );
  const logs = new LogFinder(scope, warnings);
  const doomed: Array<
    { entry: AnySessionEntry; logPath: string; size: number | null }
  > = [];
  sessions.forEach((entry, rank) => {
    if (keep !== undefined && rank < keep) return;
    if (!entry.status || !entry.ended_at) return;
    if (cutoff !== undefined && instant(entry.ended_at) >= cutoff) return;
    // An entry leading out of the zig home is skipped, with a warning.
    const found = logs.locate(entry);
    if ("refused" in found) {
      warnings.add(WARNING_KINDS.elsewhere, `skipped: ${found.refused}`);
      return;
    }
    const { logPath } = found;
    // A log already gone: its entry goes, nothing to read.
    let size: number | null = null;
    if (found.exists) {
      try {
        const summary = summarizeLog(logPath);
        // The index says ended; the log must agree, or the session may be
        // open.
        if (summary.last?.type !== "zig_session_ended") return;
        size = summary.size;
      } catch (error) {
        if (!(error instanceof ZigError && error.kind === "not_found")) {
          throw error;
        }
      }
    }
    doomed.push({ entry, logPath, size });
  });
  const bytes = doomed.reduce((sum, d) => sum + (d.size ?? 0), 0);
  const mb = (bytes / 1e6).toFixed(1);
  if (!parsed.values.force) {
    warnings.summarize();
    if (doomed.length > 0) {
      ctx.out.write("would remove:\n" + sessionTable(ctx, { doomed, global }));
    }
    ctx.out.write(
      `${doomed.length} session(s), ${mb} MB: dry run, nothing removed (add --force)\n`,
    );
    return 0;
  }
  const ids = new Set<string>();
  const byIndex = new Map<string, typeof doomed>();
  for (const d of doomed) {
    // The index the entry came from, or, from the global index, the project
    // index the layout puts beside its log.
    const index = scope.list.global
      ? indexOfLayoutLog(d.logPath)
      : scope.indexPath;
    const group = byIndex.get(index);
    if (group) group.push(d);
    else byIndex.set(index, [d]);
  }
  const onProblem = warnings.onProblem;
  for (const [indexPath, group] of byIndex) {
    updateProjectIndex(indexPath, {
      onProblem,
      update(index) {
        // Under the lock: delete the logs whose entries are going, each
        // checked again to lie inside the zig home.
        const mine = new Set<string>();
        for (const d of group) {
          try {
            // A log found gone needs no removing: only its entry goes.
            if (d.size !== null) {
              assertInsideHome(d.logPath, scope.home);
              Deno.removeSync(d.logPath);
            }
          } catch (error) {
            if (error instanceof ZigError) {
              warnings.add(
                WARNING_KINDS.elsewhere,
                `skipped: ${error.message}`,
              );
              continue;
            }
            if (!(error instanceof Deno.errors.NotFound)) throw error;
          }
          mine.add(d.entry.zig_session_id);
          ids.add(d.entry.zig_session_id);
        }
        index.sessions = index.sessions.filter((e) =>
          !mine.has(e.zig_session_id)
        );
      },
    });
  }
  updateGlobalIndex(globalIndexPath(scope.home), {
    onProblem,
    update(index) {
      index.sessions = index.sessions.filter((e) => !ids.has(e.zig_session_id));
    },
  });
  warnings.summarize();
  const gone = doomed.filter((d) => ids.has(d.entry.zig_session_id));
  const goneMb = (gone.reduce((sum, d) => sum + (d.size ?? 0), 0) / 1e6)
    .toFixed(1);
  if (gone.length > 0) {
    ctx.out.write("removed:\n" + sessionTable(ctx, { doomed: gone, global }));
  }
  ctx.out.write(`removed ${gone.length} session(s), ${goneMb} MB\n`);
  return 0;
}

/** A byte count for people: `812 B`, `12.3 kB`, `4.5 MB`. */
function formatSize(bytes: number | null): string {
  if (bytes === null) return "gone";
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} kB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e9).toFixed(1)} GB`;
}

/** The sessions gc removes (or would), as an aligned table. */
function sessionTable(
  ctx: Context,
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
  const bold = paint(ctx.out, "bold");
  return table([header.map(bold), ...rows], [header, ...rows]);
}
