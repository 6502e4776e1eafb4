// One cold process: appends N step_output events of BYTES bytes through
// stepOutput (flat strings, made before timing, as the reference does) and
// prints {"events","ns","ns_per_event"} like `zig-reference append`.
import { SessionWriter } from "../../mod.ts";

const n = Number(Deno.args[0] ?? 200_000);
const bytes = Number(Deno.args[1] ?? 100);
const lines: string[] = [];
for (let i = 0; i < n; i++) {
  let s = `line ${i} `;
  s += "x".repeat(Math.max(0, bytes - s.length));
  lines.push(s);
}
const writer = SessionWriter.create({
  workflowName: "bench",
  workflowPath: "/bench.zwf",
  tierCount: 1,
});
const start = performance.now();
for (const line of lines) {
  writer.stepOutput({ stepName: "s", stream: "stdout", line });
}
const ns = Math.round((performance.now() - start) * 1e6);
writer.ended("success", 0);
console.log(
  JSON.stringify({ events: n, ns, ns_per_event: Math.round(ns / n) }),
);
