// `zig-session search`: what a terminal is shown.
import assert from "node:assert/strict";
import { tempDir } from "../_helpers.ts";
import {
  controlsIn,
  HOSTILE,
  hostileSession,
  runCli,
  workspace,
} from "./_helpers.ts";

Deno.test("search: control characters in matches are shown visibly; --json keeps them", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  hostileSession(w);
  const human = await runCli(["search", "connection refused"], w.opts);
  assert.equal(human.code, 0, human.stderr);
  assert.deepEqual(controlsIn(human.stdout), [], human.stdout);
  assert.ok(
    human.stdout.includes(
      "[st\\x1b[8mep] \\x1b[H\\x1b[2Jconnection refused\\r",
    ),
    human.stdout,
  );
  const json = await runCli(["search", "connection refused", "--json"], w.opts);
  assert.equal(JSON.parse(json.stdout).line, HOSTILE.line);
});
