// `zig-session serve` under load, as a user runs it: a real server process
// with the executable's permission set. Not a `deno bench` file (its figures
// are percentiles, memory and CPU): run it with `deno task bench:serve`.
//
// Targets: append → SSE event delivered p50 ≤ 5 ms, p99 ≤ 50 ms (zig polls
// every 100 ms); 200 SSE clients on one live session, every event delivered
// to each; the list route with 10k sessions indexed ≤ 100 ms.
import { join } from "node:path";
import { SessionWriter } from "../mod.ts";
import { makeIndexes } from "./_data.ts";
import {
  BEARER,
  openSse,
  type ServeProcess,
  serveProcess,
  TOKEN,
} from "../tests/cli/_serve.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

function summary(samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  const f = (v: number) => `${v.toFixed(2)} ms`;
  return `p50 ${f(percentile(s, 0.5))}, p90 ${f(percentile(s, 0.9))}, p99 ${
    f(percentile(s, 0.99))
  }, max ${f(s[s.length - 1])} (${s.length} samples)`;
}

/** Resident memory (bytes) and CPU time used so far (ms) of a process. */
async function usage(pid: number): Promise<{ rss: number; cpuMs: number }> {
  // Through `cat`: Deno wants --allow-all to read /proc itself.
  const read = async (file: string) =>
    new TextDecoder().decode(
      (await new Deno.Command("cat", {
        args: [`/proc/${pid}/${file}`],
        stdout: "piped",
      }).output()).stdout,
    );
  const stat = await read("stat");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(await read("status"))?.[1]) *
    1024;
  return { rss, cpuMs: ticks * 10 }; // USER_HZ is 100 on Linux
}

function workspace(root: string, name: string) {
  const home = join(root, name, "zig");
  const repo = join(root, name, "repo");
  Deno.mkdirSync(join(repo, ".git"), { recursive: true });
  Deno.mkdirSync(home, { recursive: true });
  return { home, repo };
}

function newSession(where: { home: string; repo: string }): SessionWriter {
  const writer = SessionWriter.create({
    zigHome: where.home,
    projectRoot: where.repo,
    workflowName: "bench",
    workflowPath: "flows/bench.zwf",
    tierCount: 1,
  });
  writer.tierStarted(0, ["s"]);
  return writer;
}

async function latency(root: string): Promise<void> {
  const where = workspace(root, "latency");
  const writer = newSession(where);
  await using server = await serveProcess(["--token", TOKEN], {
    home: where.home,
    cwd: where.repo,
  });
  const sse = await openSse(
    `${server.url}/api/v1/sessions/${writer.sessionId}/events/stream`,
  );
  await sse.take(2); // the lines already there
  const samples: number[] = [];
  for (let i = 0; i < 1050; i++) {
    await sleep(2 + Math.random() * 3); // each append wakes an idle server
    const started = performance.now();
    writer.stepOutput({ stepName: "s", stream: "stdout", line: `line ${i}` });
    const event = await sse.next();
    const elapsed = performance.now() - started;
    if (!event?.data.includes(`"line ${i}"`)) {
      throw new Error(`Expected line ${i}, got ${event?.data}`);
    }
    if (i >= 50) samples.push(elapsed); // the first 50 warm up
  }
  writer.ended("success", 1);
  await sse.rest();
  console.log(`append → SSE event delivered: ${summary(samples)}`);
}

/**
 * An SSE client over a raw socket, calling `onId` with each event's id until
 * the stream ends. Cheaper per chunk than fetch: 200 of these in one process
 * measure the server, not the client (200 fetch streams here took 12 s to
 * read what the server had sent within 2.5 s, at 11% of a core).
 */
async function rawSse(
  url: string,
  options: { lastEventId: number; onId: (id: number) => void },
): Promise<void> {
  const { hostname, port, pathname } = new URL(url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  await conn.write(new TextEncoder().encode(
    `GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${TOKEN}\r\nAccept: text/event-stream\r\nLast-Event-ID: ${options.lastEventId}\r\n\r\n`,
  ));
  // One character per byte, so that chunk sizes are string lengths.
  const decoder = new TextDecoder("latin1");
  const buffer = new Uint8Array(1 << 18);
  let raw = ""; // received, not yet de-chunked
  let body = ""; // de-chunked, not yet split into events
  let headDone = false;
  let remaining = 0; // bytes left in the current chunk
  let ended = false;
  try {
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) return;
      raw += decoder.decode(buffer.subarray(0, n));
      while (true) {
        if (!headDone) {
          const end = raw.indexOf("\r\n\r\n");
          if (end < 0) break;
          raw = raw.slice(end + 4);
          headDone = true;
        }
        if (remaining > 0) {
          const take = Math.min(remaining, raw.length);
          body += raw.slice(0, take);
          raw = raw.slice(take);
          remaining -= take;
          if (remaining > 0) break;
        }
        const line = raw.indexOf("\r\n", raw.startsWith("\r\n") ? 2 : 0);
        if (line < 0) break;
        const size = parseInt(raw.slice(0, line).trim(), 16);
        raw = raw.slice(line + 2);
        if (size === 0) {
          ended = true;
          break;
        }
        remaining = size;
      }
      let end: number;
      while ((end = body.indexOf("\n\n")) >= 0) {
        const block = body.slice(0, end);
        body = body.slice(end + 2);
        const at = block.indexOf("id: ");
        if (at >= 0) {
          options.onId(parseInt(block.slice(at + 4), 10));
        }
      }
      if (ended) return;
    }
  } finally {
    conn.close();
  }
}

async function fanout(root: string): Promise<void> {
  const clients = 200;
  const events = 2000;
  const where = workspace(root, "fanout");
  const writer = newSession(where);
  await using server = await serveProcess(["--token", TOKEN], {
    home: where.home,
    cwd: where.repo,
  });
  const pid = server.child.pid;
  const url = `${server.url}/api/v1/sessions/${writer.sessionId}/events/stream`;
  const written: number[] = [];
  const delays: number[] = [];
  const counts = new Array(clients).fill(0);
  const received: Promise<void>[] = [];
  for (let c = 0; c < clients; c++) {
    let expected = 3; // after the two lines there are
    received.push(rawSse(url, {
      lastEventId: 2,
      onId: (id) => {
        if (id !== expected) {
          throw new Error(`Client ${c}: expected id ${expected}, got ${id}`);
        }
        expected++;
        counts[c]++;
        if (written[id] !== undefined) {
          delays.push(performance.now() - written[id]);
        }
      },
    }));
  }
  await sleep(1000);
  const before = await usage(pid);
  let peak = before.rss;
  const started = performance.now();
  // 2000 events at about 1000 per second, in bursts of 10.
  for (let i = 0; i < events; i++) {
    written[i + 3] = performance.now();
    writer.stepOutput({ stepName: "s", stream: "stdout", line: `event ${i}` });
    if (i % 10 === 9) {
      await sleep(10);
      if (i % 200 === 199) peak = Math.max(peak, (await usage(pid)).rss);
    }
  }
  const lastWrite = performance.now();
  writer.ended("success", 1);
  await Promise.all(received);
  const done = performance.now();
  const after = await usage(pid);
  peak = Math.max(peak, after.rss);
  const all = counts.every((c) => c === events + 1);
  const cpu = after.cpuMs - before.cpuMs;
  console.log(
    `${clients} SSE clients × ${events} events (about 1000 per second): ${
      all ? "every event delivered to each, in order" : `MISSING: ${counts}`
    }; the last client done ${
      (done - lastWrite).toFixed(0)
    } ms after the last write; server CPU ${cpu} ms over ${
      (done - started).toFixed(0)
    } ms (${
      (cpu / (done - started) * 100).toFixed(0)
    }% of one core); server RSS ${
      (before.rss / 1e6).toFixed(0)
    } MB with the clients connected, ${
      (peak / 1e6).toFixed(0)
    } MB peak; write → delivered ${summary(delays)}`,
  );
}

async function listRoute(root: string): Promise<void> {
  const where = workspace(root, "list");
  makeIndexes(where.home, { count: 10_000, projectRoot: "/bench/project" });
  await using server: ServeProcess = await serveProcess([
    "--token",
    TOKEN,
    "--global",
  ], { home: where.home, cwd: where.repo });
  const samples: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 22; i++) {
    const started = performance.now();
    const response = await fetch(`${server.url}/api/v1/sessions`, {
      headers: BEARER,
    });
    const body = await response.arrayBuffer();
    const elapsed = performance.now() - started;
    bytes = body.byteLength;
    if (i >= 2) samples.push(elapsed); // two warm-ups
  }
  console.log(
    `GET /api/v1/sessions, 10k sessions indexed (${
      (bytes / 1e6).toFixed(1)
    } MB of JSON): ${summary(samples)}`,
  );
}

if (import.meta.main) {
  const root = Deno.makeTempDirSync({ prefix: "zig-bench-serve-" });
  const only = Deno.args[0];
  try {
    if (!only || only === "latency") await latency(root);
    if (!only || only === "fanout") await fanout(root);
    if (!only || only === "list") await listRoute(root);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
}
