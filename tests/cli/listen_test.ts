import assert from "node:assert/strict";
import { tempDir, testWriter } from "../_helpers.ts";
import { runCli, workspace } from "./_helpers.ts";

Deno.test("listen: an unknown --filter type and ID with --latest are usage errors", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const writer = testWriter(w.home, { projectRoot: w.repo });
  writer.ended("success", 1);
  const filter = await runCli(["listen", "--filter", "nonsense"], w.opts);
  assert.equal(filter.code, 2);
  assert.match(
    filter.stderr,
    /^zig-session: Unknown event type "nonsense": expected one of zig_session_started, .*, zig_session_ended\n/,
  );
  const both = await runCli(["listen", writer.sessionId, "--latest"], w.opts);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /Give a session id or --latest, not both/);
  assert.equal(filter.stdout + both.stdout, "");
});
