// `zig-session events`: what a terminal is shown.
import assert from "node:assert/strict";
import { readSessionEvents } from "../../mod.ts";
import { lines, tempDir } from "../_helpers.ts";
import {
  controlsIn,
  HOSTILE,
  hostileSession,
  runCli,
  workspace,
} from "./_helpers.ts";

Deno.test("events: control characters in every field are shown visibly; --json keeps the stored bytes", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const writer = hostileSession(w);
  for (const extra of [[], ["--timestamps"]]) {
    const human = await runCli(["events", writer.sessionId, ...extra], w.opts);
    assert.equal(human.code, 0, human.stderr);
    assert.deepEqual(controlsIn(human.stdout), [], human.stdout);
    for (
      const shown of [
        "wf\\x1b]0;pwned\\x07",
        "[st\\x1b[8mep] \\x1b[H\\x1b[2Jconnection refused\\r",
        "(m\\x9b31m): cmd \\x1b[1m",
        "bad\\x1b[5m",
        "skip\\x7f",
      ]
    ) {
      assert.ok(human.stdout.includes(shown), `${shown} in\n${human.stdout}`);
    }
  }
  const json = await runCli(["events", writer.sessionId, "--json"], w.opts);
  assert.deepEqual(json.stdout.trim().split("\n"), lines(writer.logPath));
  const output = (await readSessionEvents(writer.logPath)).find((e) =>
    e.type === "step_output"
  );
  assert.ok(output?.type === "step_output" && output.line === HOSTILE.line);
});
