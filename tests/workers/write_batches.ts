// Writes BATCHES batches of SIZE step_output events of multi-byte lines to a
// new session, then closes.
import { SessionWriter } from "../../mod.ts";

const [home, batches, size] = Deno.args;
const writer = SessionWriter.create({
  zigHome: home,
  projectRoot: "/p",
  workflowName: "w",
  workflowPath: "w",
  tierCount: 1,
});
for (let b = 0; b < Number(batches); b++) {
  writer.batch(() => {
    for (let i = 0; i < Number(size); i++) {
      writer.stepOutput({
        stepName: "s",
        stream: i % 2 === 0 ? "stdout" : "stderr",
        line: `batch ${b} line ${i} ${"é".repeat(b * 40 + i)}`,
      });
    }
  });
}
writer.close();
