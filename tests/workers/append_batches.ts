// Appends BATCHES batches of SIZE step_output events to an existing session
// from its own process; line "NAME B I" is event I of batch B.
import { SessionWriter } from "../../mod.ts";

const [home, logPath, name, batches, size] = Deno.args;
const writer = SessionWriter.attach({ zigHome: home, logPath });
for (let b = 0; b < Number(batches); b++) {
  writer.batch(() => {
    for (let i = 0; i < Number(size); i++) {
      writer.stepOutput({
        stepName: name,
        stream: "stdout",
        line: `${name} ${b} ${i}`,
      });
    }
  });
}
writer.close();
