// One cold process: appends N step_output events of BYTES bytes through
// stepOutput (flat strings, made before timing, as the reference does) and
// prints {"events","ns","ns_per_event"} like `zig-reference append`. With a
// third argument BATCH, the events go through `writer.batch` BATCH at a time.
import { SessionWriter } from "../../mod.ts";

const n = Number(Deno.args[0] ?? 200_000);
const bytes = Number(Deno.args[1] ?? 100);
const batch = Number(Deno.args[2] ?? 0);
// Flat strings, as a decoder makes them: a string built with += is a rope,
// which V8 would flatten (copy) the first time it is read, in the timed loop.
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const lines: string[] = [];
for (let i = 0; i < n; i++) {
  let s = `line ${i} `;
  s += "x".repeat(Math.max(0, bytes - s.length));
  lines.push(decoder.decode(encoder.encode(s)));
}
const writer = SessionWriter.create({
  workflowName: "bench",
  workflowPath: "/bench.zwf",
  tierCount: 1,
});
const start = performance.now();
if (batch > 0) {
  for (let from = 0; from < n; from += batch) {
    const to = Math.min(n, from + batch);
    writer.batch(() => {
      for (let i = from; i < to; i++) {
        writer.stepOutput({ stepName: "s", stream: "stdout", line: lines[i] });
      }
    });
  }
} else {
  for (const line of lines) {
    writer.stepOutput({ stepName: "s", stream: "stdout", line });
  }
}
const ns = Math.round((performance.now() - start) * 1e6);
writer.ended("success", 0);
console.log(
  JSON.stringify({ events: n, ns, ns_per_event: Math.round(ns / n) }),
);
