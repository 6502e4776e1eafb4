// `zig-session list`: what sessions there are.
import { relativeTimes, type SessionState, Warnings } from "./common.ts";
import { parseCount, parseSince, UsageError } from "./_args.ts";
import { type CommandContext, defineCommand } from "./_command.ts";
import { SINCE_OPTION, WORKFLOWS_OPTION } from "./_options.ts";
import { writeListJson } from "./_list_read.ts";
import { listed, listTable } from "./_listed.ts";

const STATES: SessionState[] = ["success", "failure", "running", "abandoned"];

/** What `list` is asked. */
export interface ListFlags {
  statuses: string[];
  workflows: string[];
  /** Sessions started since this instant (ns), if given. */
  since?: bigint;
  limit?: number;
  global: boolean;
  utc: boolean;
  json: boolean;
}

/** `zig-session list`. */
export const list = defineCommand({
  name: "list",
  summary: "list sessions, newest first",
  details: `Status is success, failure, running, or abandoned (no end event, and
nothing written to its log for 3 heartbeat intervals, judged by the file's
modification time as well as its last event: its process died; a session
opened with start allows its idle timeout). Duration runs from the session's
started_at to its end (to now while it runs), the figure show, stats and the
end event tell too. On a terminal, start times are relative ("3 min ago");
elsewhere, and with --utc, they are UTC. With --global, PROJECT is the
project's folder under the zig home (its repository's path, / written -).`,
  options: {
    status: {
      type: "string",
      multiple: true,
      value: "S",
      help: "only sessions in this state",
    },
    workflow: WORKFLOWS_OPTION,
    since: SINCE_OPTION,
    limit: { type: "string", value: "N", help: "at most N sessions" },
    global: {
      type: "boolean",
      help: "every project's sessions, not just this project's",
    },
    utc: {
      type: "boolean",
      help: "absolute start times (UTC), also on a terminal",
    },
    json: {
      type: "boolean",
      help: "a JSON array: index entries with state and duration_ms",
    },
  },
  flags(values): ListFlags {
    for (const s of values.status) {
      if (!STATES.includes(s as SessionState)) {
        throw new UsageError(
          `Invalid --status "${s}": expected one of ${STATES.join(", ")}`,
        );
      }
    }
    return {
      statuses: values.status,
      workflows: values.workflow,
      since: values.since === undefined ? undefined : parseSince(values.since),
      limit: parseCount(values.limit, "--limit"),
      global: values.global,
      utc: values.utc,
      json: values.json,
    };
  },
  run,
});

function run(flags: ListFlags, ctx: CommandContext): number {
  const { statuses, workflows, since, global, limit } = flags;
  // Every session as JSON: streamed from the index, never held whole.
  if (
    flags.json && limit === undefined && statuses.length === 0 &&
    !workflows.length && since === undefined && writeListJson(ctx, { global })
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
  if (flags.json) {
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
  ctx.out.write(
    listTable(sessions, { ctx, global, relative: relativeTimes(ctx, flags) }),
  );
  return 0;
}
