// Shared helpers of the `serve` tests and benchmark: the server in process or
// as a real subprocess, and a Server-Sent Events reader.
import { startServer } from "../../lib/_serve/server.ts";
import type { RunningServer } from "../../lib/_serve/server.ts";
import { CLI, CLI_FLAGS, type CliOptions } from "./_helpers.ts";

/** The token the tests' servers use. */
export const TOKEN = "test-token-1234";

/** `Authorization` for the tests' token. */
export const BEARER = { authorization: `Bearer ${TOKEN}` };

/** A server in this process, on a free loopback port; shut down on dispose. */
export async function inProcessServer(
  options: {
    home: string;
    cwd: string;
    global?: boolean;
    keepAliveMs?: number;
  },
): Promise<RunningServer & AsyncDisposable> {
  const quiet = { write() {}, isTerminal: false, color: false };
  const server = await startServer({
    ctx: { zigHome: options.home, cwd: options.cwd, out: quiet, err: quiet },
    hostname: "127.0.0.1",
    port: 0,
    token: TOKEN,
    global: options.global ?? false,
    version: "test",
    keepAliveMs: options.keepAliveMs,
  });
  return Object.assign(server, {
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await server.finished;
    },
  });
}

/** A `zig-session serve` subprocess and where it listens. */
export interface ServeProcess extends AsyncDisposable {
  child: Deno.ChildProcess;
  url: string;
  /** What it printed to stderr so far (read on). */
  stderr(): Promise<string>;
}

/**
 * Starts `zig-session serve --port 0` as a real process with the
 * executable's permissions (and any more `deno run` flags, such as a heap
 * cap); resolves once it is ready (it printed the URL to open).
 */
export async function serveProcess(
  args: string[],
  options: CliOptions & { denoFlags?: string[] },
): Promise<ServeProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      ...CLI_FLAGS,
      ...(options.denoFlags ?? []),
      CLI,
      "serve",
      "--port",
      "0",
      ...args,
    ],
    cwd: options.cwd ?? options.home,
    env: {
      ZIG_HOME: options.home,
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      ...options.env,
    },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  let url: string | undefined;
  while (url === undefined) {
    const { value, done } = await reader.read();
    if (done) {
      await child.status;
      throw new Error(`serve exited before listening:\n${seen}`);
    }
    seen += value;
    if (/^Open /m.test(seen)) {
      url = /listening on (http:\/\/\S+)/.exec(seen)?.[1];
    }
  }
  let rest: Promise<string> | undefined;
  const stderr = () => {
    rest ??= (async () => {
      while (true) {
        const { value, done } = await reader.read();
        if (done) return seen;
        seen += value;
      }
    })();
    return rest;
  };
  return {
    child,
    url,
    stderr,
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGKILL");
      } catch { /* already exited */ }
      await child.status;
      await stderr();
      await child.stdout.cancel().catch(() => {});
    },
  };
}

/** One Server-Sent Event. */
export interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

/** Reads Server-Sent Events from a response body, as EventSource parses them. */
export class SseReader {
  #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";
  /** Comments seen (keep-alives). */
  comments: string[] = [];

  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.pipeThrough(new TextDecoderStream()).getReader();
  }

  #at = 0;

  /** The next event, or `undefined` when the stream ends. */
  async next(): Promise<SseEvent | undefined> {
    while (true) {
      const end = this.#buffer.indexOf("\n\n", this.#at);
      if (end !== -1) {
        const block = this.#buffer.slice(this.#at, end);
        this.#at = end + 2;
        const event: SseEvent = { event: "message", data: "" };
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) {
            this.comments.push(line.slice(1).trim());
            continue;
          }
          const colon = line.indexOf(":");
          const field = colon === -1 ? line : line.slice(0, colon);
          const value = colon === -1
            ? ""
            : line.slice(colon + 1).replace(/^ /, "");
          if (field === "data") data.push(value);
          else if (field === "event") event.event = value;
          else if (field === "id") event.id = value;
        }
        if (data.length === 0) continue; // comments only
        event.data = data.join("\n");
        return event;
      }
      const { value, done } = await this.#reader.read();
      if (done) return undefined;
      this.#buffer = this.#buffer.slice(this.#at) + value;
      this.#at = 0;
    }
  }

  /** The next `n` events; fails if the stream ends first. */
  async take(n: number): Promise<SseEvent[]> {
    const out: SseEvent[] = [];
    while (out.length < n) {
      const event = await this.next();
      if (!event) {
        throw new Error(
          `The stream ended after ${out.length} of ${n} events: ${
            JSON.stringify(out.map((e) => e.id))
          }`,
        );
      }
      out.push(event);
    }
    return out;
  }

  /** Every event until the stream ends. */
  async rest(): Promise<SseEvent[]> {
    const out: SseEvent[] = [];
    for (let e = await this.next(); e; e = await this.next()) out.push(e);
    return out;
  }

  /** Stops reading. */
  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }
}

/** Opens an SSE route with the token; fails unless it answers 200. */
export async function openSse(
  url: string,
  headers: Record<string, string> = {},
): Promise<SseReader> {
  const response = await fetch(url, {
    headers: { ...BEARER, accept: "text/event-stream", ...headers },
  });
  if (response.status !== 200) {
    throw new Error(
      `${url} answered ${response.status}: ${await response.text()}`,
    );
  }
  return new SseReader(response.body!);
}

/**
 * The body of an HTTP/1.1 response read from a raw socket: the head
 * skipped, chunked transfer coding undone.
 */
export function dechunk(
  raw: ReadableStream<Uint8Array>,
): ReadableStream<Uint8Array> {
  const reader = raw.getReader();
  let buffer = new Uint8Array(0);
  const more = async () => {
    const { value, done } = await reader.read();
    if (done) return false;
    const joined = new Uint8Array(buffer.length + value.length);
    joined.set(buffer);
    joined.set(value, buffer.length);
    buffer = joined;
    return true;
  };
  const find = (seq: number[], from = 0) => {
    outer: for (let i = from; i <= buffer.length - seq.length; i++) {
      for (let j = 0; j < seq.length; j++) {
        if (buffer[i + j] !== seq[j]) continue outer;
      }
      return i;
    }
    return -1;
  };
  let headDone = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!headDone) {
        let end;
        while ((end = find([13, 10, 13, 10])) === -1) {
          if (!(await more())) return controller.close();
        }
        buffer = buffer.slice(end + 4);
        headDone = true;
      }
      let lineEnd;
      while ((lineEnd = find([13, 10])) === -1) {
        if (!(await more())) return controller.close();
      }
      const size = parseInt(
        new TextDecoder().decode(buffer.subarray(0, lineEnd)),
        16,
      );
      if (size === 0) return controller.close();
      while (buffer.length < lineEnd + 2 + size + 2) {
        if (!(await more())) return controller.close();
      }
      controller.enqueue(buffer.slice(lineEnd + 2, lineEnd + 2 + size));
      buffer = buffer.slice(lineEnd + 2 + size + 2);
    },
    async cancel() {
      await reader.cancel().catch(() => {});
    },
  });
}
