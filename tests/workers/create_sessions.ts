// Starts and ends N sessions in one project, printing each id.
import { SessionWriter } from "../../mod.ts";

const [home, projectRoot, count] = Deno.args;
for (let i = 0; i < Number(count); i++) {
  const writer = SessionWriter.create({
    zigHome: home,
    projectRoot,
    workflowName: `wf-${Deno.pid}`,
    workflowPath: "flow.zwf",
    tierCount: 1,
  });
  writer.tierStarted(0, ["a"]);
  writer.ended("success", 1);
  console.log(writer.sessionId);
}
