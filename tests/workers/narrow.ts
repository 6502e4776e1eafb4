// Records a session from the working directory with whatever permissions the
// process was given; prints "ok <id> <sessions listed>" or the error.
import {
  listSessions,
  SessionCoordinator,
  SessionWriter,
  ZigError,
} from "../../mod.ts";

try {
  const writer = SessionWriter.create({
    workflowName: "narrow",
    workflowPath: "narrow.zwf",
    tierCount: 1,
  });
  const session = SessionCoordinator.start(writer);
  writer.stepOutput({ stepName: "s", stream: "stdout", line: "hi" });
  session.finish("success");
  console.log(`ok ${writer.sessionId} ${listSessions().length}`);
} catch (error) {
  if (!(error instanceof ZigError)) throw error;
  console.log(`${error.kind}: ${error.message}`);
}
