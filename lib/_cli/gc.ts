// `zig-session gc`: removing old ended sessions.
import { listSessions, summarizeLog, ZigError } from "../../mod.ts";
import {
  instant,
  LogFinder,
  newestFirst,
  scopeOf,
  WARNING_KINDS,
  Warnings,
} from "./common.ts";
import { parseCount, parseDuration } from "./_args.ts";
import { type CommandContext, defineCommand } from "./_command.ts";
import { type Doomed, removeSessions } from "./_remove_sessions.ts";
import { sessionTable } from "./_output.ts";

/** What `gc` is asked. */
export interface GcFlags {
  /** Sessions that ended before this instant (ns) go; none: any age. */
  cutoff?: bigint;
  /** How many of the newest sessions are always kept. */
  keep?: number;
  force: boolean;
  global: boolean;
}

/** `zig-session gc`. */
export const gc = defineCommand({
  name: "gc",
  summary: "remove old ended sessions (a dry run unless --force)",
  details:
    `Removes the logs and index entries of sessions that ended (their log has an
end event) longer ago than --older-than, always keeping the N newest sessions
with --keep N. With only --keep, age does not matter. Open sessions are never
touched. Without --force, only says what it would remove, and names them.
Index entries are removed under the index lock. An entry whose id or log_path
leads out of the zig home is skipped, with a warning: nothing outside the zig
home is ever deleted.`,
  options: {
    "older-than": {
      type: "string",
      value: "D",
      default: "30d, or any age with --keep alone",
      help: "only sessions that ended longer ago than D (7d, 2h, 90s)",
    },
    keep: {
      type: "string",
      value: "N",
      help: "always keep the N newest sessions",
    },
    force: { type: "boolean", help: "remove them (else only say which)" },
    global: {
      type: "boolean",
      help: "every project's sessions, not just this project's",
    },
  },
  flags(values): GcFlags {
    const keep = parseCount(values.keep, "--keep");
    const older = values["older-than"] ??
      (keep === undefined ? "30d" : undefined);
    const cutoff = older === undefined ? undefined : BigInt(
      Math.round(Date.now() - parseDuration(older, "--older-than")),
    ) * 1_000_000n;
    return { cutoff, keep, force: values.force, global: values.global };
  },
  run,
});

function run(flags: GcFlags, ctx: CommandContext): number {
  const { keep, cutoff, global } = flags;
  const scope = scopeOf(ctx, global);
  const warnings = new Warnings(ctx);
  const sessions = newestFirst(
    listSessions({ ...scope.list, onProblem: warnings.onProblem }),
  );
  const logs = new LogFinder(scope, warnings);
  const doomed: Doomed[] = [];
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
        if (summary.lastType !== "zig_session_ended") return;
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
  if (!flags.force) {
    warnings.summarize();
    if (doomed.length > 0) {
      ctx.out.write(
        "would remove:\n" + sessionTable(ctx.out, { doomed, global }),
      );
    }
    ctx.out.write(
      `${doomed.length} session(s), ${mb} MB: dry run, nothing removed (add --force)\n`,
    );
    return 0;
  }
  const ids = removeSessions(doomed, { scope, warnings });
  warnings.summarize();
  const gone = doomed.filter((d) => ids.has(d.entry.zig_session_id));
  const goneMb = (gone.reduce((sum, d) => sum + (d.size ?? 0), 0) / 1e6)
    .toFixed(1);
  if (gone.length > 0) {
    ctx.out.write(
      "removed:\n" + sessionTable(ctx.out, { doomed: gone, global }),
    );
  }
  ctx.out.write(`removed ${gone.length} session(s), ${goneMb} MB\n`);
  return 0;
}
