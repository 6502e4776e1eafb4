import assert from "node:assert/strict";
import { join } from "node:path";
import { sessionLogPath, SessionWriter } from "../../mod.ts";
import { tempDir, testWriter } from "../_helpers.ts";
import {
  controlsIn,
  HOSTILE,
  hostileSession,
  indexWithoutLogs,
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

Deno.test('search: a hit in a field the line does not print is shown as field="value", so every hit shows why it matched', async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const writer = SessionWriter.create({
    zigHome: w.home,
    cwd: w.repo,
    workflowName: "pay",
    workflowPath: "flows/refund.zwf",
    prompt: "do the refund",
    tierCount: 1,
  });
  writer.tierStarted(0, ["plan"]);
  const preview = "x".repeat(300) + " refund " + "y".repeat(300);
  writer.stepStarted({
    stepName: "plan",
    tierIndex: 0,
    zagSessionId: "zag-4242",
    zagCommand: "exec",
    model: "sonnet",
    promptPreview: preview,
  });
  writer.stepOutput({ stepName: "plan", stream: "stdout", line: "no match" });
  writer.stepCompleted({
    stepName: "plan",
    exitCode: 0,
    durationMs: 5,
    savedVars: ["refund_plan"],
  });
  writer.ended("success");

  const r = await runCli(["search", "refund"], w.opts);
  assert.equal(r.code, 0, r.stderr);
  const hits = r.stdout.trimEnd().split("\n").filter((line) =>
    /^\S{8} #\d+ /.test(line)
  );
  assert.equal(hits.length, 3, r.stdout); // started, step started, completed
  for (const hit of hits) assert.match(hit, /refund/, hit);
  assert.match(hits[0], / workflow_path="flows\/refund\.zwf"$/);
  // A long value is cut around the match.
  assert.match(hits[1], / prompt_preview="…x+ refund y+…"$/);
  assert.ok(hits[1].length < 300, hits[1]);
  assert.match(hits[2], / saved_vars="refund_plan"$/);
  // A field the line shows is not repeated.
  assert.equal(r.stdout.match(/prompt=/g), null);

  const id = await runCli(["search", "zag-4242"], w.opts);
  assert.match(id.stdout, / zag_session_id="zag-4242"\n$/);
  // --json is unchanged: the events as stored.
  const json = await runCli(["search", "zag-4242", "--json"], w.opts);
  assert.equal(JSON.parse(json.stdout).zag_session_id, "zag-4242");
});

Deno.test("search --global over thousands of indexed sessions whose logs are gone: a few warnings and the fix, not one per session", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  indexWithoutLogs(w, 3000);
  const writer = testWriter(w.home, { projectRoot: w.repo });
  writer.stepOutput({ stepName: "s", stream: "stdout", line: "needle" });
  writer.ended("success");
  const r = await runCli(["search", "needle", "--global"], w.opts);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\[s\] needle/);
  const warnings = r.stderr.trimEnd().split("\n");
  assert.ok(warnings.length <= 6, `${warnings.length} lines:\n${r.stderr}`);
  assert.match(
    warnings.at(-1)!,
    /3000 indexed session\(s\) have no log .*zig-session verify .*zig-session reindex/,
  );
});

Deno.test("search and stats never read a log that is a symbolic link out of the zig home, among few sessions or many", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const outside = join(tmp.path, "outside");
  Deno.mkdirSync(outside);
  const ids: string[] = [];
  // 40 sessions: the first lookups check each log, later ones read the
  // folder's listing once; the newest is looked up first, the oldest last.
  for (let i = 0; i < 40; i++) {
    const writer = testWriter(w.home, { projectRoot: w.repo });
    writer.stepOutput({ stepName: "s", stream: "stdout", line: "plain" });
    writer.ended("success");
    ids.push(writer.sessionId);
  }
  for (const id of [ids[0], ids[39]]) {
    const secret = join(outside, `${id}.jsonl`);
    const log = sessionLogPath(w.project, id);
    const lines = Deno.readTextFileSync(log).replace("plain", "SECRET");
    Deno.writeTextFileSync(secret, lines);
    Deno.removeSync(log);
    Deno.symlinkSync(secret, log);
  }
  const r = await runCli(["search", "SECRET"], w.opts);
  assert.equal(r.code, 1, r.stdout);
  assert.equal(r.stdout, "");
  assert.equal(r.stderr.match(/outside the zig home/g)?.length, 2, r.stderr);
  for (const id of [ids[0], ids[39]]) assert.ok(r.stderr.includes(id));
  const stats = await runCli(["stats", "--json"], w.opts);
  const [step] = JSON.parse(stats.stdout).steps;
  assert.equal(step, undefined, "no step_started at all here");
  assert.equal(stats.stderr.match(/outside the zig home/g)?.length, 2);
  // Every other log is read.
  const plain = await runCli(["search", "plain"], w.opts);
  assert.equal(plain.stdout.trimEnd().split("\n").length, 38);
});
