// Writes N step_output events of growing multi-byte lines, then closes.
import { SessionWriter } from "../../mod.ts";

const [home, count] = Deno.args;
const writer = SessionWriter.create({
  zigHome: home,
  projectRoot: "/p",
  workflowName: "w",
  workflowPath: "w",
  tierCount: 1,
});
for (let i = 0; i < Number(count); i++) {
  writer.stepOutput({
    stepName: "s",
    stream: "stdout",
    line: `line ${i} ${"é".repeat(i * 50)}`,
  });
}
writer.close();
