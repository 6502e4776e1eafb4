// Internal to the CLI: the step `record` runs: its start, its child with
// the output recorded, and how it ended.
import {
  type SessionStatus,
  type SessionWriter,
  truncateText,
} from "../../mod.ts";
import type { Context } from "./_context.ts";
import { forwardSignals, signalExitCode, spawnChild } from "./_child.ts";
import { type Losses, notRun, pump } from "./_step_output.ts";

/** What `record` is asked (its flags, the step they describe). */
export interface RecordFlags {
  /** The command and its arguments. */
  command: string[];
  workflow?: string;
  stepName: string;
  prompt?: string;
  model?: string;
  /** The open session to append to (id or prefix); none: a new session. */
  session?: string;
  tier?: number;
  heartbeatMs: number;
  quiet: boolean;
}

/** What the step is: its flags (as `record` parsed them) and where it goes. */
export interface StepOptions {
  flags: RecordFlags;
  /** The command line as the session records it. */
  commandLine: string;
  /** Whether the session was created for this step (its tier then starts). */
  newSession: boolean;
  losses: Losses;
  ctx: Context;
}

/**
 * Records the step's start, runs its command to its end, and records how it
 * ended; the session's status and the exit code `record` gives.
 */
export async function runStep(
  writer: SessionWriter,
  options: StepOptions,
): Promise<{ status: SessionStatus; exitCode: number }> {
  const { flags, commandLine, losses, ctx } = options;
  const { command, stepName, tier } = flags;
  const started = performance.now();
  try {
    if (options.newSession || tier !== undefined) {
      writer.tierStarted(tier ?? 0, [stepName]);
    }
    writer.stepStarted({
      stepName,
      tierIndex: tier ?? 0,
      zagSessionId: crypto.randomUUID(),
      zagCommand: commandLine,
      model: flags.model ?? null,
      promptPreview: truncateText(flags.prompt ?? "", 200),
    });
  } catch (error) {
    notRun(error, commandLine);
  }
  const child = spawnChild(command, ctx.cwd);
  if (!(child instanceof Deno.ChildProcess)) {
    losses.write(() =>
      writer.stepFailed({
        stepName,
        exitCode: null,
        attempt: 1,
        error: `spawn failed: ${child.reason}`,
      })
    );
    ctx.err.write(`zig-session: ${child.reason}\n`);
    return { status: "failure", exitCode: child.exitCode };
  }
  using forwarding = forwardSignals(child);
  const output = { writer, stepName, losses };
  const [result] = await Promise.all([
    child.status,
    pump(child.stdout, {
      ...output,
      name: "stdout",
      passThrough: flags.quiet ? undefined : Deno.stdout,
    }),
    pump(child.stderr, {
      ...output,
      name: "stderr",
      passThrough: flags.quiet ? undefined : Deno.stderr,
    }),
  ]);
  const durationMs = Math.round(performance.now() - started);
  const { interruptedBy } = forwarding;
  if (result.signal) {
    losses.write(() =>
      writer.stepFailed({
        stepName,
        exitCode: null,
        attempt: 1,
        error: `killed by ${result.signal}`,
      })
    );
    return { status: "failure", exitCode: signalExitCode(result.signal) };
  }
  if (result.code === 0) {
    losses.write(() =>
      writer.stepCompleted({ stepName, exitCode: 0, durationMs })
    );
    return {
      status: interruptedBy === undefined ? "success" : "failure",
      exitCode: 0,
    };
  }
  losses.write(() =>
    writer.stepFailed({
      stepName,
      exitCode: result.code,
      attempt: 1,
      error: interruptedBy
        ? `interrupted by ${interruptedBy}, exited with code ${result.code}`
        : `exited with code ${result.code}`,
    })
  );
  return { status: "failure", exitCode: result.code };
}

/** Quotes a word for a shell only when it needs it. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word)
    ? word
    : `'${word.replaceAll("'", `'\\''`)}'`;
}
