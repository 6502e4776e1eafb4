import assert from "node:assert/strict";
import { tempDir, testWriter } from "../_helpers.ts";
import {
  controlsIn,
  HOSTILE,
  hostileSession,
  runCli,
  workspace,
} from "./_helpers.ts";

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
