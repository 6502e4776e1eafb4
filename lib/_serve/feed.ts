// Internal to `serve`: one follower per live log, shared by every stream of
// it. The feed keeps only a bounded ring of recent lines; a reader that falls
// behind the ring (a slow client, a late joiner) reads the file instead, so
// no client can make the server hold more than the ring plus its own chunk.
import { followSessionLines, streamSessionLines } from "../../mod.ts";
import { malformedMessage, parseEvent } from "./sessions.ts";

/** One line of a log, classified once for every reader. */
export interface FeedLine {
  /** Line number, from 1. */
  line: number;
  /** The line, trimmed (zig trims). */
  text: string;
  /** An event, a blank line (skipped by streams), or a malformed line. */
  kind: "event" | "blank" | "malformed";
  /** The event's type. */
  type?: string;
  /** Why the line is malformed. */
  problem?: string;
  /** The line as an SSE message, encoded once when first streamed. */
  sse?: Uint8Array;
}

/** Classifies a raw line. */
export function classify(
  path: string,
  raw: { line: number; text: string },
): FeedLine {
  const text = raw.text.trim();
  if (text === "") return { line: raw.line, text, kind: "blank" };
  const event = parseEvent(text);
  if (event === undefined) {
    return {
      line: raw.line,
      text,
      kind: "malformed",
      problem: malformedMessage({ path, line: raw.line }, text),
    };
  }
  return { line: raw.line, text, kind: "event", type: event.type as string };
}

const RING_LINES = 4096;
const RING_CHARS = 2 << 20;

/** Why a wait ended. */
export type Woken = "change" | "timeout" | "closing";

/** The live tail of one log, shared by its readers. */
export class LogFeed {
  readonly path: string;
  #ring: FeedLine[] = [];
  #ringChars = 0;
  #position = 0;
  #ended = false;
  #failure: Error | undefined;
  #waiters: Array<() => void> = [];
  #abort = new AbortController();
  refs = 0;

  constructor(path: string) {
    this.path = path;
    this.#run();
  }

  async #run(): Promise<void> {
    try {
      for await (
        const raw of followSessionLines(this.path, {
          signal: this.#abort.signal,
          onProblem: () => {}, // malformed lines are classified here
        })
      ) {
        this.#push(classify(this.path, raw));
      }
      if (!this.#abort.signal.aborted) this.#ended = true;
    } catch (error) {
      this.#failure = error as Error;
    }
    this.#notify();
  }

  #push(line: FeedLine): void {
    this.#ring.push(line);
    this.#ringChars += line.text.length;
    this.#position = line.line;
    if (this.#ring.length > RING_LINES || this.#ringChars > RING_CHARS) {
      // Drop to three quarters at once: amortized, not one shift per line.
      let drop = Math.max(0, this.#ring.length - ((RING_LINES * 3) >> 2));
      let chars = this.#ringChars;
      for (let i = 0; i < drop; i++) chars -= this.#ring[i].text.length;
      while (chars > RING_CHARS * 0.75 && drop < this.#ring.length - 1) {
        chars -= this.#ring[drop++].text.length;
      }
      this.#ring.splice(0, drop);
      this.#ringChars = chars;
    }
    this.#notifySoon();
  }

  #burst: ReturnType<typeof setTimeout> | undefined;
  #trailing = false;

  /**
   * Wakes the readers at the first line at once (latency), then once more
   * after the lines read with it are all in: the follower yields them one by
   * one, and waking 200 readers per line instead of per batch would cost 200
   * writes per line.
   */
  #notifySoon(): void {
    if (this.#burst === undefined) {
      this.#notify();
      this.#burst = setTimeout(() => {
        this.#burst = undefined;
        if (this.#trailing) {
          this.#trailing = false;
          this.#notify();
        }
      }, 0);
    } else {
      this.#trailing = true;
    }
  }

  #notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** The number of the last line read. */
  get position(): number {
    return this.#position;
  }

  /** Whether the end event was read: no line will follow `position`. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Why following failed, if it did. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** The first line the ring still holds. */
  get ringStart(): number {
    return this.#ring[0]?.line ?? this.#position + 1;
  }

  /**
   * The lines after line `after` that the ring holds, up to about
   * `maxChars`; `"behind"` when the ring no longer has line `after + 1`.
   */
  after(after: number, maxChars: number): FeedLine[] | "behind" {
    if (after >= this.#position) return [];
    const start = this.ringStart;
    if (after + 1 < start) return "behind";
    const out: FeedLine[] = [];
    let chars = 0;
    for (let i = after + 1 - start; i < this.#ring.length; i++) {
      out.push(this.#ring[i]);
      chars += this.#ring[i].text.length;
      if (chars >= maxChars) break;
    }
    return out;
  }

  /** Waits for a new line (or the end), at most `ms`, or until `closing`. */
  wait(ms: number, closing: AbortSignal): Promise<Woken> {
    if (closing.aborted) return Promise.resolve("closing");
    return new Promise((resolve) => {
      const done = (why: Woken) => {
        clearTimeout(timer);
        closing.removeEventListener("abort", onClose);
        resolve(why);
      };
      const onClose = () => done("closing");
      const timer = setTimeout(() => done("timeout"), ms);
      closing.addEventListener("abort", onClose);
      this.#waiters.push(() => done("change"));
    });
  }

  /** Stops following. */
  stop(): void {
    this.#abort.abort();
    clearTimeout(this.#burst);
  }
}

/** The feeds of every log being streamed, one per path. */
export class FeedHub {
  #feeds = new Map<string, LogFeed>();

  /** A feed of the log, started if needed; give it back with `release`. */
  acquire(path: string): LogFeed {
    let feed = this.#feeds.get(path);
    if (!feed) {
      feed = new LogFeed(path);
      this.#feeds.set(path, feed);
    }
    feed.refs++;
    return feed;
  }

  /** Stops the feed when its last reader is gone. */
  release(feed: LogFeed): void {
    if (--feed.refs > 0) return;
    feed.stop();
    if (this.#feeds.get(feed.path) === feed) this.#feeds.delete(feed.path);
  }

  /** How many logs are followed. */
  get size(): number {
    return this.#feeds.size;
  }

  /** Stops every feed. */
  close(): void {
    for (const feed of this.#feeds.values()) feed.stop();
    this.#feeds.clear();
  }
}

/**
 * One reader's place in a feed: the lines after `sent`, from the ring when
 * it has them, else read from the file (append-only: its first lines are
 * the ones the feed saw).
 */
export class LineCursor {
  readonly feed: LogFeed;
  sent: number;
  #catchup: AsyncIterator<{ line: number; text: string }> | undefined;

  constructor(feed: LogFeed, sent: number) {
    this.feed = feed;
    this.sent = sent;
  }

  /** The lines available now after `sent` (about `maxChars`); [] when none. */
  async take(maxChars: number): Promise<FeedLine[]> {
    const out: FeedLine[] = [];
    if (this.#catchup) {
      let chars = 0;
      while (chars < maxChars) {
        if (this.sent + 1 >= this.feed.ringStart) {
          this.close();
          break;
        }
        const next = await this.#catchup.next();
        if (next.done) {
          // The file has fewer lines than the feed read: it was rewritten
          // (repaired). Carry on from what the feed has.
          this.close();
          this.sent = Math.max(this.sent, this.feed.ringStart - 1);
          break;
        }
        if (next.value.line <= this.sent) continue;
        const line = classify(this.feed.path, next.value);
        out.push(line);
        this.sent = line.line;
        chars += line.text.length;
      }
      if (out.length > 0) return out;
    }
    const lines = this.feed.after(this.sent, maxChars);
    if (lines === "behind") {
      this.#catchup = streamSessionLines(this.feed.path, {
        onProblem: () => {}, // a torn tail is still being written
      })[Symbol.asyncIterator]();
      return this.take(maxChars);
    }
    if (lines.length > 0) this.sent = lines[lines.length - 1].line;
    return lines;
  }

  /** Whether every line up to the end event was taken. */
  get done(): boolean {
    return this.#catchup === undefined && this.feed.ended &&
      this.sent >= this.feed.position;
  }

  /** Lets go of the file reader, if any. */
  close(): void {
    const catchup = this.#catchup;
    this.#catchup = undefined;
    catchup?.return?.();
  }
}

/** Counts the complete lines of a file (its newlines). */
export async function countLines(path: string): Promise<number> {
  let count = 0;
  using file = await Deno.open(path, { read: true });
  const buffer = new Uint8Array(1 << 16); // one per resuming client: small
  while (true) {
    const n = await file.read(buffer);
    if (n === null) break;
    const chunk = buffer.subarray(0, n);
    for (
      let at = chunk.indexOf(10);
      at !== -1;
      at = chunk.indexOf(10, at + 1)
    ) {
      count++;
    }
  }
  return count;
}
