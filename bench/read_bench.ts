// Reading a 55 MB, 200k-event log: the reference takes 0.51 s with the whole
// file in memory.
import { readSessionEvents, streamSessionEvents } from "../mod.ts";
import { makeLog } from "./_data.ts";

const dir = Deno.makeTempDirSync({ prefix: "zig-bench-read-" });
const path = makeLog(dir, { count: 200_000, bytes: 275 });
const size = Deno.statSync(path).size;
console.error(`log: ${(size / 1e6).toFixed(1)} MB, 200000 events`);

Deno.bench(
  "stream all events (bounded memory)",
  { n: 10, warmup: 2 },
  async () => {
    let count = 0;
    for await (const _ of streamSessionEvents(path)) count++;
    if (count !== 200_000) throw new Error(`read ${count} events`);
  },
);

Deno.bench("read all events into an array", { n: 10, warmup: 2 }, async () => {
  const events = await readSessionEvents(path);
  if (events.length !== 200_000) {
    throw new Error(`read ${events.length} events`);
  }
});

globalThis.addEventListener(
  "unload",
  () => Deno.removeSync(dir, { recursive: true }),
);
