// Internal to the CLI: the session `record` writes its step into: a new one
// (with a coordinator) or an open one (`--session`, with a heartbeat).
import {
  SessionCoordinator,
  type SessionStatus,
  SessionWriter,
  ZigError,
  zigHome,
} from "../../mod.ts";
import type { Context } from "./_context.ts";
import { endedStatus, resolveSession } from "./_lookup.ts";
import { warn } from "./_output.ts";
import { type Losses, notRun } from "./_step_output.ts";
// Internal to the package: the heartbeat the coordinator beats with too.
import { startHeartbeat } from "../_heartbeat.ts";

/** The session of a step being recorded. */
export interface RecordSession {
  writer: SessionWriter;
  /** Whether it was created for this step. */
  created: boolean;
  /** Ends a created session with `status`, else stops beating for it. */
  close(status: SessionStatus, losses: Losses): void;
}

/** Opens the session `record` writes into (see {@linkcode RecordSession}). */
export function openSession(
  flags: {
    session?: string;
    workflow?: string;
    prompt?: string;
    stepName: string;
    tier?: number;
    heartbeatMs: number;
  },
  options: { commandLine: string; ctx: Context },
): RecordSession {
  const { commandLine, ctx } = options;
  const home = zigHome({ zigHome: ctx.zigHome });
  if (flags.session === undefined) {
    let writer: SessionWriter;
    try {
      writer = SessionWriter.create({
        zigHome: home,
        cwd: ctx.cwd,
        workflowName: flags.workflow ?? "record",
        workflowPath: commandLine,
        prompt: flags.prompt ?? null,
        tierCount: (flags.tier ?? 0) + 1,
        shared: true,
        onProblem: warn(ctx),
      });
    } catch (error) {
      notRun(error, commandLine);
    }
    const coordinator = SessionCoordinator.start(writer, {
      heartbeatMs: flags.heartbeatMs,
      handleSignals: false,
    });
    return {
      writer,
      created: true,
      close: (status, losses) => losses.write(() => coordinator.finish(status)),
    };
  }
  const found = resolveSession(ctx, { id: flags.session });
  const ended = endedStatus(found.logPath);
  if (ended) {
    throw new ZigError(
      `Session ${found.entry.zig_session_id} has already ended (${ended}): start a new one with zig-session start`,
      { kind: "io", path: found.logPath },
    );
  }
  const writer = SessionWriter.attach({
    zigHome: home,
    logPath: found.logPath,
    onProblem: warn(ctx),
  });
  // Says at once how often this process beats, so that readers know how
  // long a silence means nothing.
  const heartbeat = startHeartbeat(writer, {
    intervalMs: flags.heartbeatMs,
    onFailure: (error) =>
      ctx.err.write(`zig-session: warning: heartbeat failed: ${error}\n`),
  });
  if (flags.tier !== undefined) {
    writer.tierStarted(flags.tier, [flags.stepName]);
  }
  return {
    writer,
    created: false,
    close() {
      heartbeat.stop();
      writer.close();
    },
  };
}
