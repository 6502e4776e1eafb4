/**
 * Following a live session: events (or raw lines) as they are appended,
 * until it ends.
 *
 * @module
 */
import { fsError } from "./_fs.ts";
import { LineParser, LineSplitter } from "./_line_parser.ts";
import { fileChunks } from "./_log_lines.ts";
import type { SessionLogLine } from "./session_reader.ts";
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

/** Options of {@linkcode followSessionLines}. */
export interface FollowLinesOptions extends FollowOptions {
  /**
   * Lines numbered up to this one (from 1) are read but not yielded: where a
   * reader that already has them resumes. Default: 0, every line.
   */
  after?: number;
}

/**
 * Yields the bytes of a file as they are appended, until the consumer stops
 * or the signal aborts, through the readers' chunked read loop
 * (`fileChunks`). A chunk is valid until the next one is asked for.
 */
async function* followBytes(
  path: string,
  options: FollowOptions,
): AsyncGenerator<Uint8Array> {
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
  let wake: (() => void) | undefined;
  const onAbort = () => wake?.();
  signal?.addEventListener("abort", onAbort);
  // At the end of what is there: wait for a change, the poll, or the signal.
  const atEnd = async () => {
    if (signal?.aborted) return false;
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
    return !signal?.aborted;
  };
  try {
    // Read everything there is now (a long log: until the signal), then on.
    yield* fileChunks(file, {
      path,
      action: "follow the session log",
      chunkSize: CHUNK,
      signal,
      quiet: true,
      atEnd,
    });
  } finally {
    signal?.removeEventListener("abort", onAbort);
    watcher?.close();
    file.close();
  }
}

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
  const parser = new LineParser(path, options.onProblem);
  for await (const bytes of followBytes(path, options)) {
    const batch: SessionLogEvent[] = [];
    parser.push(bytes, batch);
    for (const event of batch) {
      yield event;
      if (event.type === "zig_session_ended") return;
    }
  }
}

/** Whether a raw line is the `zig_session_ended` event (text checked first). */
function isEndLine(text: string): boolean {
  if (!text.includes('"zig_session_ended"')) return false;
  try {
    return JSON.parse(text)?.type === "zig_session_ended";
  } catch {
    return false;
  }
}

/**
 * Yields the complete lines of a session log as stored, with their numbers
 * (from 1), first those already written, then each new one as soon as it is
 * appended, until the line that is the `zig_session_ended` event (or the
 * signal). Lines are not parsed, except those that may be the end event:
 * for servers that pass lines on exactly as written (an SSE `id:` is the
 * line number) and report malformed ones themselves. Blank lines are yielded
 * too (their numbers count); an unfinished last line is waited for. Like
 * {@linkcode followSessionEvents}, it wakes on file-change notifications.
 *
 * @example Resume after the lines already seen
 * ```ts
 * import { followSessionLines } from "./follow_session_events.ts";
 *
 * const path = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(path, '{"seq":1}\nnot json\n{"seq":3,"ts":"2026-11-23T22:41:46+00:00","zig_session_id":"a","type":"zig_session_ended","status":"success","duration_ms":5}\n');
 * for await (const { line, text } of followSessionLines(path, { after: 1 })) {
 *   console.log(line, text); // 2 not json, then 3 {"seq":3,...}, then the loop ends
 * }
 * ```
 *
 * @param path The log file.
 * @param options Lines to skip, a signal to stop, the poll interval.
 * @returns An async iterator of the lines.
 */
export async function* followSessionLines(
  path: string,
  options: FollowLinesOptions = {},
): AsyncGenerator<SessionLogLine> {
  const after = options.after ?? 0;
  const splitter = new LineSplitter(path, options.onProblem);
  for await (const bytes of followBytes(path, options)) {
    const batch: SessionLogLine[] = [];
    splitter.push(bytes, (text, line) => batch.push({ line, text }));
    for (const line of batch) {
      const ended = isEndLine(line.text);
      if (line.line > after) yield line;
      if (ended) return;
    }
  }
}
