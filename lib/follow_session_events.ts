/**
 * Following a live session: events as they are appended, until it ends.
 *
 * @module
 */
import { fsError } from "./_fs.ts";
import { LineParser } from "./_line_parser.ts";
import type { ProblemHandler, SessionLogEvent } from "./types.ts";

/** Options of {@linkcode followSessionEvents}. */
export interface FollowOptions {
  /** Told about malformed lines. Default: a warning on stderr. */
  onProblem?: ProblemHandler;
  /** Stops following when aborted (the iterator then just ends). */
  signal?: AbortSignal;
  /**
   * Milliseconds between checks of the file when no change notification
   * came: the fallback for file systems that do not notify. Default: 1000.
   */
  pollMs?: number;
}

const CHUNK = 1 << 16;

/**
 * Yields the events of a session log, first those already written, then each
 * new one as soon as it is appended, until `zig_session_ended` (or the
 * signal). It wakes on file-change notifications (inotify and the like), so a
 * new event arrives within milliseconds; a slow poll covers file systems that
 * do not notify. An unfinished last line is waited for, not reported.
 *
 * @example Usage
 * ```ts
 * import { followSessionEvents } from "./follow_session_events.ts";
 *
 * const path = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(path, '{"seq":1,"ts":"2026-11-23T22:41:46+00:00","zig_session_id":"a","type":"zig_session_ended","status":"success","duration_ms":5}\n');
 * for await (const event of followSessionEvents(path)) {
 *   console.log(event.type); // zig_session_ended, then the loop ends
 * }
 * ```
 *
 * @param path The log file.
 * @param options A signal to stop, where to report bad lines, the poll interval.
 * @returns An async iterator of the events.
 */
export async function* followSessionEvents(
  path: string,
  options: FollowOptions = {},
): AsyncGenerator<SessionLogEvent> {
  const { signal } = options;
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    throw fsError(error, { action: "follow the session log", path });
  }
  let watcher: Deno.FsWatcher | undefined;
  try {
    watcher = Deno.watchFs(path, { recursive: false });
  } catch {
    watcher = undefined; // No notifications here: the poll alone wakes us.
  }
  const changes = watcher?.[Symbol.asyncIterator]();
  const awaitChange = () => changes?.next().then(() => "change" as const);
  let nextChange = awaitChange();
  const parser = new LineParser(path, options.onProblem);
  const buffer = new Uint8Array(CHUNK);
  let wake: (() => void) | undefined;
  const onAbort = () => wake?.();
  signal?.addEventListener("abort", onAbort);
  try {
    while (!signal?.aborted) {
      // Read everything there is now (a long log: until the signal).
      while (!signal?.aborted) {
        let n: number | null;
        try {
          n = await file.read(buffer);
        } catch (error) {
          throw fsError(error, { action: "follow the session log", path });
        }
        if (n === null) break;
        const batch: SessionLogEvent[] = [];
        parser.push(buffer.subarray(0, n), batch);
        for (const event of batch) {
          yield event;
          if (event.type === "zig_session_ended") return;
        }
      }
      // Wait for a change, the poll, or the signal.
      const pollMs = watcher ? options.pollMs ?? 1000 : options.pollMs ?? 250;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waits: Promise<"poll" | "change">[] = [
        new Promise((resolve) => {
          wake = () => resolve("poll");
          timer = setTimeout(wake, pollMs);
        }),
      ];
      if (nextChange) waits.push(nextChange);
      const winner = await Promise.race(waits);
      clearTimeout(timer);
      if (winner === "change") nextChange = awaitChange();
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    watcher?.close();
    file.close();
  }
}
