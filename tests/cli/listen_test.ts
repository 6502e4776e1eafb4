import assert from "node:assert/strict";
import { tempDir, testWriter } from "../_helpers.ts";
import { controlsIn, runCli, workspace } from "./_helpers.ts";
import { formatTimestamp, SessionWriter } from "../../mod.ts";

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

/** A clock `days` behind this machine's. */
function behind(days: number): () => string {
  return () =>
    formatTimestamp(BigInt(Date.now() - days * 86_400_000) * 1_000_000n);
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("listen: a writer whose clock is 2 days behind is followed to its end, never called abandoned", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const writer = SessionWriter.create({
    zigHome: w.home,
    cwd: w.repo,
    workflowName: "late-clock",
    workflowPath: "w",
    tierCount: 1,
    clock: behind(2),
  });
  // Both follow until the end: --active finds the session as running.
  const active = runCli(["listen", "--active", "--json"], w.opts);
  const listening = runCli(["listen", writer.sessionId, "--json"], w.opts);
  for (let i = 0; i < 20; i++) {
    writer.stepOutput({ stepName: "s", stream: "stdout", line: `line ${i}` });
    await pause(125); // 2.5 s in all: the abandon watchdog looks every second
  }
  writer.ended("success", 2500);
  const [byId, byActive] = await Promise.all([listening, active]);
  assert.equal(byId.code, 0, byId.stderr);
  const lines = byId.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.filter((e) => e.type === "step_output").length, 20);
  assert.equal(lines.at(-1).type, "zig_session_ended");
  assert.equal(byActive.code, 0, byActive.stderr);
  assert.match(byActive.stdout, /"line 19"/);
});

Deno.test("listen: control characters in events are shown visibly; --json keeps them", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const writer = SessionWriter.create({
    zigHome: w.home,
    cwd: w.repo,
    workflowName: "wf\x1b[31m",
    workflowPath: "w",
    prompt: "two\nlines \x1b]0;title\x07",
    tierCount: 1,
  });
  writer.stepOutput({
    stepName: "st\x1bep",
    stream: "stderr",
    line: "\x1b[2J\x1b[Hgone\u009b",
  });
  writer.emit({ type: "agent_thought", text: "\x7f\x1b[8m" });
  writer.ended("success", 1);
  const human = await runCli(["listen", writer.sessionId], w.opts);
  assert.equal(human.code, 0, human.stderr);
  assert.deepEqual(controlsIn(human.stdout), [], human.stdout);
  assert.match(human.stdout, /wf\\x1b\[31m/);
  assert.match(human.stdout, /prompt: two\n\s+lines \\x1b\]0;title\\x07/);
  assert.ok(
    human.stdout.includes("[st\\x1bep] \\x1b[2J\\x1b[Hgone\\x9b"),
    human.stdout,
  );
  // Kinds zig does not know are shown as JSON, whose escapes are visible.
  assert.ok(
    human.stdout.includes('agent_thought {"text":"\\x7f\\u001b[8m"}'),
    human.stdout,
  );
  const json = await runCli(["listen", writer.sessionId, "--json"], w.opts);
  const output = json.stdout.trim().split("\n").map((l) => JSON.parse(l))
    .find((e) => e.type === "step_output");
  assert.equal(output.line, "\x1b[2J\x1b[Hgone\u009b");
});
