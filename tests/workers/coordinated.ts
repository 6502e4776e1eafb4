// Opens a coordinated session and prints its log path; then, by mode, waits
// for a signal ("wait") or returns without finishing ("return").
import { SessionCoordinator, SessionWriter } from "../../mod.ts";

const [home, mode] = Deno.args;
const writer = SessionWriter.create({
  zigHome: home,
  projectRoot: "/p",
  workflowName: "coordinated",
  workflowPath: "c.zwf",
  tierCount: 1,
});
SessionCoordinator.start(writer, { heartbeatMs: 50 });
writer.tierStarted(0, ["a"]);
console.log(writer.logPath);
if (mode === "wait") {
  await new Promise((r) => setTimeout(r, 30_000));
}
