// Opens a coordinated session and prints its log path; then, by mode, waits
// for a signal ("wait"), returns without finishing ("return"), or throws an
// uncaught error from a timer ("throw") or a rejected promise ("reject").
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
if (mode === "throw") {
  setTimeout(() => {
    throw new Error("the workflow crashed");
  }, 10);
}
if (mode === "reject") {
  await Promise.reject(new Error("the workflow crashed"));
}
