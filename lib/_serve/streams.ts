// Internal to `serve`: a session's lines as Server-Sent Events (`id:` the
// line number, `data:` the raw line, as zig serve sends them) and as
// WebSocket text frames. Both pull from the shared feed at the client's
// pace: a client that does not read is not written to, and the lines it has
// not taken stay in the file, not in memory.
import {
  type FeedHub,
  type FeedLine,
  LineCursor,
  type LogFeed,
} from "./feed.ts";

const encoder = new TextEncoder();

/** A keep-alive comment: proxies and browsers keep the stream open. */
export const KEEP_ALIVE: Uint8Array = encoder.encode(": keep-alive\n\n");

/** The SSE `data:` lines of a text (each line of it one `data:` field). */
function dataLines(text: string): string {
  return text.split(/\r\n|\r|\n/).map((l) => `data: ${l}\n`).join("");
}

/** An SSE message, optionally named and with an id. */
export function sseMessage(
  data: string,
  options: { event?: string; id?: number } = {},
): string {
  return (options.event ? `event: ${options.event}\n` : "") +
    (options.id !== undefined ? `id: ${options.id}\n` : "") +
    dataLines(data) + "\n";
}

/** A line's problem as the JSON streams send it in-band. */
export function problemOf(
  line: FeedLine,
  sessionId?: string,
): Record<string, unknown> {
  return {
    ...(sessionId ? { zig_session_id: sessionId } : {}),
    kind: "malformed_line",
    line: line.line,
    message: line.problem,
  };
}

/**
 * A line as SSE: an event is a default message with its line number as id;
 * a malformed line is a `problem` event (zig clients, which listen to
 * default messages only, do not see it), with the id so that a resume skips
 * it; a blank line sends nothing.
 */
function encodeLine(line: FeedLine): Uint8Array {
  if (line.sse) return line.sse;
  let text = "";
  if (line.kind === "event") text = sseMessage(line.text, { id: line.line });
  else if (line.kind === "malformed") {
    text = sseMessage(JSON.stringify(problemOf(line)), {
      event: "problem",
      id: line.line,
    });
  }
  return line.sse = encoder.encode(text);
}

function concat(chunks: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const c of chunks) size += c.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** What every stream of the server shares. */
export interface StreamContext {
  feeds: FeedHub;
  /** Aborted when the server shuts down: streams close. */
  closing: AbortSignal;
  /** Milliseconds between keep-alives. */
  keepAliveMs: number;
  /** Streams open now, to close them on shutdown. */
  open: Set<{ close(): void }>;
}

/** Characters taken from the feed per write. */
const BATCH = 64 * 1024;
/** Bytes a stream may queue before it waits for its client. */
const HIGH_WATER = 64 * 1024;

/**
 * The lines of a log after line `from` as an SSE body, live until the end
 * event (then the body ends).
 */
export function sseBody(
  logPath: string,
  options: { from: number; streams: StreamContext },
): ReadableStream<Uint8Array> {
  const { streams } = options;
  const feed = streams.feeds.acquire(logPath);
  const cursor = new LineCursor(feed, options.from);
  let controller: ReadableStreamDefaultController<Uint8Array>;
  let finished = false;
  const handle = { close: () => end(true) };
  function end(closeBody: boolean): void {
    if (finished) return;
    finished = true;
    streams.open.delete(handle);
    cursor.close();
    streams.feeds.release(feed);
    if (closeBody) {
      try {
        controller.close();
      } catch { /* already closed or errored */ }
    }
  }
  streams.open.add(handle);
  return new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      // Something at once, so that clients know the stream is open, and a
      // reconnection delay: after the end, EventSource comes back once, gets
      // 204 and stops.
      c.enqueue(encoder.encode(": ok\nretry: 1000\n\n"));
    },
    async pull(c) {
      try {
        while (!finished) {
          const lines = await cursor.take(BATCH);
          if (finished) return;
          if (lines.length > 0) {
            const bytes = concat(lines.map(encodeLine));
            if (bytes.length > 0) {
              c.enqueue(bytes);
              return;
            }
            continue;
          }
          if (cursor.done) return end(true);
          if (feed.failure) {
            c.enqueue(
              encoder.encode(sseMessage(
                JSON.stringify({
                  kind: "io_error",
                  line: null,
                  message: feed.failure.message,
                }),
                { event: "problem" },
              )),
            );
            return end(true);
          }
          const woken = await feed.wait(streams.keepAliveMs, streams.closing);
          if (woken === "closing") return end(true);
          if (woken === "timeout") {
            c.enqueue(KEEP_ALIVE);
            return;
          }
        }
      } catch (error) {
        if (!finished) {
          end(false);
          c.error(error);
        }
      }
    },
    cancel() {
      end(false);
    },
  }, { highWaterMark: HIGH_WATER, size: (chunk) => chunk.byteLength });
}

/** Bytes a WebSocket may buffer before the server waits for its client. */
const WS_HIGH_WATER = 1 << 20;

/**
 * Replays a log over a WebSocket from its first line, one text frame per
 * event line as stored, live until the end event, then closes (1000). A
 * malformed line is a frame `{"problem":{…}}`, not an event.
 */
export function websocketReplay(
  socket: WebSocket,
  options: { logPath: string; streams: StreamContext },
): void {
  const { streams } = options;
  let feed: LogFeed | undefined;
  let cursor: LineCursor | undefined;
  let finished = false;
  const handle = {
    close: () => {
      if (socket.readyState === WebSocket.OPEN) {
        socket.close(1001, "server shutting down");
      }
      end();
    },
  };
  function end(): void {
    if (finished) return;
    finished = true;
    streams.open.delete(handle);
    cursor?.close();
    if (feed) streams.feeds.release(feed);
  }
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  async function pump(): Promise<void> {
    feed = streams.feeds.acquire(options.logPath);
    cursor = new LineCursor(feed, 0);
    while (!finished && socket.readyState === WebSocket.OPEN) {
      const lines = await cursor.take(BATCH);
      if (finished || socket.readyState !== WebSocket.OPEN) break;
      for (const line of lines) {
        if (line.kind === "event") socket.send(line.text);
        else if (line.kind === "malformed") {
          socket.send(JSON.stringify({ problem: problemOf(line) }));
        }
      }
      // Backpressure: wait for the client to take what is buffered.
      while (
        !finished && socket.readyState === WebSocket.OPEN &&
        socket.bufferedAmount > WS_HIGH_WATER
      ) await sleep(10);
      if (lines.length > 0) continue;
      if (cursor.done) {
        socket.close(1000, "session ended");
        break;
      }
      if (feed.failure) {
        socket.close(1011, "cannot read the session log");
        break;
      }
      const woken = await feed.wait(streams.keepAliveMs, streams.closing);
      if (woken === "closing") break;
    }
    handle.close();
  }
  streams.open.add(handle);
  socket.addEventListener("open", () => {
    pump().catch(() => handle.close());
  });
  socket.addEventListener("close", () => end());
  socket.addEventListener("error", () => end());
}
