// `zig-session show`: what happened in one session.
import {
  formatDuration,
  instant,
  paint,
  relativeTime,
  relativeTimes,
  resolveSession,
  sessionState,
  shortTime,
  visible,
  visibleLines,
  warn,
} from "./common.ts";
import { UsageError } from "./_args.ts";
import { type CommandContext, defineCommand } from "./_command.ts";
import { formatTimeline, SummaryBuilder } from "./format.ts";
import { foldLog } from "./_summary_read.ts";
import { durationOf, stateColor } from "./_listed.ts";

/** What `show` is asked. */
export interface ShowFlags {
  /** The session, by id or unique prefix. */
  id?: string;
  latest: boolean;
  global: boolean;
  utc: boolean;
  json: boolean;
}

/** `zig-session show`. */
export const show = defineCommand({
  name: "show",
  summary:
    "show a session: workflow, prompt, status, and a timeline of its tiers and steps",
  positionals: "[ID]",
  details:
    `ID is a session id or a unique prefix of one. The duration runs from the
session's started_at to its end (to now while it runs), as in list and stats;
the timeline's offsets count from started_at too. On a terminal, the start is
also told relative to now ("3 min ago").`,
  options: {
    latest: { type: "boolean", help: "the session that started last" },
    global: { type: "boolean", help: "look in every project" },
    utc: {
      type: "boolean",
      help: "the start in UTC only, also on a terminal",
    },
    json: {
      type: "boolean",
      help: "the index entry and the derived summary as JSON",
    },
  },
  flags(values, positionals): ShowFlags {
    if (positionals.length > 1) throw new UsageError("Give one session id");
    return { id: positionals[0], ...values };
  },
  run,
});

function run(flags: ShowFlags, ctx: CommandContext): number {
  const found = resolveSession(ctx, {
    id: flags.id,
    latest: flags.latest,
    global: flags.global,
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
  if (flags.json) {
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
      relativeTimes(ctx, flags)
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
