/**
 * The `zig-session` command line.
 *
 * @module
 */
import { readSessionEvents, SessionCoordinator, SessionWriter } from "./mod.ts";

async function demo(): Promise<void> {
  const home = Deno.makeTempDirSync({ prefix: "zig-session-demo-" });
  const writer = SessionWriter.create({
    zigHome: home,
    projectRoot: Deno.cwd(),
    workflowName: "demo",
    workflowPath: "demo.zwf",
    prompt: "show what a session looks like",
    tierCount: 1,
  });
  const session = SessionCoordinator.start(writer);
  writer.tierStarted(0, ["greet"]);
  writer.stepStarted({
    stepName: "greet",
    tierIndex: 0,
    zagSessionId: "demo-1",
    zagCommand: "echo hello",
    promptPreview: "say hello",
  });
  writer.stepOutput({ stepName: "greet", stream: "stdout", line: "hello" });
  writer.stepCompleted({ stepName: "greet", exitCode: 0, durationMs: 1 });
  session.finish("success");
  console.log(`zig home: ${home}`);
  console.log(`session:  ${writer.sessionId}`);
  for (const event of await readSessionEvents(writer.logPath)) {
    console.log(JSON.stringify(event));
  }
}

if (import.meta.main) {
  if (Deno.args[0] === "demo") await demo();
  else {
    console.error("Usage: zig-session demo");
    Deno.exit(2);
  }
}
