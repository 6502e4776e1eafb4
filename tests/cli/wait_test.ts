import assert from "node:assert/strict";
import { tempDir, testWriter } from "../_helpers.ts";
import { runCli, workspace } from "./_helpers.ts";

/** A session of the workspace that started and ended at the given seconds. */
function ended(
  w: { home: string; repo: string },
  status: "success" | "failure",
  times: { start: number; end: number },
): string {
  const at = (s: number) =>
    `2026-11-20T10:00:${String(s).padStart(2, "0")}+00:00`;
  let now = at(times.start);
  const writer = testWriter(w.home, {
    projectRoot: w.repo,
    clock: () => now,
  });
  now = at(times.end);
  writer.ended(status, (times.end - times.start) * 1000);
  return writer.sessionId;
}

Deno.test("wait --any: the session that ended first decides, whatever the order", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  // The failure ended first though it started last.
  const ok = ended(w, "success", { start: 1, end: 9 });
  const bad = ended(w, "failure", { start: 2, end: 5 });
  for (const ids of [[ok, bad], [bad, ok]]) {
    const r = await runCli(["wait", ...ids, "--any"], w.opts);
    assert.equal(r.code, 1, ids.join(" "));
    assert.equal(r.stdout, `${bad} failure\n`);
  }
  // Now a success that ended before both.
  const early = ended(w, "success", { start: 0, end: 3 });
  for (const ids of [[bad, early], [early, bad], [ok, bad, early]]) {
    const r = await runCli(["wait", ...ids, "--any"], w.opts);
    assert.equal(r.code, 0, ids.join(" "));
    assert.equal(r.stdout, `${early} success\n`);
  }
});

Deno.test("wait --any: at the same instant a failure wins over a success", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const ok = ended(w, "success", { start: 1, end: 4 });
  const bad = ended(w, "failure", { start: 1, end: 4 });
  for (const ids of [[ok, bad], [bad, ok]]) {
    const r = await runCli(["wait", ...ids, "--any"], w.opts);
    assert.equal(r.code, 1, ids.join(" "));
    assert.equal(r.stdout, `${bad} failure\n`);
  }
});
