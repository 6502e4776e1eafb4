import assert from "node:assert/strict";
import { tempDir, testWriter } from "../_helpers.ts";
import { runCli, workspace } from "./_helpers.ts";

Deno.test("search --type of an unknown type: usage error, not 'no match'", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const writer = testWriter(w.home, { projectRoot: w.repo });
  writer.stepOutput({ stepName: "s", stream: "stdout", line: "hello" });
  writer.ended("success", 1);
  const r = await runCli(["search", "hello", "--type", "nonsense"], w.opts);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.match(
    r.stderr,
    /^zig-session: Unknown event type "nonsense": expected one of zig_session_started, .*, zig_session_ended\nRun 'zig-session search --help' for usage\n$/,
  );
  const hit = await runCli(
    ["search", "hello", "--type", "step_output"],
    w.opts,
  );
  assert.equal(hit.code, 0, hit.stderr);
});
