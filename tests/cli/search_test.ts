import assert from "node:assert/strict";
import { join } from "node:path";
import { sessionLogPath, SessionWriter } from "../../mod.ts";
import {
  appendLongEvent,
  copyFixtureHome,
  tempDir,
  testWriter,
} from "../_helpers.ts";
import {
  cliProcess,
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

const MB = 1 << 20;
/** A heap far smaller than the line the test writes. */
const CAPPED_HEAP = { DENO_V8_FLAGS: "--max-old-space-size=32" };

function session(root: string) {
  const ws = workspace(root);
  const w = SessionWriter.create({
    zigHome: ws.home,
    projectRoot: ws.repo,
    cwd: ws.repo, // not the test's own directory, whose name varies
    workflowName: "long-lines",
    workflowPath: "w.zwf",
    tierCount: 1,
  });
  w.close();
  return { ...ws, id: w.sessionId, log: w.logPath };
}

Deno.test("search: a line far larger than the heap is searched streaming", async () => {
  using tmp = tempDir();
  const s = session(tmp.path);
  appendLongEvent(s.log, {
    seq: 2,
    sessionId: s.id,
    head: "start ",
    fill: 128 * MB,
    tail: " the needle",
  });
  const capped = { ...s.opts, env: CAPPED_HEAP };
  const hit = await cliProcess(["search", "needle", "--session", s.id], capped);
  assert.equal(hit.code, 0, hit.stderr);
  // The long value is shown cut to its start.
  assert.match(
    hit.stdout,
    new RegExp(
      `^${
        s.id.slice(0, 8)
      } #2 \\[s\\] start x+… \\[\\d+ more characters: --json prints the event whole\\]\\n$`,
    ),
  );
  const miss = await cliProcess(
    ["search", "absent", "--session", s.id],
    capped,
  );
  assert.equal(miss.code, 1, miss.stderr);
  assert.match(miss.stderr, /No matches/);
  // The control: printing the event whole does not fit the cap.
  const whole = await cliProcess(["events", s.id, "--json"], capped);
  assert.notEqual(whole.code, 0, "the 128 MB line fit the cap: proves nothing");
});

Deno.test("search: long lines match as short ones do, across the windows they are read in", async () => {
  using tmp = tempDir();
  const s = session(tmp.path);
  // Needles across every 1 MiB chunk boundary of the file, and at both ends.
  const bytes = () => Deno.statSync(s.log).size;
  const prefix = bytes() +
    `{"seq":2,"ts":"2026-11-23T22:41:46+00:00","zig_session_id":"${s.id}","type":"step_output","step_name":"s","stream":"stdout","line":"`
      .length;
  let head = 'abc say "hi"\n';
  const marks: string[] = [];
  for (let k = 1; k <= 4; k++) {
    const at = k * MB - prefix - 5; // the mark straddles offset k MiB
    const length = JSON.stringify(head).length - 2;
    head += "x".repeat(at - length) + `MARK${k}MARK`;
    marks.push(`MARK${k}MARK`);
  }
  appendLongEvent(s.log, {
    seq: 2,
    sessionId: s.id,
    ts: "2026-11-23T22:41:46+00:00",
    head,
    fill: 100,
    tail: "yz",
  });
  // And a value of only "x" between its first and last characters.
  appendLongEvent(s.log, {
    seq: 3,
    sessionId: s.id,
    head: "a",
    fill: 3 * MB,
    tail: "yz",
  });
  assert.ok(bytes() > 7 * MB);
  const search = (...args: string[]) =>
    runCli(["search", ...args, "--session", s.id, "--json"], s.opts);
  const stored = Deno.readTextFileSync(s.log).split("\n");
  for (
    const [args, lines] of [
      ...marks.map((m) => [[m], [1]] as const),
      [['say "hi"'], [1]],
      [["ABC", "-i"], [1]],
      [["stdout"], [1, 2]],
      [["^abc", "--regex"], [1]],
      [["yz$", "--regex"], [1, 2]],
      [["MARK4MARKx+yz$", "--regex"], [1]],
      [["abc", "--type", "step_output"], [1]],
    ] as const
  ) {
    const r = await search(...args);
    assert.equal(r.code, 0, `${args}: ${r.stderr}`);
    assert.equal(
      r.stdout,
      lines.map((i) => stored[i] + "\n").join(""),
      `${args}: the lines as stored`,
    );
  }
  for (
    const args of [
      ["^x", "--regex"], // not at the start of the value, wherever a window starts
      ["x$", "--regex"], // nor at its end, wherever a window ends
      ["\\bMARK2", "--regex"], // "xMARK2": no word boundary
      ["step_output"], // the envelope
      ["stream"], // a key
      ["abc", "--type", "heartbeat"],
    ]
  ) {
    const r = await search(...args);
    assert.equal(r.code, 1, `${args} matched: ${r.stdout.slice(0, 200)}`);
  }
});

Deno.test("cli search: values not keys, streamed with session and seq; regex, type, JSON", async () => {
  using tmp = tempDir();
  const home = copyFixtureHome(tmp.path);
  const opts = { home, cwd: tmp.path };
  const found = await runCli(["search", '"quoted" \\', "--global"], opts);
  assert.equal(found.code, 0, found.stderr);
  assert.deepEqual(
    found.stdout.trim().split("\n").map((l) =>
      l.split(" ").slice(0, 2).join(" ")
    ).sort(),
    ["94dc5b48 #4", "b5ac6738 #4"],
  );
  const keys = await runCli(["search", "step_name", "--global"], opts);
  assert.equal(keys.code, 1, "keys do not match");
  assert.match(keys.stderr, /No matches/);
  const regex = await runCli([
    "search",
    "^spawn failed",
    "--regex",
    "--global",
    "--json",
  ], opts);
  assert.deepEqual(
    regex.stdout.trim().split("\n").map((l) => JSON.parse(l).seq),
    [4],
  );
  // Values hold what the line escapes: a tab, a control character, quotes, a backslash.
  for (
    const pattern of ["hello\tworld \\u0001", '"quoted" \\\\ back', "w.rld"]
  ) {
    const hit = await runCli([
      "search",
      pattern,
      "--regex",
      "--session",
      "94dc",
      "--global",
      "--json",
    ], opts);
    assert.equal(hit.code, 0, `${pattern}: ${hit.stderr}`);
    assert.deepEqual(
      hit.stdout.trim().split("\n").map((l) => JSON.parse(l).seq),
      [4],
      pattern,
    );
  }
  const typed = await runCli([
    "search",
    "plan",
    "--type",
    "tier_started",
    "--global",
    "--json",
  ], opts);
  assert.equal(typed.stdout.trim().split("\n").length, 2);
  const caseless = await runCli([
    "search",
    "WARN",
    "-i",
    "--session",
    "94dc",
    "--global",
  ], opts);
  assert.match(caseless.stdout, /^94dc5b48 #5 \[plan\] warn: 日本語 🚀$/m);
  const since = await runCli(
    ["search", "hello", "--global", "--since", "1h"],
    opts,
  );
  assert.equal(since.code, 1);
  assert.equal((await runCli(["search", "(", "--regex"], opts)).code, 2);
});
