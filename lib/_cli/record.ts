// `record`, `start` and `end`: recording commands as steps of sessions.
import { basename } from "node:path";
import {
  SessionCoordinator,
  SessionWriter,
  streamSessionEvents,
  summarizeLog,
  truncateText,
  ZigError,
  zigHome,
} from "../../mod.ts";
import type { OutputStream, SessionStatus } from "../../mod.ts";
import {
  type CommandSpec,
  type Context,
  intFlag,
  parseCommand,
  parseDuration,
  resolveSession,
  stringFlag,
  UsageError,
  warn,
} from "./common.ts";

/** Output lines longer than this many bytes are split into several events. */
export const MAX_LINE_BYTES = 1 << 20;

const SIGNAL_NUMBERS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

/** The longest delay a timer takes (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

const FORWARDED: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

export const RECORD: CommandSpec = {
  name: "record",
  summary: "run a command as one step of a session and record its output",
  usage:
    "Usage: zig-session record [--workflow NAME] [--step NAME] [--prompt TEXT] [--model M]\n" +
    "                          [--session ID] [--tier N] [--quiet] -- CMD [ARGS...]",
  details:
    `Records tier_started, step_started, every line CMD writes to stdout and stderr
(also passed through unless --quiet), heartbeats while it runs, then
step_completed or step_failed, and ends the session success or failure.
Prints the session id on stderr when it starts. Exits with CMD's exit code
(128+signal when it was killed, 127 when it could not start).

When the session cannot be started (a disk already full), CMD is not run
(exit 1). When events cannot be written while CMD runs (the disk filled up,
or zig-session end --force ended the session), CMD still runs to its end and
record says that the record is incomplete (exit 1 if CMD succeeded).

SIGINT, SIGTERM and SIGHUP are forwarded to CMD (a second one kills it); the
session is then recorded as failure.

Options:
  --workflow NAME     workflow name of a new session (default: record)
  --step NAME         step name (default: CMD's base name)
  --prompt TEXT       prompt of a new session
  --model M           model recorded in step_started
  --session ID        append the step to this open session (id or prefix)
                      instead of starting one; safe from several processes
  --tier N            tier index of the step (default 0); with --session,
                      also records tier_started for it
  --heartbeat D       interval between heartbeats (default 10s)
  -q, --quiet         do not pass CMD's output through`,
  options: {
    workflow: { type: "string" },
    step: { type: "string" },
    prompt: { type: "string" },
    model: { type: "string" },
    session: { type: "string" },
    tier: { type: "string" },
    heartbeat: { type: "string" },
    quiet: { type: "boolean", short: "q" },
  },
  positionals: true,
};

/** Quotes a word for a shell only when it needs it. */
function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word)
    ? word
    : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * Splits output bytes into lines as events: invalid UTF-8 becomes U+FFFD, a
 * trailing `\r` is dropped, and a line longer than {@linkcode MAX_LINE_BYTES}
 * is cut (on a character boundary) into several events. The complete lines
 * of a chunk are decoded at once and handed over together; only a line that
 * runs over from one chunk to the next is held, as bytes.
 */
export class OutputLines {
  #parts: Uint8Array[] = [];
  #length = 0;
  // Bytes as they are: a byte order mark is text like any other.
  #decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  #emit: (lines: string[]) => void;

  /** @param emit Takes the lines of a chunk, in order. */
  constructor(emit: (lines: string[]) => void) {
    this.#emit = emit;
  }

  push(chunk: Uint8Array): void {
    const lines: string[] = [];
    const first = chunk.indexOf(10);
    if (first < 0) {
      this.#add(chunk, lines);
    } else {
      // The line held from earlier chunks ends here.
      this.#add(chunk.subarray(0, first), lines);
      this.#flush(true, lines);
      const last = chunk.lastIndexOf(10);
      if (last > first) this.#whole(chunk.subarray(first + 1, last), lines);
      this.#add(chunk.subarray(last + 1), lines);
    }
    if (lines.length > 0) this.#emit(lines);
  }

  /** The final line, even without its newline. */
  end(): void {
    if (this.#length === 0) return;
    const lines: string[] = [];
    this.#flush(true, lines);
    this.#emit(lines);
  }

  /** Complete lines, newlines between them but not after the last. */
  #whole(bytes: Uint8Array, lines: string[]): void {
    if (bytes.length > MAX_LINE_BYTES) {
      // Some line may be too long: line by line.
      let start = 0;
      for (;;) {
        const newline = bytes.indexOf(10, start);
        this.#add(
          bytes.subarray(start, newline < 0 ? bytes.length : newline),
          lines,
        );
        this.#flush(true, lines);
        if (newline < 0) return;
        start = newline + 1;
      }
    }
    // Decoded at once: a newline ends any broken UTF-8 sequence before it,
    // so this decodes each line as decoding it alone would.
    for (const line of this.#decoder.decode(bytes).split("\n")) {
      lines.push(
        line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line,
      );
    }
  }

  #add(bytes: Uint8Array, lines: string[]): void {
    let rest = bytes;
    while (this.#length + rest.length > MAX_LINE_BYTES) {
      let cut = MAX_LINE_BYTES - this.#length;
      // Back off to the start of a UTF-8 character.
      while (cut > 0 && (rest[cut] & 0xc0) === 0x80) cut--;
      if (cut === 0 && this.#length === 0) cut = MAX_LINE_BYTES;
      this.#parts.push(rest.subarray(0, cut));
      this.#length += cut;
      this.#flush(false, lines);
      rest = rest.subarray(cut);
    }
    if (rest.length > 0) {
      this.#parts.push(rest.slice());
      this.#length += rest.length;
    }
  }

  #flush(complete: boolean, lines: string[]): void {
    const joined = new Uint8Array(this.#length);
    let offset = 0;
    for (const part of this.#parts) {
      joined.set(part, offset);
      offset += part.length;
    }
    this.#parts = [];
    this.#length = 0;
    let text = this.#decoder.decode(joined);
    if (complete && text.endsWith("\r")) text = text.slice(0, -1);
    lines.push(text);
  }
}

/**
 * The events a `record` could not write (a full disk, a session ended by
 * another process): the command keeps running, and the loss is told at the end.
 */
class Losses {
  count = 0;
  first: string | undefined;

  /** Runs one write of `events` events; counts them as lost when it throws. */
  write(fn: () => void, events = 1): void {
    try {
      fn();
    } catch (error) {
      this.count += events;
      this.first ??= error instanceof Error ? error.message : String(error);
    }
  }
}

/** Rethrows a failure before the command ran, saying that it did not run. */
function notRun(error: unknown, command: string): never {
  if (!(error instanceof ZigError)) throw error;
  throw new ZigError(`${error.message}; "${command}" was not run`, {
    kind: error.kind,
    path: error.path,
    cause: error,
  });
}

async function pump(
  stream: ReadableStream<Uint8Array>,
  options: {
    writer: SessionWriter;
    stepName: string;
    name: OutputStream;
    passThrough?: typeof Deno.stdout;
    losses: Losses;
  },
): Promise<void> {
  const { writer, stepName, name, passThrough, losses } = options;
  // The lines of a chunk in one write: all of them or none.
  const lines = new OutputLines((batch) =>
    losses.write(
      () =>
        writer.batch(() => {
          for (const line of batch) {
            writer.stepOutput({ stepName, stream: name, line });
          }
        }),
      batch.length,
    )
  );
  let passing = passThrough !== undefined;
  for await (const chunk of stream) {
    if (passing) {
      try {
        let offset = 0;
        while (offset < chunk.length) {
          offset += passThrough!.writeSync(chunk.subarray(offset));
        }
      } catch {
        passing = false; // our own output went away; keep recording
      }
    }
    lines.push(chunk);
  }
  lines.end();
}

function endedStatus(logPath: string): string | undefined {
  const last = summarizeLog(logPath).last;
  return last?.type === "zig_session_ended" ? String(last.status) : undefined;
}

/** `zig-session record`. */
export async function record(argv: string[], ctx: Context): Promise<number> {
  const dashes = argv.indexOf("--");
  let parsed;
  try {
    parsed = parseCommand(RECORD, {
      argv: dashes < 0 ? argv : argv.slice(0, dashes),
      ctx,
    });
  } catch (error) {
    if (
      dashes < 0 && error instanceof UsageError &&
      error.message.startsWith("Unknown option")
    ) {
      throw new UsageError(
        `${error.message}; if that option is the command's, put the command after --`,
      );
    }
    throw error;
  }
  if (!parsed) return 0;
  const command = dashes < 0 ? parsed.positionals : argv.slice(dashes + 1);
  if (command.length === 0) {
    throw new UsageError(
      "Missing the command to record: zig-session record [options] -- CMD [ARGS...]",
    );
  }
  if (dashes >= 0 && parsed.positionals.length > 0) {
    throw new UsageError(
      `Unexpected argument "${parsed.positionals[0]}" before "--"`,
    );
  }
  const stepName = stringFlag(parsed, "step") ?? basename(command[0]);
  const tier = intFlag(parsed, "tier");
  const heartbeatFlag = stringFlag(parsed, "heartbeat") ?? "10s";
  const heartbeatMs = parseDuration(heartbeatFlag, "--heartbeat");
  // Checked before anything is created; a timer takes at most 2^31-1 ms.
  if (!(heartbeatMs >= 1 && heartbeatMs <= MAX_TIMER_MS)) {
    throw new UsageError(
      `Invalid --heartbeat "${heartbeatFlag}": expected an interval of at least 1ms and at most 24d`,
    );
  }
  const quiet = parsed.values.quiet === true;
  const commandLine = command.map(shellQuote).join(" ");
  const sessionId = stringFlag(parsed, "session");
  const home = zigHome({ zigHome: ctx.zigHome });

  let writer: SessionWriter;
  let coordinator: SessionCoordinator | undefined;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  if (sessionId !== undefined) {
    const found = resolveSession(ctx, { id: sessionId });
    const ended = endedStatus(found.logPath);
    if (ended) {
      throw new ZigError(
        `Session ${found.entry.zig_session_id} has already ended (${ended}): start a new one with zig-session start`,
        { kind: "io", path: found.logPath },
      );
    }
    writer = SessionWriter.attach({
      zigHome: home,
      logPath: found.logPath,
      onProblem: warn(ctx),
    });
    const secs = Math.max(1, Math.ceil(heartbeatMs / 1000));
    // Say at once how often this process beats, so that readers know how
    // long a silence means nothing.
    writer.heartbeat(secs);
    if (tier !== undefined) writer.tierStarted(tier, [stepName]);
    heartbeat = setInterval(() => {
      try {
        if (writer.open) writer.heartbeat(secs);
      } catch (error) {
        ctx.err.write(`zig-session: warning: heartbeat failed: ${error}\n`);
      }
    }, heartbeatMs);
    Deno.unrefTimer(heartbeat as unknown as number);
  } else {
    try {
      writer = SessionWriter.create({
        zigHome: home,
        cwd: ctx.cwd,
        workflowName: stringFlag(parsed, "workflow") ?? "record",
        workflowPath: commandLine,
        prompt: stringFlag(parsed, "prompt") ?? null,
        tierCount: (tier ?? 0) + 1,
        shared: true,
        onProblem: warn(ctx),
      });
    } catch (error) {
      notRun(error, commandLine);
    }
    coordinator = SessionCoordinator.start(writer, {
      heartbeatMs,
      handleSignals: false,
    });
  }
  ctx.err.write(`zig-session: session ${writer.sessionId}\n`);

  let status: SessionStatus = "failure";
  let exitCode = 1;
  const losses = new Losses();
  const started = performance.now();
  try {
    try {
      if (coordinator || tier !== undefined) {
        writer.tierStarted(tier ?? 0, [stepName]);
      }
      writer.stepStarted({
        stepName,
        tierIndex: tier ?? 0,
        zagSessionId: crypto.randomUUID(),
        zagCommand: commandLine,
        model: stringFlag(parsed, "model") ?? null,
        promptPreview: truncateText(stringFlag(parsed, "prompt") ?? "", 200),
      });
    } catch (error) {
      notRun(error, commandLine);
    }
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(command[0], {
        args: command.slice(1),
        cwd: ctx.cwd,
        stdin: "inherit",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (error) {
      const reason = error instanceof Deno.errors.NotFound
        ? `command not found: ${command[0]}`
        : `cannot run "${command[0]}": ${
          error instanceof Error ? error.message : String(error)
        }`;
      losses.write(() =>
        writer.stepFailed({
          stepName,
          exitCode: null,
          attempt: 1,
          error: `spawn failed: ${reason}`,
        })
      );
      ctx.err.write(`zig-session: ${reason}\n`);
      exitCode = error instanceof Deno.errors.NotCapable ? 1 : 127;
      return exitCode;
    }

    let interruptedBy: Deno.Signal | undefined;
    const listeners: Array<[Deno.Signal, () => void]> = [];
    for (const signal of FORWARDED) {
      const listener = () => {
        const again = interruptedBy !== undefined;
        interruptedBy ??= signal;
        try {
          child.kill(again ? "SIGKILL" : signal);
        } catch {
          // It has already exited.
        }
      };
      try {
        Deno.addSignalListener(signal, listener);
        listeners.push([signal, listener]);
      } catch {
        // Not supported on this platform.
      }
    }
    try {
      const [result] = await Promise.all([
        child.status,
        pump(child.stdout, {
          writer,
          stepName,
          name: "stdout",
          passThrough: quiet ? undefined : Deno.stdout,
          losses,
        }),
        pump(child.stderr, {
          writer,
          stepName,
          name: "stderr",
          passThrough: quiet ? undefined : Deno.stderr,
          losses,
        }),
      ]);
      const durationMs = Math.round(performance.now() - started);
      if (result.signal) {
        exitCode = 128 + (SIGNAL_NUMBERS[result.signal] ?? 0);
        losses.write(() =>
          writer.stepFailed({
            stepName,
            exitCode: null,
            attempt: 1,
            error: `killed by ${result.signal}`,
          })
        );
      } else if (result.code === 0) {
        exitCode = 0;
        losses.write(() =>
          writer.stepCompleted({ stepName, exitCode: 0, durationMs })
        );
        if (interruptedBy === undefined) status = "success";
      } else {
        exitCode = result.code;
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
      }
    } finally {
      for (const [signal, listener] of listeners) {
        Deno.removeSignalListener(signal, listener);
      }
    }
  } finally {
    clearInterval(heartbeat);
    if (coordinator) losses.write(() => coordinator.finish(status));
    else writer.close();
  }
  if (losses.count > 0) {
    // Said plainly, and never a success: the command ran, its record did not.
    ctx.err.write(
      `zig-session: the record of session ${writer.sessionId} is incomplete: ${losses.count} event(s) could not be written (${losses.first})\n`,
    );
    if (exitCode === 0) exitCode = 1;
  }
  return exitCode;
}

/** How long a session opened with `start` may stay silent by default. */
export const DEFAULT_IDLE_TIMEOUT = "1h";

export const START: CommandSpec = {
  name: "start",
  summary: "start a session that later commands record steps into",
  usage:
    "Usage: zig-session start [--workflow NAME] [--tiers N] [--prompt TEXT] [--workflow-path P]\n" +
    "                         [--idle-timeout D]",
  details: `Prints the new session's id on stdout. Record steps into it with
  zig-session record --session ID -- CMD ...
and end it with
  zig-session end ID [--status success|failure]

No process beats for such a session between its steps: it counts as running
until it ends, or until nothing was written to it for the idle timeout
(default ${DEFAULT_IDLE_TIMEOUT}); then it is abandoned. A step being recorded
beats for it.

Options:
  --idle-timeout D   how long the session may stay silent (default ${DEFAULT_IDLE_TIMEOUT}),
                     written in its first heartbeat as interval_secs = D / 3`,
  options: {
    workflow: { type: "string" },
    tiers: { type: "string" },
    prompt: { type: "string" },
    "workflow-path": { type: "string" },
    "idle-timeout": { type: "string" },
  },
};

/** `zig-session start`. */
export function start(argv: string[], ctx: Context): number {
  const parsed = parseCommand(START, { argv, ctx });
  if (!parsed) return 0;
  const idleFlag = stringFlag(parsed, "idle-timeout") ?? DEFAULT_IDLE_TIMEOUT;
  const idleMs = parseDuration(idleFlag, "--idle-timeout");
  if (!(idleMs >= 3000)) {
    throw new UsageError(
      `Invalid --idle-timeout "${idleFlag}": it must be at least 3s`,
    );
  }
  const writer = SessionWriter.create({
    zigHome: ctx.zigHome,
    cwd: ctx.cwd,
    workflowName: stringFlag(parsed, "workflow") ?? "session",
    workflowPath: stringFlag(parsed, "workflow-path") ?? "",
    prompt: stringFlag(parsed, "prompt") ?? null,
    tierCount: intFlag(parsed, "tiers") ?? 1,
    shared: true,
    onProblem: warn(ctx),
  });
  // The idle allowance in zig's format: readers allow 3 heartbeat intervals
  // of silence, and the interval is declared by the first heartbeat.
  writer.heartbeat(Math.ceil(idleMs / 3000));
  writer.close();
  ctx.out.write(`${writer.sessionId}\n`);
  return 0;
}

export const END: CommandSpec = {
  name: "end",
  summary: "end a session started with zig-session start",
  usage: "Usage: zig-session end ID [--status success|failure] [--force]",
  details: `Writes zig_session_ended (default status: success) and stamps both
indexes. The duration is the time since the session started.

Refuses, listing them, while steps of the session are still running (a
step_started with no step_completed, step_failed or step_skipped yet): wait
for them, or end it anyway with --force. Nothing is written after a session's
end: a step still running then cannot record the rest of its events.

Options:
  --status S          success (default) or failure
  --force             end the session even though steps are still running`,
  options: { status: { type: "string" }, force: { type: "boolean" } },
  positionals: true,
};

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

/** `zig-session end`. */
export async function end(argv: string[], ctx: Context): Promise<number> {
  const parsed = parseCommand(END, { argv, ctx });
  if (!parsed) return 0;
  const status = stringFlag(parsed, "status") ?? "success";
  if (status !== "success" && status !== "failure") {
    throw new UsageError(
      `Invalid --status "${status}": expected success or failure`,
    );
  }
  if (parsed.positionals.length !== 1) {
    throw new UsageError("Give exactly one session id to end");
  }
  const found = resolveSession(ctx, { id: parsed.positionals[0] });
  const ended = endedStatus(found.logPath);
  if (ended) {
    throw new ZigError(
      `Session ${found.entry.zig_session_id} has already ended (${ended})`,
      { kind: "io", path: found.logPath },
    );
  }
  if (parsed.values.force !== true) {
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
  writer.ended(status);
  return 0;
}
