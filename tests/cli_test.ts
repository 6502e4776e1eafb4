// The CLI, run as a real subprocess with exactly the permissions the compile
// task bakes in (CLI_FLAGS of tests/cli/_helpers.ts).
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  globalIndexPath,
  loadGlobalIndex,
  loadProjectIndex,
  projectIndexPath,
  readSessionEvents,
  SessionWriter,
} from "../mod.ts";
import type { SessionLogEvent } from "../mod.ts";
import {
  CLI,
  CLI_FLAGS,
  cliCommand,
  cliProcess,
  CONFIG,
  ourStderr,
  workspace,
} from "./cli/_helpers.ts";
import type { CliResult } from "./cli/_helpers.ts";
import {
  copyFixtureHome,
  FIXTURE_HOME,
  lines,
  projectFile,
  readText,
  tempDir,
} from "./_helpers.ts";

const ESC = "\x1b";
const cli = cliProcess;

function idFrom(stderr: string): string {
  const m = /session ([0-9a-f-]{36})/.exec(stderr);
  assert.ok(m, `no session id in: ${stderr}`);
  return m[1];
}

async function eventsOf(
  project: string,
  id: string,
): Promise<SessionLogEvent[]> {
  return await readSessionEvents(
    join(project, "logs", "sessions", `${id}.jsonl`),
  );
}

// ---------------------------------------------------------------- usage

Deno.test("cli: help for the program and every command; usage errors exit 2 with a hint", async () => {
  using tmp = tempDir();
  const top = await cli(["--help"], { home: tmp.path });
  assert.equal(top.code, 0);
  const commands = [
    "record",
    "start",
    "end",
    "list",
    "show",
    "events",
    "listen",
    "search",
    "stats",
    "wait",
    "gc",
    "reindex",
    "verify",
  ];
  for (const c of commands) {
    assert.match(top.stdout, new RegExp(`^  ${c} `, "m"));
  }
  const helps = await Promise.all(
    commands.map((c) => cli([c, "--help"], { home: tmp.path })),
  );
  helps.forEach((h, i) => {
    assert.equal(h.code, 0, commands[i]);
    assert.match(
      h.stdout,
      new RegExp(
        `^zig-session ${commands[i]}: .*\\n\\nUsage: zig-session ${
          commands[i]
        }`,
      ),
      commands[i],
    );
  });
  const cases: Array<[string[], RegExp]> = [
    [
      ["frobnicate"],
      /Unknown command "frobnicate"\nRun 'zig-session --help' for usage\n$/,
    ],
    [
      ["list", "--colour"],
      /Unknown option --colour\nRun 'zig-session list --help' for usage\n$/,
    ],
    [["record"], /Missing the command to record/],
    [
      ["record", "ls", "-la"],
      /Unknown option -l; if that option is the command's, put the command after --/,
    ],
    [["events"], /Missing the session id/],
    [
      ["list", "--limit", "ten"],
      /Invalid --limit "ten": expected a non-negative integer/,
    ],
    [["list", "--since", "yesterday"], /Invalid --since "yesterday"/],
    [["list", "--status", "done"], /Invalid --status "done"/],
    [["wait", "abc", "--timeout", "soon"], /Invalid --timeout "soon"/],
    [["end", "abc", "--status", "ok"], /Invalid --status "ok"/],
  ];
  const results = await Promise.all(
    cases.map(([args]) => cli(args, { home: tmp.path })),
  );
  results.forEach((r, i) => {
    assert.equal(r.code, 2, `${cases[i][0].join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, cases[i][1]);
    assert.doesNotMatch(r.stderr, /\bat .*\.ts:\d+/, "no stack trace");
  });
  const none = await cli([], { home: tmp.path });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /Usage: zig-session <command>/);
});

// ---------------------------------------------------------------- record

Deno.test("cli record: output lines by stream, a last line without newline, success", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const r = await cli([
    "record",
    "--workflow",
    "wf",
    "--step",
    "greet",
    "--model",
    "m1",
    "--prompt",
    "say hi",
    "--",
    "sh",
    "-c",
    "echo out; echo err >&2; printf 'no newline'",
  ], w.opts);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "out\nno newline", "output passes through");
  const id = idFrom(r.stderr);
  const events = await eventsOf(w.project, id);
  assert.deepEqual(events.map((e) => e.type), [
    "zig_session_started",
    "heartbeat", // at once, with the interval
    "tier_started",
    "step_started",
    ...Array(3).fill("step_output"),
    "step_completed",
    "zig_session_ended",
  ]);
  const started = events[3];
  assert.ok(started.type === "step_started");
  assert.equal(
    started.zag_command,
    `sh -c 'echo out; echo err >&2; printf '\\''no newline'\\'''`,
  );
  assert.equal(started.model, "m1");
  const outputs = events.filter((e) => e.type === "step_output").map((e) =>
    e.type === "step_output" && [e.stream, e.line]
  );
  assert.deepEqual(outputs.sort(), [
    ["stderr", "err"],
    ["stdout", "no newline"],
    ["stdout", "out"],
  ]);
  const end = events.at(-1)!;
  assert.ok(end.type === "zig_session_ended" && end.status === "success");
  const entry = loadProjectIndex(projectIndexPath(w.project)).sessions[0];
  assert.equal(entry.status, "success");
  assert.equal(entry.workflow_name, "wf");
});

Deno.test("cli record: exit codes of failure, a command that cannot start, and a signal", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const [fail, missing, killed] = await Promise.all([
    cli(["record", "--quiet", "--", "sh", "-c", "exit 3"], w.opts),
    cli(["record", "--quiet", "--", "no-such-command-zz"], w.opts),
    cli(["record", "--quiet", "--", "sh", "-c", "kill -9 $$"], w.opts),
  ]);
  assert.equal(fail.code, 3);
  assert.equal(missing.code, 127);
  assert.match(missing.stderr, /command not found: no-such-command-zz\n/);
  assert.equal(killed.code, 137);
  const expected: Array<[CliResult, number | null, RegExp]> = [
    [fail, 3, /exited with code 3/],
    [missing, null, /^spawn failed: /],
    [killed, null, /killed by SIGKILL/],
  ];
  for (const [r, code, error] of expected) {
    const events = await eventsOf(w.project, idFrom(r.stderr));
    const failed = events.find((e) => e.type === "step_failed");
    assert.ok(failed?.type === "step_failed");
    assert.equal(failed.exit_code, code);
    assert.match(failed.error, error);
    const end = events.at(-1)!;
    assert.ok(end.type === "zig_session_ended" && end.status === "failure");
  }
});

Deno.test("cli record: invalid UTF-8 becomes U+FFFD; a line over 1 MiB is split", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const r = await cli([
    "record",
    "--quiet",
    "--",
    "sh",
    "-c",
    "printf 'a\\377b\\n'; head -c 2500000 /dev/zero | tr '\\0' 'x'; printf '\\n'",
  ], w.opts);
  assert.equal(r.code, 0, r.stderr);
  const outputs = (await eventsOf(w.project, idFrom(r.stderr))).flatMap((e) =>
    e.type === "step_output" ? [e.line] : []
  );
  assert.equal(outputs[0], "a\ufffdb");
  const long = outputs.slice(1);
  assert.equal(long.length, 3);
  assert.ok(long.every((l) => new TextEncoder().encode(l).length <= 1 << 20));
  assert.equal(long.join(""), "x".repeat(2_500_000));
});

for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
  Deno.test(`cli record: ${signal} is forwarded to the command and the session ends as failure`, async () => {
    using tmp = tempDir();
    const w = workspace(tmp.path);
    const script = `trap "echo got-it; exit 7" ${
      signal.slice(3)
    }; echo ready; while :; do sleep 0.05; done`;
    const child = cliCommand(["record", "--", "sh", "-c", script], w.opts)
      .spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    const ready = await readText(reader, { marker: "ready" });
    child.kill(signal);
    const seen = await readText(reader, { seen: ready });
    const status = await child.status;
    const stderr = ourStderr(
      new TextDecoder().decode(await new Response(child.stderr).arrayBuffer()),
    );
    assert.equal(status.code, 7);
    assert.match(seen, /got-it/);
    const events = await eventsOf(w.project, idFrom(stderr));
    const failed = events.find((e) => e.type === "step_failed");
    assert.ok(failed?.type === "step_failed");
    assert.match(
      failed.error,
      new RegExp(`interrupted by ${signal}, exited with code 7`),
    );
    assert.ok(
      events.some((e) => e.type === "step_output" && e.line === "got-it"),
    );
    const end = events.at(-1)!;
    assert.ok(end.type === "zig_session_ended" && end.status === "failure");
  });
}

Deno.test("cli record: a second signal kills a command that ignores the first", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const child = cliCommand([
    "record",
    "--",
    "sh",
    "-c",
    'trap "echo ignored" TERM; echo ready; while :; do sleep 0.05; done',
  ], w.opts).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  await readText(reader, { marker: "ready" });
  child.kill("SIGTERM");
  await readText(reader, { marker: "ignored" });
  child.kill("SIGTERM");
  await readText(reader);
  const status = await child.status;
  const stderr = ourStderr(
    new TextDecoder().decode(await new Response(child.stderr).arrayBuffer()),
  );
  assert.equal(status.code, 137);
  const events = await eventsOf(w.project, idFrom(stderr));
  const failed = events.find((e) => e.type === "step_failed");
  assert.ok(failed?.type === "step_failed");
  assert.equal(failed.error, "killed by SIGKILL");
  assert.equal(events.at(-1)?.type, "zig_session_ended");
});

Deno.test("cli record: heartbeats while the command runs", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const r = await cli([
    "record",
    "--heartbeat",
    "100ms",
    "--quiet",
    "--",
    "sleep",
    "0.45",
  ], w.opts);
  assert.equal(r.code, 0, r.stderr);
  const events = await eventsOf(w.project, idFrom(r.stderr));
  const beats = events.filter((e) => e.type === "heartbeat");
  assert.ok(beats.length >= 2, `${beats.length} heartbeats`);
  const started = events.findIndex((e) => e.type === "step_started");
  const done = events.findIndex((e) => e.type === "step_completed");
  assert.ok(events.slice(started, done).some((e) => e.type === "heartbeat"));
});

Deno.test("cli start, record --session from parallel processes, end: one gapless session", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const started = await cli(
    ["start", "--workflow", "pipeline", "--tiers", "2"],
    w.opts,
  );
  assert.equal(started.code, 0, started.stderr);
  const id = started.stdout.trim();
  assert.match(id, /^[0-9a-f-]{36}$/);
  const steps = await Promise.all(
    ["a", "b", "c", "d"].map((step) =>
      cli([
        "record",
        "--session",
        id.slice(0, 8),
        "--step",
        step,
        "--tier",
        "1",
        "--quiet",
        "--",
        "sh",
        "-c",
        `for i in 1 2 3 4 5 6 7 8 9 10; do echo ${step}$i; done`,
      ], w.opts)
    ),
  );
  for (const s of steps) assert.equal(s.code, 0, s.stderr);
  const ended = await cli(
    ["end", id.slice(0, 8), "--status", "success"],
    w.opts,
  );
  assert.equal(ended.code, 0, ended.stderr);
  const events = await eventsOf(w.project, id);
  assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1));
  assert.equal(events.filter((e) => e.type === "step_output").length, 40);
  assert.equal(events.filter((e) => e.type === "step_completed").length, 4);
  assert.equal(events.at(-1)?.type, "zig_session_ended");
  assert.equal(
    loadGlobalIndex(globalIndexPath(w.home)).sessions[0].status,
    "success",
  );
  const again = await cli(["end", id], w.opts);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /has already ended \(success\)/);
  const late = await cli(["record", "--session", id, "--", "true"], w.opts);
  assert.equal(late.code, 1);
  assert.match(late.stderr, /has already ended/);
});

// ---------------------------------------------------------------- queries

Deno.test("cli list: newest first, filters, JSON, and abandoned sessions", async () => {
  using tmp = tempDir();
  const home = copyFixtureHome(tmp.path);
  const opts = { home, cwd: tmp.path };
  const all = await cli(["list", "--global"], opts);
  assert.equal(all.code, 0, all.stderr);
  const rows = all.stdout.trim().split("\n");
  assert.match(
    rows[0],
    /^ID\s+PROJECT\s+WORKFLOW\s+STATUS\s+STARTED \(UTC\)\s+DURATION$/,
  );
  const shop = "home-ada-src-shop";
  assert.deepEqual(rows.slice(1).map((r) => r.split(/\s+/).slice(0, 4)), [
    ["b5ac6738", "-", "wf-success", "success"],
    ["da3919fc", shop, "wf-dropped", "failure"],
    ["181f613a", shop, "wf-running", "abandoned"],
    ["20a9856f", shop, "wf-failure", "failure"],
    ["94dc5b48", shop, "wf-success", "success"],
  ]);
  assert.ok(!all.stdout.includes(ESC), "no colors when not a terminal");
  const json = JSON.parse(
    (await cli([
      "list",
      "--global",
      "--json",
      "--status",
      "failure",
      "--limit",
      "1",
    ], opts)).stdout,
  );
  assert.equal(json.length, 1);
  assert.equal(json[0].zig_session_id, "da3919fc-2ada-463f-ad9e-269f8a13dc8e");
  assert.equal(json[0].state, "failure");
  assert.equal(typeof json[0].duration_ms, "number");
  const byWorkflow = JSON.parse(
    (await cli(
      ["list", "--global", "--json", "--workflow", "wf-success"],
      opts,
    )).stdout,
  );
  assert.equal(byWorkflow.length, 2);
  const since = JSON.parse(
    (await cli(["list", "--global", "--json", "--since", "2026-11-24"], opts))
      .stdout,
  );
  assert.equal(since.length, 0);
  const recent = JSON.parse(
    (await cli(["list", "--global", "--json", "--since", "3650d"], opts))
      .stdout,
  );
  assert.equal(recent.length, 5);
  // Outside a repository, the project is the zig home itself.
  const local = await cli(["list", "--json"], opts);
  assert.deepEqual(
    JSON.parse(local.stdout).map((s: { workflow_name: string }) =>
      s.workflow_name
    ),
    ["wf-success"],
  );
});

Deno.test("cli list: colors on a terminal, none with NO_COLOR", async () => {
  using tmp = tempDir();
  const home = copyFixtureHome(tmp.path);
  const command = [Deno.execPath(), ...CLI_FLAGS, CLI, "list", "--global"].map((
    a,
  ) => `'${a}'`).join(" ");
  const run = async (env: Record<string, string>) => {
    const out = await new Deno.Command("script", {
      args: ["-qec", command, "/dev/null"],
      env: {
        ZIG_HOME: home,
        PATH: Deno.env.get("PATH") ?? "",
        TERM: "xterm",
        ...env,
      },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    return new TextDecoder().decode(out.stdout);
  };
  assert.ok((await run({})).includes(`${ESC}[32msuccess${ESC}[39m`));
  const plain = await run({ NO_COLOR: "1" });
  assert.match(plain, /wf-success/);
  assert.ok(!plain.includes(ESC));
});

Deno.test("cli show: summary and timeline of the reference's session; --json", async () => {
  using tmp = tempDir();
  const home = copyFixtureHome(tmp.path);
  const opts = { home, cwd: tmp.path };
  const text = await cli(["show", "94dc", "--global"], opts);
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
    (await cli(["show", "20a9", "--global", "--json"], opts)).stdout,
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
    (await cli(["show", "--latest", "--global", "--json"], opts)).stdout,
  );
  assert.equal(
    latest.entry.zig_session_id,
    "b5ac6738-480f-4faf-8c21-2c8136fd6eec",
  );
});

Deno.test("cli events: stored lines exactly with --json, and every filter", async () => {
  using tmp = tempDir();
  const home = copyFixtureHome(tmp.path);
  const opts = { home, cwd: tmp.path };
  const log = join(
    FIXTURE_HOME,
    "projects",
    "home-ada-src-shop",
    "logs",
    "sessions",
    "94dc5b48-4970-4ccd-be2d-613789b21c13.jsonl",
  );
  const raw = await cli(["events", "94dc5b48", "--global", "--json"], opts);
  assert.equal(raw.code, 0, raw.stderr);
  assert.equal(raw.stdout, Deno.readTextFileSync(log));
  const seqs = async (args: string[]) =>
    (await cli(["events", "94dc", "--global", "--json", ...args], opts)).stdout
      .trim().split("\n").filter((l) => l).map((l) => JSON.parse(l).seq);
  assert.deepEqual(await seqs(["--type", "step_output"]), [4, 5]);
  assert.deepEqual(
    await seqs(["--type", "step_output", "--type", "heartbeat"]),
    [4, 5, 10],
  );
  assert.deepEqual(await seqs(["--after-seq", "9"]), [10, 11, 12]);
  assert.deepEqual(await seqs(["--before-seq", "3"]), [1, 2]);
  assert.deepEqual(await seqs(["--last", "2"]), [11, 12]);
  const count = await cli([
    "events",
    "94dc",
    "--global",
    "--count",
    "--type",
    "step_completed",
  ], opts);
  assert.equal(count.stdout, "2\n");
  const text = await cli(["events", "94dc", "--global"], opts);
  assert.match(text.stdout, /^\[plan\] hello\tworld/m);
  assert.match(text.stdout, /^■ zig session ended \(Success\) in 0ms$/m);
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
  const ambiguous = await cli(["show", "abc"], w.opts);
  assert.equal(ambiguous.code, 1);
  assert.match(
    ambiguous.stderr,
    /Ambiguous session prefix "abc": it matches 2 sessions: abc1, abc2/,
  );
  const missing = await cli(["events", "zzz"], w.opts);
  assert.equal(missing.code, 1);
  assert.match(
    missing.stderr,
    /Session not found: no session id in any project starts with "zzz"/,
  );
  assert.doesNotMatch(missing.stderr + ambiguous.stderr, /\bat .*\.ts:\d+/);
});

Deno.test("cli: a missing permission names the flag to add", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--allow-env", "--allow-read", CLI, "start"],
    cwd: w.repo,
    env: { ZIG_HOME: w.home },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 1);
  assert.match(
    new TextDecoder().decode(out.stderr),
    new RegExp(
      `write access is not granted, run again with --allow-write=${w.home}`,
    ),
  );
});

// ---------------------------------------------------------------- live

Deno.test("cli listen: prints a live session's events as they come, exits at its end", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const id = (await cli(["start", "--workflow", "live"], w.opts)).stdout.trim();
  const listener = cliCommand(
    ["listen", id.slice(0, 8), "--timestamps"],
    w.opts,
  ).spawn();
  const reader = listener.stdout.pipeThrough(new TextDecoderStream())
    .getReader();
  let seen = await readText(reader, { marker: "▶ zig session started" });
  const rec = await cli([
    "record",
    "--session",
    id,
    "--step",
    "talk",
    "--quiet",
    "--",
    "sh",
    "-c",
    "echo hello live",
  ], w.opts);
  assert.equal(rec.code, 0, rec.stderr);
  seen = await readText(reader, { marker: "hello live", seen });
  await cli(["end", id], w.opts);
  seen = await readText(reader, { seen });
  assert.equal((await listener.status).code, 0);
  const stderr = await new Response(listener.stderr).text();
  assert.match(
    stderr,
    new RegExp(`^listening to session log: \\S+/${id}\\.jsonl\n`),
  );
  assert.match(
    seen,
    /^\d{4}-\d\d-\d\dT\S+ ▶ zig session started: live \(1 tier\)$/m,
  );
  assert.match(seen, /^\S+ \[talk\] hello live$/m);
  assert.match(seen, /^\S+ ■ zig session ended \(Success\) in \d+ms$/m);
});

Deno.test("cli listen: an ended session prints whole and exits; --json and --filter", async () => {
  using tmp = tempDir();
  const home = copyFixtureHome(tmp.path);
  const opts = { home, cwd: tmp.path };
  const r = await cli([
    "listen",
    "20a9",
    "--global",
    "--json",
    "--filter",
    "step_failed",
  ], opts);
  assert.equal(r.code, 0, r.stderr);
  const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(events.map((e) => [e.type, e.attempt]), [
    ["step_failed", 1],
    ["step_failed", 2],
  ]);
  const latest = await cli(["listen", "--global"], opts);
  assert.match(
    latest.stdout,
    /^▶ zig session started: wf-success \(2 tiers\)$/m,
  );
  assert.match(
    latest.stderr,
    /listening to session log: \S+\/b5ac6738-\S+\.jsonl/,
  );
});

Deno.test("cli listen --active and an abandoned session", async () => {
  using tmp = tempDir();
  const home = copyFixtureHome(tmp.path);
  const opts = { home, cwd: tmp.path };
  const none = await cli(["listen", "--active", "--global"], opts);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no session is running/);
  const abandoned = await cli(["listen", "181f", "--global"], opts);
  assert.equal(abandoned.code, 1);
  assert.ok(
    abandoned.stdout.includes(
      "\n  running step 'long' (zag exec, session=zag-4444)...\n",
    ),
    abandoned.stdout,
  );
  assert.match(abandoned.stderr, /was abandoned/);
});

// ---------------------------------------------------------------- search

Deno.test("cli search: values not keys, streamed with session and seq; regex, type, JSON", async () => {
  using tmp = tempDir();
  const home = copyFixtureHome(tmp.path);
  const opts = { home, cwd: tmp.path };
  const found = await cli(["search", '"quoted" \\', "--global"], opts);
  assert.equal(found.code, 0, found.stderr);
  assert.deepEqual(
    found.stdout.trim().split("\n").map((l) =>
      l.split(" ").slice(0, 2).join(" ")
    ).sort(),
    ["94dc5b48 #4", "b5ac6738 #4"],
  );
  const keys = await cli(["search", "step_name", "--global"], opts);
  assert.equal(keys.code, 1, "keys do not match");
  assert.match(keys.stderr, /No matches/);
  const regex = await cli([
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
    const hit = await cli([
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
  const typed = await cli([
    "search",
    "plan",
    "--type",
    "tier_started",
    "--global",
    "--json",
  ], opts);
  assert.equal(typed.stdout.trim().split("\n").length, 2);
  const caseless = await cli([
    "search",
    "WARN",
    "-i",
    "--session",
    "94dc",
    "--global",
  ], opts);
  assert.match(caseless.stdout, /^94dc5b48 #5 \[plan\] warn: 日本語 🚀$/m);
  const since = await cli(
    ["search", "hello", "--global", "--since", "1h"],
    opts,
  );
  assert.equal(since.code, 1);
  assert.equal((await cli(["search", "(", "--regex"], opts)).code, 2);
});

// ---------------------------------------------------------------- binary

const denort = Deno.env.get("DENORT_BIN");
if (!denort) {
  console.log(
    "cli_test: skipping the compiled-binary test: DENORT_BIN is not set (deno compile needs a denort runtime, which this machine cannot download)",
  );
}

Deno.test({
  name: "cli compiled with the compile task runs with its baked-in permissions",
  ignore: !denort,
  async fn() {
    using tmp = tempDir();
    const output = join(tmp.path, "zig-session");
    const task = JSON.parse(Deno.readTextFileSync(CONFIG)).tasks.compile
      .replace("--output zig-session", `--output ${output}`);
    const compile = await new Deno.Command("sh", {
      args: ["-c", task],
      cwd: projectFile("."),
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(compile.code, 0, new TextDecoder().decode(compile.stderr));
    const w = workspace(tmp.path);
    const run = (args: string[]) =>
      new Deno.Command(output, {
        args,
        cwd: w.repo,
        env: { ZIG_HOME: w.home, PATH: Deno.env.get("PATH") ?? "" },
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
    const rec = await run(["record", "--quiet", "--", "echo", "compiled"]);
    assert.equal(rec.code, 0, new TextDecoder().decode(rec.stderr));
    const listed = new TextDecoder().decode(
      (await run(["list", "--json"])).stdout,
    );
    assert.equal(JSON.parse(listed)[0].state, "success");
    assert.equal(lines(join(w.project, "logs", "index.json")).length > 0, true);
  },
});
