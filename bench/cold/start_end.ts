// One cold process: times one session start + end against the indexes
// already in the zig home, like `zig-reference index-bench` (which writes the
// indexes first, in its own process).
import { SessionWriter } from "../../mod.ts";

const start = performance.now();
const writer = SessionWriter.create({
  workflowName: "bench",
  workflowPath: "/bench.zwf",
  tierCount: 1,
});
writer.ended("success", 0);
const ns = Math.round((performance.now() - start) * 1e6);
console.log(JSON.stringify({ create_end_ns: ns }));
