/**
 * Reading session logs: whole, or as a stream with bounded memory.
 *
 * A torn final line (no newline: a write cut short by a crash) and malformed
 * lines are reported to `onProblem` with their line numbers; every other event
 * is still returned. So is a line holding bytes that are not UTF-8 (read as
 * U+FFFD), reported as `invalid_utf8`: zig cannot read such a log.
 *
 * @module
 */
import { LineParser, LineSplitter } from "./_line_parser.ts";
import { readChunks } from "./_log_lines.ts";
import type { ProblemHandler, SessionLogEvent } from "./types.ts";

/** Options of the readers. */
export interface ReadOptions {
  /**
   * Told about torn and malformed lines, and lines that are not UTF-8.
   * Default: a warning on stderr.
   */
  onProblem?: ProblemHandler;
  /** Stops reading when aborted. */
  signal?: AbortSignal;
}

/** One complete line of a log, as stored. */
export interface SessionLogLine {
  /** Line number, from 1. */
  line: number;
  /** The line's text, without its newline. */
  text: string;
}

async function* eventBatches(
  path: string,
  options: ReadOptions & { fromText?: boolean },
): AsyncGenerator<SessionLogEvent[]> {
  const parser = new LineParser(path, options.onProblem, {
    fromText: options.fromText,
  });
  for await (const bytes of readChunks(path, options)) {
    const batch: SessionLogEvent[] = [];
    parser.push(bytes, batch);
    if (batch.length > 0) yield batch;
  }
  parser.finish();
}

/**
 * Reads every event of a session log.
 *
 * @example Usage
 * ```ts
 * import { readSessionEvents } from "./session_reader.ts";
 *
 * const path = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(path, '{"seq":1,"ts":"2026-11-23T22:41:46+00:00","zig_session_id":"a","type":"heartbeat","interval_secs":10}\n{"seq":2,"ts');
 * const problems: string[] = [];
 * const events = await readSessionEvents(path, { onProblem: (p) => problems.push(p.kind) });
 * console.log(events.length, problems); // 1 [ "torn_line" ]
 * ```
 *
 * @param path The log file.
 * @param options Where to report bad lines.
 * @returns The events, in file order.
 * @throws {ZigError} when the file cannot be read.
 */
export async function readSessionEvents(
  path: string,
  options: ReadOptions = {},
): Promise<SessionLogEvent[]> {
  const events: SessionLogEvent[] = [];
  // Every event is kept: they may share their chunks' text.
  const all = { ...options, fromText: true };
  for await (const batch of eventBatches(path, all)) {
    for (const event of batch) events.push(event);
  }
  return events;
}

/**
 * Streams the events of a session log, holding two chunks (256 KiB each) and one
 * line at a time, whatever the file's size.
 *
 * @example Usage
 * ```ts
 * import { streamSessionEvents } from "./session_reader.ts";
 *
 * const path = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(path, '{"seq":1,"ts":"2026-11-23T22:41:46+00:00","zig_session_id":"a","type":"heartbeat","interval_secs":10}\n');
 * for await (const event of streamSessionEvents(path)) {
 *   console.log(event.seq, event.type); // 1 heartbeat
 * }
 * ```
 *
 * @param path The log file.
 * @param options Where to report bad lines, and a signal to stop.
 * @returns An async iterator of the events, in file order.
 */
export async function* streamSessionEvents(
  path: string,
  options: ReadOptions = {},
): AsyncGenerator<SessionLogEvent> {
  for await (const batch of eventBatches(path, options)) {
    for (const event of batch) yield event;
  }
}

/**
 * Streams the complete lines of a session log as stored, without parsing
 * them: for tools that print lines exactly as written or search raw text
 * before paying for a parse. A torn last line is reported, not yielded;
 * blank lines are yielded too (their numbers count).
 *
 * @example Usage
 * ```ts
 * import { streamSessionLines } from "./session_reader.ts";
 *
 * const path = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(path, '{"seq":1}\n{"seq":2}\n');
 * for await (const { line, text } of streamSessionLines(path)) {
 *   console.log(line, text); // 1 {"seq":1}, then 2 {"seq":2}
 * }
 * ```
 *
 * @param path The log file.
 * @param options Where to report a torn line, and a signal to stop.
 * @returns An async iterator of the lines.
 */
export async function* streamSessionLines(
  path: string,
  options: ReadOptions = {},
): AsyncGenerator<SessionLogLine> {
  const splitter = new LineSplitter(path, options.onProblem);
  for await (const bytes of readChunks(path, options)) {
    const batch: SessionLogLine[] = [];
    splitter.push(bytes, (text, line) => batch.push({ line, text }));
    for (const line of batch) yield line;
  }
  splitter.finish();
}
