import assert from "node:assert/strict";
import {
  parseTimestamp,
  SessionWriter,
  streamSessionEvents,
} from "../../mod.ts";
import { SummaryBuilder } from "../../lib/_cli/format.ts";
import {
  appendMessyLog,
  copyFixtureHome,
  tempDir,
  testWriter,
} from "../_helpers.ts";
import {
  controlsIn,
  HOSTILE,
  hostileSession,
  runCli,
  workspace,
} from "./_helpers.ts";
import { hostileHome } from "./_hostile.ts";
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

Deno.test("show refuses an index entry whose log_path or id leads out of the zig home, and prints none of its bytes", async () => {
  using tmp = tempDir();
  const h = hostileHome(tmp.path);
  for (const id of Object.values(h.ids)) {
    for (const args of [["show", id], ["show", id, "--json"]]) {
      const r = await runCli(args, h.opts);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /is not followed: /);
      assert.match(r.stderr, /run zig-session reindex/);
      assert.ok(!r.stderr.includes("SECRET"), r.stderr);
    }
  }
  const ok = await runCli(["show", h.realId, "--json"], h.opts);
  assert.equal(ok.code, 0, ok.stderr);
});

Deno.test("show: control characters in every field are shown visibly; --json keeps them", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const writer = hostileSession(w);
  const human = await runCli(["show", writer.sessionId], w.opts);
  assert.equal(human.code, 0, human.stderr);
  assert.deepEqual(controlsIn(human.stdout), [], human.stdout);
  for (
    const shown of [
      "wf\\x1b]0;pwned\\x07",
      "(flows/\\x1b[1m.zwf)",
      "do it\n            now\\x1b[2J", // the prompt keeps its lines
      "st\\x1b[8mep",
      "m\\x9b31m",
      "bad\\x1b[5m",
      "skip\\x7f",
    ]
  ) {
    assert.ok(human.stdout.includes(shown), `${shown} in\n${human.stdout}`);
  }
  const json = JSON.parse(
    (await runCli(["show", writer.sessionId, "--json"], w.opts)).stdout,
  );
  assert.equal(json.entry.workflow_name, HOSTILE.workflow);
  assert.equal(json.summary.prompt, HOSTILE.prompt);
  assert.equal(json.summary.tiers[0].steps[0].error, HOSTILE.error);
});

Deno.test("one duration everywhere: list, show, stats, events and listen tell the figure the end event records, started_at to end", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const recorded = [
    ["record", "--quiet", "--workflow", "dur", "--", "true"],
    ["record", "--quiet", "--workflow", "slow", "--", "sh", "-c", "sleep 0.05"],
  ];
  for (const args of recorded) {
    const r = await runCli(args, w.opts);
    assert.equal(r.code, 0, r.stderr);
  }
  const list = JSON.parse((await runCli(["list", "--json"], w.opts)).stdout);
  const listText = (await runCli(["list"], w.opts)).stdout;
  const stats = JSON.parse((await runCli(["stats", "--json"], w.opts)).stdout);
  assert.equal(list.length, 2);
  for (const listed of list) {
    const id = listed.zig_session_id;
    const events = (await runCli(["events", id, "--json"], w.opts)).stdout
      .trim().split("\n").map((line) => JSON.parse(line));
    const end = events.at(-1);
    assert.equal(end.type, "zig_session_ended");
    const ms = end.duration_ms;
    // The definition: from the index's started_at to the end (its ended_at,
    // the end event's ts).
    assert.equal(listed.ended_at, end.ts);
    assert.equal(
      ms,
      Math.floor(
        Number(
          (parseTimestamp(end.ts)! - parseTimestamp(listed.started_at)!) /
            1_000_000n,
        ),
      ),
    );
    assert.equal(listed.duration_ms, ms, "list --json");
    const show = JSON.parse(
      (await runCli(["show", id, "--json"], w.opts)).stdout,
    );
    assert.equal(show.duration_ms, ms, "show --json");
    const workflow = stats.workflows.find((
      s: { workflow: string },
    ) => s.workflow === listed.workflow_name);
    assert.equal(workflow.median_ms, ms, "stats --json");
    // The human forms: the same figure.
    const showText = (await runCli(["show", id], w.opts)).stdout;
    assert.match(showText, new RegExp(`^  duration  ${ms}ms$`, "m"));
    assert.match(
      listText,
      new RegExp(`^${id.slice(0, 8)} .* ${ms}ms$`, "m"),
      "list",
    );
    const ended = `■ zig session ended (Success) in ${ms}ms`;
    assert.ok(
      (await runCli(["events", id], w.opts)).stdout.includes(ended),
      "events",
    );
    assert.ok(
      (await runCli(["listen", id], w.opts)).stdout.includes(ended),
      "listen",
    );
    // Every step of the timeline starts within the session.
    for (const offset of showText.matchAll(/started \+(\d+)ms/g)) {
      assert.ok(Number(offset[1]) <= ms, `${offset[0]} after ${ms}ms`);
    }
  }
});

Deno.test("show: the same summary as folding every parsed event, zig's output lines counted without a parse", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const writer = testWriter(w.home, { projectRoot: w.repo });
  writer.close();
  const log = appendMessyLog(writer.logPath, {
    sessionId: writer.sessionId,
    count: 4000,
  });
  // The fold as it was: every event parsed.
  const builder = new SummaryBuilder();
  const problems: string[] = [];
  for await (
    const event of streamSessionEvents(writer.logPath, {
      onProblem: (p) => problems.push(p.message),
    })
  ) builder.add(event);
  const parse = JSON.parse;
  let calls = 0;
  JSON.parse = (...args: Parameters<typeof parse>) => {
    calls++;
    return parse(...args);
  };
  let r;
  try {
    r = await runCli(["show", writer.sessionId, "--json"], w.opts);
  } finally {
    JSON.parse = parse;
  }
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).summary, builder.summary);
  assert.ok(builder.summary.events > 3000);
  // Every bad line is told, as before.
  assert.deepEqual(
    r.stderr.trim().split("\n"),
    problems.map((p) => `zig-session: warning: ${p}`),
  );
  const outputs =
    log.lines.filter((l) =>
      l.includes('"type":"step_output"') && !l.includes("\\")
    ).length;
  assert.ok(outputs > 2000);
  // The other lines, and a few hundred for the state (the log's heartbeats).
  assert.ok(
    calls < log.lines.length - outputs + 300,
    `${calls} parses for ${log.lines.length} lines, ${outputs} of them zig's output lines`,
  );
});

Deno.test("cli show: summary and timeline of the reference's session; --json", async () => {
  using tmp = tempDir();
  const home = copyFixtureHome(tmp.path);
  const opts = { home, cwd: tmp.path };
  const text = await runCli(["show", "94dc", "--global"], opts);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^Session 94dc5b48-4970-4ccd-be2d-613789b21c13$/m);
  assert.match(
    text.stdout,
    /workflow\s+wf-success\s+\(\/work\/flows\/success\.zwf\)/,
  );
  assert.match(
    text.stdout,
    /prompt\s+review the "auth" module\n\s+then summarize/,
  );
  assert.match(text.stdout, /status\s+success/);
  assert.match(
    text.stdout,
    /tier 0 .* plan, lint\n\s+plan\s+completed\s+exit 0\s+1\.2s\s+1 attempt/,
  );
  assert.match(text.stdout, /lint\s+skipped\s+condition `x == 1` was false/);
  const json = JSON.parse(
    (await runCli(["show", "20a9", "--global", "--json"], opts)).stdout,
  );
  assert.equal(json.entry.workflow_name, "wf-failure");
  assert.equal(json.state, "failure");
  const build = json.summary.tiers[0].steps[0];
  assert.deepEqual([
    build.step_name,
    build.status,
    build.attempts,
    build.exit_code,
    build.error,
  ], ["build", "failed", 2, 137, "killed"]);
  const latest = JSON.parse(
    (await runCli(["show", "--latest", "--global", "--json"], opts)).stdout,
  );
  assert.equal(
    latest.entry.zig_session_id,
    "b5ac6738-480f-4faf-8c21-2c8136fd6eec",
  );
});

Deno.test("cli: not found and ambiguous prefixes exit 1 and name the candidates", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  for (const id of ["abc1", "abc2"]) {
    SessionWriter.create({
      zigHome: w.home,
      projectRoot: w.repo,
      workflowName: "w",
      workflowPath: "w",
      tierCount: 1,
      createId: () => id,
    }).close();
  }
  const ambiguous = await runCli(["show", "abc"], w.opts);
  assert.equal(ambiguous.code, 1);
  assert.match(
    ambiguous.stderr,
    /Ambiguous session prefix "abc": it matches 2 sessions: abc1, abc2/,
  );
  const missing = await runCli(["events", "zzz"], w.opts);
  assert.equal(missing.code, 1);
  assert.match(
    missing.stderr,
    /Session not found: no session id in any project starts with "zzz"/,
  );
  assert.doesNotMatch(missing.stderr + ambiguous.stderr, /\bat .*\.ts:\d+/);
});
