// `zig-session record`: running a command as one step of a session.
import { basename } from "node:path";
import type { SessionStatus } from "../../mod.ts";
import { parseCount, parseInterval, UsageError } from "./_args.ts";
import { type CommandContext, defineCommand } from "./_command.ts";
import { Losses } from "./_step_output.ts";
import { type RecordFlags, runStep, shellQuote } from "./_record_step.ts";
import { openSession } from "./_record_session.ts";

export type { RecordFlags };

/** `zig-session record`: what follows `--` is the command, never options. */
export const record = defineCommand({
  name: "record",
  dashes: {
    hint: "if that option is the command's, put the command after --",
  },
  summary: "run a command as one step of a session and record its output",
  positionals: "-- CMD [ARGS...]",
  details: `Options go before --: zig-session record [options] -- CMD [ARGS...]

Records tier_started, step_started, every line CMD writes to stdout and stderr
(also passed through unless --quiet), heartbeats while it runs, then
step_completed or step_failed, and ends the session success or failure.
Prints the session id on stderr when it starts. Exits with CMD's exit code
(128+signal when it was killed, 127 when it could not start).

When the session cannot be started (a disk already full), CMD is not run
(exit 1). When events cannot be written while CMD runs (the disk filled up,
or zig-session end --force ended the session), CMD still runs to its end and
record says that the record is incomplete (exit 1 if CMD succeeded).

SIGINT, SIGTERM and SIGHUP are forwarded to CMD (a second one kills it); the
session is then recorded as failure.`,
  options: {
    workflow: {
      type: "string",
      value: "NAME",
      default: "record",
      help: "workflow name of a new session",
    },
    step: {
      type: "string",
      value: "NAME",
      default: "CMD's base name",
      help: "step name",
    },
    prompt: { type: "string", value: "TEXT", help: "prompt of a new session" },
    model: {
      type: "string",
      value: "M",
      help: "model recorded in step_started",
    },
    session: {
      type: "string",
      value: "ID",
      help: "append the step to this open session (id or prefix)\n" +
        "instead of starting one; safe from several processes",
    },
    tier: {
      type: "string",
      value: "N",
      default: "0",
      help: "tier index of the step; with --session,\n" +
        "also records tier_started for it",
    },
    heartbeat: {
      type: "string",
      value: "D",
      default: "10s",
      help: "interval between heartbeats",
    },
    quiet: {
      type: "boolean",
      short: "q",
      help: "do not pass CMD's output through",
    },
  },
  flags(values, positionals, rest): RecordFlags {
    const command = rest ?? positionals;
    if (command.length === 0) {
      throw new UsageError(
        "Missing the command to record: zig-session record [options] -- CMD [ARGS...]",
      );
    }
    if (rest && positionals.length > 0) {
      throw new UsageError(
        `Unexpected argument "${positionals[0]}" before "--"`,
      );
    }
    const stepName = values.step ?? basename(command[0]);
    const tier = parseCount(values.tier, "--tier");
    // Checked before anything is created.
    const heartbeatMs = parseInterval(values.heartbeat ?? "10s", "--heartbeat");
    return {
      command,
      workflow: values.workflow,
      stepName,
      prompt: values.prompt,
      model: values.model,
      session: values.session,
      tier,
      heartbeatMs,
      quiet: values.quiet,
    };
  },
  run,
});

async function run(flags: RecordFlags, ctx: CommandContext): Promise<number> {
  const commandLine = flags.command.map(shellQuote).join(" ");
  const session = openSession(flags, { commandLine, ctx });
  const { writer } = session;
  ctx.err.write(`zig-session: session ${writer.sessionId}\n`);
  let status: SessionStatus = "failure";
  let exitCode = 1;
  const losses = new Losses();
  try {
    ({ status, exitCode } = await runStep(writer, {
      flags,
      commandLine,
      newSession: session.created,
      losses,
      ctx,
    }));
  } finally {
    session.close(status, losses);
  }
  // Said plainly, and never a success: the command ran, its record did not.
  if (losses.told(ctx, writer.sessionId) && exitCode === 0) exitCode = 1;
  return exitCode;
}
