// Internal: the heartbeat of a session while a process works on it, shared by
// the session coordinator and `zig-session record --session`.
import type { SessionWriter } from "./session_writer.ts";

/** A running heartbeat; `stop()` ends it. */
export interface Heartbeat {
  /** The interval declared in each heartbeat, in seconds. */
  readonly intervalSecs: number;
  /** Stops the timer (no heartbeat after this). */
  stop(): void;
}

/**
 * Starts a heartbeat: one at once, declaring the interval (so that readers
 * know from the start how long a silence means nothing), then one every
 * `intervalMs` while the writer is open, on a timer that never keeps the
 * process alive. A failed heartbeat is handed to `onFailure`; the timer goes
 * on. The first heartbeat's failure is thrown.
 */
export function startHeartbeat(
  writer: SessionWriter,
  options: { intervalMs: number; onFailure: (error: unknown) => void },
): Heartbeat {
  const { intervalMs, onFailure } = options;
  const intervalSecs = Math.max(1, Math.ceil(intervalMs / 1000));
  if (writer.open) writer.heartbeat(intervalSecs);
  const timer = setInterval(() => {
    try {
      if (writer.open) writer.heartbeat(intervalSecs);
    } catch (error) {
      onFailure(error);
    }
  }, intervalMs);
  Deno.unrefTimer(timer as unknown as number);
  return { intervalSecs, stop: () => clearInterval(timer) };
}
