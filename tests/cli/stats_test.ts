// `zig-session stats`: what a terminal is shown.
import assert from "node:assert/strict";
import { tempDir } from "../_helpers.ts";
import {
  controlsIn,
  HOSTILE,
  hostileSession,
  runCli,
  workspace,
} from "./_helpers.ts";

Deno.test("stats: control characters in workflow and step names are shown visibly; --json keeps them", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  hostileSession(w);
  const human = await runCli(["stats"], w.opts);
  assert.equal(human.code, 0, human.stderr);
  assert.deepEqual(controlsIn(human.stdout), [], human.stdout);
  assert.match(human.stdout, /wf\\x1b\]0;pwned\\x07\s+st\\x1b\[8mep\s+1/);
  const json = JSON.parse((await runCli(["stats", "--json"], w.opts)).stdout);
  assert.equal(json.workflows[0].workflow, HOSTILE.workflow);
  assert.equal(json.steps[0].step, HOSTILE.step);
});
