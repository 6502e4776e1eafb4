// `zig-session show`: what a terminal is shown.
import assert from "node:assert/strict";
import { tempDir } from "../_helpers.ts";
import {
  controlsIn,
  HOSTILE,
  hostileSession,
  runCli,
  workspace,
} from "./_helpers.ts";

Deno.test("show: control characters in every field are shown visibly; --json keeps them", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const writer = hostileSession(w);
  const human = await runCli(["show", writer.sessionId], w.opts);
  assert.equal(human.code, 0, human.stderr);
  assert.deepEqual(controlsIn(human.stdout), [], human.stdout);
  for (
    const shown of [
      "wf\\x1b]0;pwned\\x07",
      "(flows/\\x1b[1m.zwf)",
      "do it\n            now\\x1b[2J", // the prompt keeps its lines
      "st\\x1b[8mep",
      "m\\x9b31m",
      "bad\\x1b[5m",
      "skip\\x7f",
    ]
  ) {
    assert.ok(human.stdout.includes(shown), `${shown} in\n${human.stdout}`);
  }
  const json = JSON.parse(
    (await runCli(["show", writer.sessionId, "--json"], w.opts)).stdout,
  );
  assert.equal(json.entry.workflow_name, HOSTILE.workflow);
  assert.equal(json.summary.prompt, HOSTILE.prompt);
  assert.equal(json.summary.tiers[0].steps[0].error, HOSTILE.error);
});
