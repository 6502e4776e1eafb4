import assert from "node:assert/strict";
import { SessionWriter } from "../../mod.ts";
import { appendLongEvent, tempDir } from "../_helpers.ts";
import { cliProcess, workspace } from "./_helpers.ts";

const MB = 1 << 20;

/** A heap far smaller than the line the test writes. */
const CAPPED_HEAP = { DENO_V8_FLAGS: "--max-old-space-size=32" };

Deno.test("list: a running session whose last line is far larger than the heap", async () => {
  using tmp = tempDir();
  const { home, repo, opts } = workspace(tmp.path);
  const w = SessionWriter.create({
    zigHome: home,
    projectRoot: repo,
    workflowName: "long-last-line",
    workflowPath: "w.zwf",
    tierCount: 1,
  });
  w.close();
  appendLongEvent(w.logPath, { seq: 2, sessionId: w.sessionId, fill: 64 * MB });
  // Under a 32 MB heap: finding the last event must neither hold the 64 MB
  // line nor join its chunks again and again (23 s, then out of memory,
  // before).
  const r = await cliProcess(["list", "--json"], { ...opts, env: CAPPED_HEAP });
  assert.equal(r.code, 0, r.stderr);
  const [session] = JSON.parse(r.stdout);
  assert.equal(session.zig_session_id, w.sessionId);
  assert.equal(session.state, "running");
});
