// `zig-session end`: ending a session started with `zig-session start`.
import { SessionWriter, streamSessionEvents, ZigError } from "../../mod.ts";
import { UsageError } from "./_args.ts";
import { type CommandContext, defineCommand } from "./_command.ts";
import { endedStatus, resolveSession } from "./_lookup.ts";
import { warn } from "./_output.ts";

/** What `end` is asked. */
export interface EndFlags {
  id: string;
  status: "success" | "failure";
  force: boolean;
}

/** `zig-session end`. */
export const end = defineCommand({
  name: "end",
  summary: "end a session started with zig-session start",
  positionals: "ID",
  details: `Writes zig_session_ended (default status: success) and stamps both
indexes. The duration is the time since the session started.

Refuses, listing them, while steps of the session are still running (a
step_started with no step_completed, step_failed or step_skipped yet): wait
for them, or end it anyway with --force. Nothing is written after a session's
end: a step still running then cannot record the rest of its events.`,
  options: {
    status: {
      type: "string",
      value: "S",
      default: "success",
      help: "success or failure",
    },
    force: {
      type: "boolean",
      help: "end the session even though steps are still running",
    },
  },
  flags(values, positionals): EndFlags {
    const status = values.status ?? "success";
    if (status !== "success" && status !== "failure") {
      throw new UsageError(
        `Invalid --status "${status}": expected success or failure`,
      );
    }
    if (positionals.length !== 1) {
      throw new UsageError("Give exactly one session id to end");
    }
    return { id: positionals[0], status, force: values.force };
  },
  run,
});

async function run(flags: EndFlags, ctx: CommandContext): Promise<number> {
  const found = resolveSession(ctx, { id: flags.id });
  const ended = endedStatus(found.logPath);
  if (ended) {
    throw new ZigError(
      `Session ${found.entry.zig_session_id} has already ended (${ended})`,
      { kind: "io", path: found.logPath },
    );
  }
  if (!flags.force) {
    const running = await runningSteps(found.logPath);
    if (running.length > 0) {
      ctx.err.write(
        `zig-session: session ${found.entry.zig_session_id} has ${running.length} step(s) still running: ${
          running.join(", ")
        }; wait for them to finish, or end it anyway with --force\n`,
      );
      return 1;
    }
  }
  // The duration is the session's: from its index entry's started_at to
  // this end, the figure list and show tell too.
  const writer = SessionWriter.attach({
    zigHome: ctx.zigHome,
    logPath: found.logPath,
    onProblem: warn(ctx),
    startedAt: found.entry.started_at,
  });
  writer.ended(flags.status);
  return 0;
}

/** Steps started in a log with no step_completed, step_failed or step_skipped yet. */
async function runningSteps(logPath: string): Promise<string[]> {
  const running = new Map<string, string[]>(); // step name -> start times
  for await (
    const event of streamSessionEvents(logPath, { onProblem: () => {} })
  ) {
    if (event.type === "step_started") {
      running.set(event.step_name, [
        ...running.get(event.step_name) ?? [],
        event.ts,
      ]);
    } else if (
      event.type === "step_completed" || event.type === "step_failed" ||
      event.type === "step_skipped"
    ) {
      running.get(event.step_name)?.shift();
    }
  }
  return [...running].flatMap(([name, times]) =>
    times.map((ts) => `${name} (started ${ts})`)
  );
}
