// Writes events until killed; prints the log path once the first is written.
import { SessionWriter } from "../../mod.ts";

const [home] = Deno.args;
const writer = SessionWriter.create({
  zigHome: home,
  projectRoot: "/src/shop",
  workflowName: "forever",
  workflowPath: "forever.zwf",
  tierCount: 1,
});
writer.tierStarted(0, ["loop"]);
console.log(writer.logPath);
let i = 0;
while (true) {
  writer.stepOutput({
    stepName: "loop",
    stream: "stdout",
    line: `line ${i++} ${"x".repeat(i % 300)}`,
  });
  if (i % 1000 === 0) await new Promise((r) => setTimeout(r, 0));
}
