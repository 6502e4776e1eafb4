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

/** The session id `record` prints on stderr. */
function idFrom(stderr: string): string {
  const m = /session ([0-9a-f-]{36})/.exec(stderr);
  assert.ok(m, `no session id in: ${stderr}`);
  return m[1];
}

Deno.test("wait: success, failure, timeout and --any", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const ok = idFrom(
    (await runCli(["record", "--quiet", "--", "true"], w.opts)).stderr,
  );
  const bad = idFrom(
    (await runCli(["record", "--quiet", "--", "false"], w.opts)).stderr,
  );
  const open = (await runCli(["start"], w.opts)).stdout.trim();
  assert.equal((await runCli(["wait", ok], w.opts)).code, 0);
  assert.equal((await runCli(["wait", ok, bad], w.opts)).code, 1);
  const timeout = await runCli(["wait", open, "--timeout", "300ms"], w.opts);
  assert.equal(timeout.code, 124);
  assert.match(timeout.stderr, /timed out after 300ms/);
  const any = await runCli(
    ["wait", open, ok, "--any", "--timeout", "5s"],
    w.opts,
  );
  assert.equal(any.code, 0);
  assert.match(any.stdout, new RegExp(`^${ok} success$`, "m"));
  // An open session that ends while waiting.
  const waiter = runCli(["wait", open, "--timeout", "20s"], w.opts);
  await new Promise((r) => setTimeout(r, 300));
  await runCli(["end", open, "--status", "failure"], w.opts);
  assert.equal((await waiter).code, 1);
});
