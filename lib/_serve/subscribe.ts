// Internal to `serve`: `/api/v1/subscribe`, every session of a scope live.
// One watcher per scope, shared by its subscribers: it polls the index's
// stat (cheap) to see sessions appear and change, re-reads the index only
// when it changed, and follows the logs of running sessions through the
// shared feeds. A subscriber that does not read is disconnected once it is
// a megabyte behind, so it cannot make the server's memory grow.
import { type Context, scopeOf } from "../_cli/common.ts";
import { countLines, LineCursor, type LogFeed } from "./feed.ts";
import {
  homeLogPath,
  type SessionItem,
  sessionItem,
  type SessionLister,
} from "./sessions.ts";
import {
  KEEP_ALIVE,
  problemOf,
  sseMessage,
  type StreamContext,
} from "./streams.ts";

const encoder = new TextEncoder();

/** How often the index's stat is checked. */
const INDEX_POLL_MS = 250;
/** How often running sessions' states are re-judged (running → abandoned). */
const STATE_MS = 2000;
/** What a subscriber may have queued before it is disconnected. */
const MAX_BEHIND = 1 << 20;

/** What a subscriber asked for. */
export interface SubscribeFilter {
  /** Event types to send; empty for all. */
  types: string[];
  /** Whether to send events at all (else only `session` changes). */
  events: boolean;
}

interface Subscriber {
  controller: ReadableStreamDefaultController<Uint8Array>;
  filter: SubscribeFilter;
  close(): void;
}

interface Known {
  signature: string;
  item: SessionItem;
  follow?: { feed: LogFeed; cursor: LineCursor };
}

function signature(item: SessionItem): string {
  return `${item.state}|${item.status}|${item.ended_at}`;
}

/** The live view of one scope (this project's sessions, or all). */
export class SessionWatch {
  readonly #ctx: Context;
  readonly #global: boolean;
  readonly #streams: StreamContext;
  readonly #lister: SessionLister;
  readonly #subscribers = new Set<Subscriber>();
  readonly #known = new Map<string, Known>();
  #running = false;
  #stop = new AbortController();
  #indexStamp = "";
  #timers: ReturnType<typeof setInterval>[] = [];

  constructor(
    ctx: Context,
    options: {
      global: boolean;
      streams: StreamContext;
      lister: SessionLister;
    },
  ) {
    this.#ctx = ctx;
    this.#global = options.global;
    this.#streams = options.streams;
    this.#lister = options.lister;
  }

  /** Subscribers now. */
  get size(): number {
    return this.#subscribers.size;
  }

  /** A new subscriber's SSE body. */
  subscribe(filter: SubscribeFilter): ReadableStream<Uint8Array> {
    let subscriber: Subscriber;
    const remove = () => {
      if (!this.#subscribers.delete(subscriber)) return;
      this.#streams.open.delete(subscriber);
      if (this.#subscribers.size === 0) this.#halt();
    };
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        subscriber = {
          controller,
          filter,
          close: () => {
            remove();
            try {
              controller.close();
            } catch { /* already closed */ }
          },
        };
        controller.enqueue(encoder.encode(": ok\n\n"));
        this.#subscribers.add(subscriber);
        this.#streams.open.add(subscriber);
        if (!this.#running) this.#start();
      },
      cancel: () => remove(),
    }, { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength });
  }

  #send(bytes: Uint8Array, wants: (s: Subscriber) => boolean): void {
    for (const subscriber of this.#subscribers) {
      if (!wants(subscriber)) continue;
      const { controller } = subscriber;
      if ((controller.desiredSize ?? 0) < -MAX_BEHIND) {
        // Too far behind: let it go (it reconnects and re-reads the list).
        this.#subscribers.delete(subscriber);
        this.#streams.open.delete(subscriber);
        try {
          controller.error(new Error("The subscriber fell too far behind"));
        } catch { /* already gone */ }
        continue;
      }
      try {
        controller.enqueue(bytes);
      } catch {
        this.#subscribers.delete(subscriber);
      }
    }
    if (this.#subscribers.size === 0 && this.#running) this.#halt();
  }

  #start(): void {
    this.#running = true;
    this.#stop = new AbortController();
    const stop = this.#stop.signal;
    // What there is now: known, not announced; running ones followed from
    // their current end.
    this.#indexStamp = this.#stamp();
    for (const item of this.#load()) {
      const known: Known = { signature: signature(item), item };
      this.#known.set(item.zig_session_id, known);
      if (item.state === "running") this.#follow(known, { fromEnd: true });
    }
    this.#timers.push(setInterval(() => {
      if (stop.aborted) return;
      const stamp = this.#stamp();
      if (stamp !== this.#indexStamp) {
        this.#indexStamp = stamp;
        this.#refresh();
      }
    }, INDEX_POLL_MS));
    this.#timers.push(setInterval(() => this.#rejudge(), STATE_MS));
    this.#timers.push(setInterval(() => {
      this.#send(KEEP_ALIVE, () => true);
    }, this.#streams.keepAliveMs));
  }

  #halt(): void {
    this.#running = false;
    this.#stop.abort();
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    for (const known of this.#known.values()) this.#unfollow(known);
    this.#known.clear();
  }

  /** Closes every subscriber (server shutdown). */
  close(): void {
    for (const subscriber of [...this.#subscribers]) subscriber.close();
    if (this.#running) this.#halt();
  }

  #stamp(): string {
    const { indexPath } = scopeOf(this.#ctx, this.#global);
    try {
      const info = Deno.statSync(indexPath);
      return `${info.ino}:${info.size}:${info.mtime?.getTime()}`;
    } catch {
      return "none";
    }
  }

  #load(): SessionItem[] {
    try {
      return this.#lister.items(this.#global);
    } catch {
      return []; // an unreadable index: the next change tells
    }
  }

  /** Re-reads the index: new sessions and changed states are announced. */
  #refresh(): void {
    if (!this.#running) return;
    for (const item of this.#load()) {
      const id = item.zig_session_id;
      const sig = signature(item);
      let known = this.#known.get(id);
      const isNew = known === undefined;
      if (known === undefined) {
        known = { signature: sig, item };
        this.#known.set(id, known);
      } else if (known.signature === sig) continue;
      known.signature = sig;
      known.item = item;
      this.#announce(item);
      if (item.state === "running" && !known.follow) {
        this.#follow(known, { fromEnd: !isNew });
      }
    }
  }

  /** Re-judges the sessions that have not ended (running → abandoned). */
  #rejudge(): void {
    if (!this.#running) return;
    const where = scopeOf(this.#ctx, this.#global);
    for (const known of this.#known.values()) {
      if (known.item.status) continue;
      const entry = known.item;
      let item: SessionItem;
      try {
        item = sessionItem(entry, {
          logPath: () => homeLogPath(entry, where),
        });
      } catch {
        continue;
      }
      const sig = signature(item);
      if (sig === known.signature) continue;
      known.signature = sig;
      known.item = item;
      this.#announce(item);
      if (item.state === "running" && !known.follow) {
        this.#follow(known, { fromEnd: true });
      }
    }
  }

  #announce(item: SessionItem): void {
    this.#send(
      encoder.encode(sseMessage(JSON.stringify(item), { event: "session" })),
      () => true,
    );
  }

  #follow(known: Known, options: { fromEnd: boolean }): void {
    const { item } = known;
    const logPath = homeLogPath(item, scopeOf(this.#ctx, this.#global));
    if (logPath === undefined) return; // outside the zig home: not read
    const streams = this.#streams;
    const feed = streams.feeds.acquire(logPath);
    const cursor = new LineCursor(feed, Number.MAX_SAFE_INTEGER);
    known.follow = { feed, cursor };
    const stop = this.#stop.signal;
    (async () => {
      cursor.sent = options.fromEnd ? await countLines(logPath) : 0;
      while (!stop.aborted && known.follow?.cursor === cursor) {
        const lines = await cursor.take(64 * 1024);
        for (const line of lines) {
          if (line.kind === "blank") continue;
          if (line.kind === "malformed") {
            const bytes = encoder.encode(sseMessage(
              JSON.stringify(problemOf(line, item.zig_session_id)),
              { event: "problem" },
            ));
            this.#send(bytes, (s) => s.filter.events);
            continue;
          }
          const type = line.type!;
          const bytes = encoder.encode(sseMessage(line.text));
          this.#send(
            bytes,
            (s) =>
              s.filter.events &&
              (s.filter.types.length === 0 || s.filter.types.includes(type)),
          );
        }
        if (lines.length > 0) continue;
        if (cursor.done || feed.failure) break;
        const woken = await feed.wait(streams.keepAliveMs, stop);
        if (woken === "closing") break;
      }
      if (known.follow?.cursor === cursor) {
        this.#unfollow(known);
        this.#rejudge(); // it ended: its state changed
      }
    })().catch(() => this.#unfollow(known));
  }

  #unfollow(known: Known): void {
    const follow = known.follow;
    if (!follow) return;
    known.follow = undefined;
    follow.cursor.close();
    this.#streams.feeds.release(follow.feed);
  }
}
