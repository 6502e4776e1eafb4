/**
 * The session coordinator: heartbeats while a session runs, and a recorded
 * end however the session stops.
 *
 * @module
 */
import { ZigError } from "./error.ts";
import { type Heartbeat, startHeartbeat } from "./_heartbeat.ts";
import type { SessionWriter } from "./session_writer.ts";
import type { SessionStatus } from "./types.ts";

/** Options of {@linkcode SessionCoordinator.start}. */
export interface CoordinatorOptions {
  /** Milliseconds between heartbeats. Default: 10 000, as zig. */
  heartbeatMs?: number;
  /**
   * End the session as failure when the process gets SIGINT, SIGTERM or
   * SIGHUP (its terminal closed), then exit with 128 + the signal's number.
   * Default: `true`.
   */
  handleSignals?: boolean;
}

const EXIT_EVENTS = ["unload", "error", "unhandledrejection"] as const;

const SIGNALS: ReadonlyArray<[Deno.Signal, number]> = [
  ["SIGINT", 2],
  ["SIGTERM", 15],
  ["SIGHUP", 1],
];

/**
 * Runs a session: a heartbeat at once, declaring the interval, then one on a
 * timer that never keeps the process alive, and an end event whatever
 * happens. `finish(status)` ends it; disposing it (`using`), a SIGINT,
 * SIGTERM or SIGHUP, an uncaught error, or the process exiting
 * first records failure, so that no session is left open by anything short of
 * SIGKILL.
 *
 * @example Usage
 * ```ts
 * import { SessionCoordinator } from "./session_coordinator.ts";
 * import { SessionWriter } from "./session_writer.ts";
 *
 * const writer = SessionWriter.create({
 *   zigHome: Deno.makeTempDirSync(),
 *   projectRoot: "/src/shop",
 *   workflowName: "w",
 *   workflowPath: "w.zwf",
 *   tierCount: 1,
 * });
 * {
 *   using session = SessionCoordinator.start(writer);
 *   session.writer.tierStarted(0, ["plan"]);
 *   session.finish("success");
 * } // had finish not been called, failure would be recorded here
 * ```
 */
export class SessionCoordinator implements Disposable, AsyncDisposable {
  /** The writer of the session. */
  readonly writer: SessionWriter;
  #heartbeat: Heartbeat;
  #signalHandlers: Array<[Deno.Signal, () => void]> = [];
  #onExit = () => this.#endQuietly("failure");
  #finished = false;

  private constructor(writer: SessionWriter, options: CoordinatorOptions) {
    this.writer = writer;
    const heartbeatMs = options.heartbeatMs ?? 10_000;
    if (!(heartbeatMs > 0)) {
      throw new ZigError(
        `Invalid heartbeatMs ${heartbeatMs}: it must be a positive number of milliseconds`,
        { kind: "parse" },
      );
    }
    // A first heartbeat at once: readers know the interval from the start,
    // not only once the first one is due.
    this.#heartbeat = startHeartbeat(writer, {
      intervalMs: heartbeatMs,
      onFailure: (error) =>
        console.warn(`zig-session: heartbeat failed: ${error}`),
    });
    if (options.handleSignals ?? true) {
      for (const [signal, number] of SIGNALS) {
        const handler = () => {
          this.#endQuietly("failure");
          Deno.exit(128 + number);
        };
        try {
          Deno.addSignalListener(signal, handler);
          this.#signalHandlers.push([signal, handler]);
        } catch {
          // Signals are not supported here (Windows has no SIGTERM).
        }
      }
    }
    // Ending normally ("unload") or on an uncaught error or rejection (which
    // skip "unload"): record failure if finish was not called.
    for (const event of EXIT_EVENTS) {
      globalThis.addEventListener(event, this.#onExit);
    }
  }

  /**
   * Starts coordinating a session.
   *
   * @param writer The session's writer.
   * @param options Heartbeat interval and signal handling.
   * @returns The coordinator.
   */
  static start(
    writer: SessionWriter,
    options: CoordinatorOptions = {},
  ): SessionCoordinator {
    return new SessionCoordinator(writer, options);
  }

  /** Whether the session was ended. */
  get finished(): boolean {
    return this.#finished;
  }

  /**
   * Ends the session: stops the heartbeat, writes `zig_session_ended` with
   * the session's duration, from its `started_at` to this end (see
   * `SessionWriter.prototype.ended`), and stamps both indexes.
   *
   * @param status How the session ended.
   * @throws {ZigError} when it was already finished.
   */
  finish(status: SessionStatus): void {
    if (this.#finished) {
      throw new ZigError(
        `Session ${this.writer.sessionId} is already finished`,
        { kind: "io", path: this.writer.logPath },
      );
    }
    this.#finished = true;
    this.#stop();
    this.writer.ended(status);
  }

  /** Records failure if the session was not finished. */
  [Symbol.dispose](): void {
    if (!this.#finished) this.finish("failure");
  }

  /** Records failure if the session was not finished. */
  [Symbol.asyncDispose](): Promise<void> {
    this[Symbol.dispose]();
    return Promise.resolve();
  }

  #endQuietly(status: SessionStatus): void {
    if (this.#finished) return;
    try {
      this.finish(status);
    } catch (error) {
      console.warn(`zig-session: could not end the session: ${error}`);
    }
  }

  #stop(): void {
    this.#heartbeat.stop();
    for (const [signal, handler] of this.#signalHandlers) {
      Deno.removeSignalListener(signal, handler);
    }
    this.#signalHandlers = [];
    for (const event of EXIT_EVENTS) {
      globalThis.removeEventListener(event, this.#onExit);
    }
  }
}
