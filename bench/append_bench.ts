// Appending step_output events: the reference takes 4.0 µs per event.
import { SessionWriter } from "../mod.ts";

const home = Deno.makeTempDirSync({ prefix: "zig-bench-append-" });
const writer = SessionWriter.create({
  zigHome: home,
  projectRoot: "/bench/project",
  workflowName: "bench",
  workflowPath: "bench.zwf",
  tierCount: 1,
});
const line = "x".repeat(100);

Deno.bench(
  "append 200k step_output events of 100 bytes",
  { n: 10, warmup: 2 },
  () => {
    for (let i = 0; i < 200_000; i++) {
      writer.stepOutput({ stepName: "plan", stream: "stdout", line });
    }
  },
);

Deno.bench("append one step_output event", () => {
  writer.stepOutput({ stepName: "plan", stream: "stdout", line });
});

Deno.bench("append one event through emit()", () => {
  writer.emit({
    type: "step_output",
    step_name: "plan",
    stream: "stdout",
    line,
  });
});

globalThis.addEventListener("unload", () => {
  writer.close();
  Deno.removeSync(home, { recursive: true });
});
