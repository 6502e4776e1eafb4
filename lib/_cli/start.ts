// `zig-session start`: a session that later commands record steps into.
import { SessionWriter } from "../../mod.ts";
import { parseCount, parseDuration, UsageError } from "./_args.ts";
import { type CommandContext, defineCommand } from "./_command.ts";
import { warn } from "./_output.ts";

/** How long a session opened with `start` may stay silent by default. */
export const DEFAULT_IDLE_TIMEOUT = "1h";

/** What `start` is asked. */
export interface StartFlags {
  workflow?: string;
  tiers?: number;
  prompt?: string;
  workflowPath?: string;
  /** How long the session may stay silent, in milliseconds. */
  idleMs: number;
}

/** `zig-session start`. */
export const start = defineCommand({
  name: "start",
  summary: "start a session that later commands record steps into",
  details: `Prints the new session's id on stdout. Record steps into it with
  zig-session record --session ID -- CMD ...
and end it with
  zig-session end ID [--status success|failure]

No process beats for such a session between its steps: it counts as running
until it ends, or until nothing was written to it for the idle timeout
(default ${DEFAULT_IDLE_TIMEOUT}); then it is abandoned. A step being recorded
beats for it.`,
  options: {
    workflow: {
      type: "string",
      value: "NAME",
      default: "session",
      help: "workflow name of the session",
    },
    tiers: {
      type: "string",
      value: "N",
      default: "1",
      help: "how many tiers the workflow has",
    },
    prompt: { type: "string", value: "TEXT", help: "prompt of the session" },
    "workflow-path": {
      type: "string",
      value: "P",
      help: "path of the workflow's file",
    },
    "idle-timeout": {
      type: "string",
      value: "D",
      default: DEFAULT_IDLE_TIMEOUT,
      help: "how long the session may stay silent,\n" +
        "written in its first heartbeat as interval_secs = D / 3",
    },
  },
  flags(values): StartFlags {
    const idle = values["idle-timeout"] ?? DEFAULT_IDLE_TIMEOUT;
    const idleMs = parseDuration(idle, "--idle-timeout");
    if (!(idleMs >= 3000)) {
      throw new UsageError(
        `Invalid --idle-timeout "${idle}": it must be at least 3s`,
      );
    }
    return {
      workflow: values.workflow,
      tiers: parseCount(values.tiers, "--tiers"),
      prompt: values.prompt,
      workflowPath: values["workflow-path"],
      idleMs,
    };
  },
  run,
});

function run(flags: StartFlags, ctx: CommandContext): number {
  const writer = SessionWriter.create({
    zigHome: ctx.zigHome,
    cwd: ctx.cwd,
    workflowName: flags.workflow ?? "session",
    workflowPath: flags.workflowPath ?? "",
    prompt: flags.prompt ?? null,
    tierCount: flags.tiers ?? 1,
    shared: true,
    onProblem: warn(ctx),
  });
  // The idle allowance in zig's format: readers allow 3 heartbeat intervals
  // of silence, and the interval is declared by the first heartbeat.
  writer.heartbeat(Math.ceil(flags.idleMs / 3000));
  writer.close();
  ctx.out.write(`${writer.sessionId}\n`);
  return 0;
}
