import assert from "node:assert/strict";
import { SessionWriter } from "../../mod.ts";
import { tempDir } from "../_helpers.ts";
import { runCli, workspace } from "./_helpers.ts";

Deno.test("verify: bytes that are not UTF-8 are reported with their line", async () => {
  using tmp = tempDir();
  const { home, repo, opts } = workspace(tmp.path);
  const w = SessionWriter.create({
    zigHome: home,
    projectRoot: repo,
    workflowName: "utf8",
    workflowPath: "w.zwf",
    tierCount: 1,
  });
  w.stepOutput({
    stepName: "s",
    stream: "stdout",
    line: "a real \ufffd, MARK",
  });
  w.ended("success", 1);
  const clean = await runCli(["verify"], opts);
  assert.equal(clean.code, 0, clean.stdout);
  // "MARK" becomes "M", 0xff, "RK": the same length, no longer UTF-8.
  const bytes = Deno.readFileSync(w.logPath);
  const text = new TextDecoder().decode(bytes);
  const at = new TextEncoder().encode(text.slice(0, text.indexOf("MARK")))
    .length;
  assert.equal(bytes[at + 1], "A".charCodeAt(0));
  bytes[at + 1] = 0xff;
  Deno.writeFileSync(w.logPath, bytes);
  const r = await runCli(["verify"], opts);
  assert.equal(r.code, 1, r.stdout);
  assert.match(
    r.stdout,
    /✗ .*\.jsonl: line 2: bytes that are not UTF-8 \(zig cannot read the log\)/,
  );
  assert.match(r.stdout, /1 problem\(s\) in 1 log\(s\)/);
});
