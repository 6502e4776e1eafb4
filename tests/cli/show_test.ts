import assert from "node:assert/strict";
import { tempDir, testWriter } from "../_helpers.ts";
import { runCli, workspace } from "./_helpers.ts";

Deno.test("show ID --latest is a usage error, not a silent choice", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const writer = testWriter(w.home, { projectRoot: w.repo });
  writer.ended("success", 1);
  const id = writer.sessionId.slice(0, 4);
  const r = await runCli(["show", id, "--latest"], w.opts);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.equal(
    r.stderr,
    `zig-session: Give a session id or --latest, not both (got "${id}" and --latest)\nRun 'zig-session show --help' for usage\n`,
  );
  assert.equal((await runCli(["show", id], w.opts)).code, 0);
});
