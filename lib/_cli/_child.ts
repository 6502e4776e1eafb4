// Internal to the CLI: running a command as a child, with SIGINT, SIGTERM
// and SIGHUP forwarded to it, and the exit code a shell would give.

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

const FORWARDED: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** A child that could not start: why, and the exit code that tells it. */
export interface SpawnFailure {
  reason: string;
  /** 127 when the command was not found, else 1. */
  exitCode: number;
}

/** Spawns `command` with its output piped; a {@linkcode SpawnFailure} if it cannot start. */
export function spawnChild(
  command: string[],
  cwd: string,
): Deno.ChildProcess | SpawnFailure {
  try {
    return new Deno.Command(command[0], {
      args: command.slice(1),
      cwd,
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
    return {
      reason,
      exitCode: error instanceof Deno.errors.NotCapable ? 1 : 127,
    };
  }
}

/** Signals forwarded to a child until `stop()`; which one came first. */
export interface Forwarding extends Disposable {
  /** The first signal forwarded, if any. */
  readonly interruptedBy: Deno.Signal | undefined;
}

/**
 * Forwards SIGINT, SIGTERM and SIGHUP to `child` until disposed: the first
 * as it is, a second one as SIGKILL.
 */
export function forwardSignals(child: Deno.ChildProcess): Forwarding {
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
  return {
    get interruptedBy() {
      return interruptedBy;
    },
    [Symbol.dispose]() {
      for (const [signal, listener] of listeners) {
        Deno.removeSignalListener(signal, listener);
      }
    },
  };
}

/** The exit code of a child killed by `signal`: 128 + its number. */
export function signalExitCode(signal: Deno.Signal): number {
  return 128 + (SIGNAL_NUMBERS[signal] ?? 0);
}
