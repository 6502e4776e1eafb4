// Appends N step_output events to an existing session from its own process.
import { SessionWriter } from "../../mod.ts";

const [home, logPath, name, count] = Deno.args;
const writer = SessionWriter.attach({ zigHome: home, logPath });
for (let i = 0; i < Number(count); i++) {
  writer.stepOutput({ stepName: name, stream: "stdout", line: `${name} ${i}` });
}
writer.close();
