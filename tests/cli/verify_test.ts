// `zig-session verify`.
import assert from "node:assert/strict";
import { SessionWriter } from "../../mod.ts";
import { tempDir } from "../_helpers.ts";
import { runCli, workspace } from "./_helpers.ts";

Deno.test("verify flags events written after the session's end", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const writer = SessionWriter.create({
    zigHome: w.home,
    projectRoot: w.repo,
    workflowName: "w",
    workflowPath: "w.zwf",
    tierCount: 1,
  });
  writer.stepOutput({ stepName: "s", stream: "stdout", line: "before" });
  writer.ended("success", 1);
  const clean = await runCli(["verify"], w.opts);
  assert.equal(clean.code, 0, clean.stdout);
  // What a writer that did not check for the end (an older version) left.
  const late = (seq: number) =>
    JSON.stringify({
      seq,
      ts: new Date().toISOString().replace("Z", "+00:00"),
      zig_session_id: writer.sessionId,
      type: "step_output",
      step_name: "s",
      stream: "stdout",
      line: "late",
    }) + "\n";
  Deno.writeTextFileSync(writer.logPath, late(4) + late(5), { append: true });
  const r = await runCli(["verify"], w.opts);
  assert.equal(r.code, 1, r.stdout);
  assert.match(
    r.stdout,
    /line 4: 2 event\(s\) written after the session ended at line 3/,
  );
});
