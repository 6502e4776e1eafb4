import assert from "node:assert/strict";
import { readSessionEvents, SessionWriter } from "../../mod.ts";
import { appendLongEvent, tempDir } from "../_helpers.ts";
import { cliProcess, workspace } from "./_helpers.ts";

const MB = 1 << 20;
/** A heap far smaller than the line the test writes. */
const CAPPED_HEAP = { DENO_V8_FLAGS: "--max-old-space-size=32" };

Deno.test("record --session: appending after a last line far larger than the heap", async () => {
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
  // The end check and the appender's tail check read the last event: under
  // a 32 MB heap, without holding the 64 MB line (66 s, then out of memory,
  // before).
  const r = await cliProcess(
    ["record", "--session", w.sessionId, "--step", "after", "--", "true"],
    { ...opts, env: CAPPED_HEAP },
  );
  assert.equal(r.code, 0, r.stderr);
  const events = await readSessionEvents(w.logPath);
  assert.deepEqual(
    events.map((e) => e.seq),
    events.map((_, i) => i + 1),
    "seq goes on after the long line",
  );
  assert.ok(events.length > 2);
  assert.equal(events.at(-1)?.type, "step_completed");
});
