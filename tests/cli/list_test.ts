import assert from "node:assert/strict";
import {
  ageLog,
  appendLongEvent,
  copyFixtureHome,
  tempDir,
  testWriter,
  writeBulkLogs,
} from "../_helpers.ts";
import {
  CLI,
  CLI_FLAGS,
  cliCommand,
  cliProcess,
  controlsIn,
  ourStderr,
  runCli,
  workspace,
} from "./_helpers.ts";
import { join } from "node:path";
import {
  formatTimestamp,
  globalIndexPath,
  projectIndexPath,
  sessionLogPath,
  SessionWriter,
} from "../../mod.ts";
import { snapshot } from "./_hostile.ts";
import { indexBytesRead } from "../../lib/_index_tail.ts";
import { assertReferenceReads } from "../_reference.ts";

const ESC = "\x1b";
Deno.test("list --limit 0 prints no session; --limit 1 prints one", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  for (const name of ["first", "second"]) {
    testWriter(w.home, { projectRoot: w.repo, workflowName: name })
      .ended("success", 1);
  }
  const none = await runCli(["list", "--limit", "0"], w.opts);
  assert.deepEqual(none, { code: 0, stdout: "", stderr: "" });
  const noneJson = await runCli(["list", "--limit", "0", "--json"], w.opts);
  assert.deepEqual(JSON.parse(noneJson.stdout), []);
  const one = await runCli(["list", "--limit", "1", "--json"], w.opts);
  assert.equal(JSON.parse(one.stdout).length, 1);
});

Deno.test("list: a misused option says what is wrong, in our words", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const cases: Array<[string[], string]> = [
    [["list", "--limit"], "Missing the value of --limit"],
    [
      ["list", "--workflow", "--json"],
      'Missing the value of --workflow before "--json" (a value that starts with "-" is written --workflow=VALUE)',
    ],
    [["list", "--json=yes"], "Option --json takes no value"],
    [
      ["list", "extra"],
      'Unexpected argument "extra": zig-session list takes options only',
    ],
    [
      ["list", "--limit", "-1"],
      'Invalid --limit "-1": expected a non-negative integer',
    ],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(args, w.opts);
    assert.equal(r.code, 2, args.join(" "));
    assert.equal(
      r.stderr,
      `zig-session: ${message}\nRun 'zig-session list --help' for usage\n`,
    );
  }
});

Deno.test("list refuses an index that a symbolic link leads out of the zig home, and prints none of its bytes", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  SessionWriter.create({
    zigHome: w.home,
    cwd: w.repo,
    workflowName: "real",
    workflowPath: "real.zwf",
    tierCount: 1,
  }).ended("success", 1);
  const outside = join(tmp.path, "outside");
  Deno.mkdirSync(outside);
  // The global index, then the project's logs folder, lead outside.
  const secret = join(outside, "secret.json");
  Deno.writeTextFileSync(secret, "root:x:0:0:SECRET\n");
  Deno.removeSync(globalIndexPath(w.home));
  Deno.symlinkSync(secret, globalIndexPath(w.home));
  const logs = join(w.project, "logs");
  Deno.renameSync(logs, join(outside, "logs"));
  Deno.symlinkSync(join(outside, "logs"), logs);
  const before = snapshot(outside);
  for (const args of [["list", "--global"], ["list"], ["list", "--json"]]) {
    const r = await runCli(args, w.opts);
    assert.equal(r.code, 1, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
    assert.equal(r.stdout, "");
    assert.match(
      r.stderr,
      /^zig-session: Refusing ".*": it resolves to ".*outside.*", outside the zig home/,
    );
    assert.ok(!r.stderr.includes("SECRET"), r.stderr);
  }
  assert.deepEqual(snapshot(outside), before);
});

/** A clock `days` behind this machine's. */
function behind(days: number): () => string {
  return () =>
    formatTimestamp(BigInt(Date.now() - days * 86_400_000) * 1_000_000n);
}

function idFrom(stderr: string): string {
  const id = /session ([0-9a-f-]{36})/.exec(stderr)?.[1];
  assert.ok(id, stderr);
  return id;
}

Deno.test("list: a live writer whose clock is 2 days behind is running, not abandoned", async () => {
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
  writer.stepOutput({ stepName: "s", stream: "stdout", line: "still here" });
  const listed = await runCli(["list", "--json"], w.opts);
  assert.equal(listed.code, 0, listed.stderr);
  const [session] = JSON.parse(listed.stdout);
  assert.equal(session.state, "running");
  assert.ok(session.duration_ms >= 0, `duration ${session.duration_ms}`);
  const running = await runCli(["list", "--status", "running"], w.opts);
  assert.match(running.stdout, /late-clock\s+running/);
  writer.close();
});

Deno.test("list: the README's start … record --session … end recipe stays running through a 40 s gap", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const started = await runCli(["start", "--workflow", "release"], w.opts);
  assert.equal(started.code, 0, started.stderr);
  const id = started.stdout.trim();
  const step = await runCli(
    ["record", "--session", id, "--quiet", "--", "true"],
    w.opts,
  );
  assert.equal(step.code, 0, step.stderr);
  // Nothing written for 40 s: the gap between two steps of a script.
  ageLog(sessionLogPath(w.project, id), 40);
  const listed = JSON.parse((await runCli(["list", "--json"], w.opts)).stdout);
  assert.equal(listed[0].state, "running");
  const ended = await runCli(["end", id], w.opts);
  assert.equal(ended.code, 0, ended.stderr);
  const after = JSON.parse((await runCli(["list", "--json"], w.opts)).stdout);
  assert.equal(after[0].state, "success");
  // The idle allowance is a heartbeat zig reads like any other.
  const logPath = sessionLogPath(w.project, id);
  assert.ok((await assertReferenceReads(logPath)) !== 0);
});

Deno.test("list: start --idle-timeout sets how long a session without steps stays running", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const short = (await runCli(
    ["start", "--workflow", "short", "--idle-timeout", "30s"],
    w.opts,
  )).stdout.trim();
  const long = (await runCli(
    ["start", "--workflow", "long", "--idle-timeout", "2h"],
    w.opts,
  )).stdout.trim();
  for (const id of [short, long]) ageLog(sessionLogPath(w.project, id), 40);
  const states = Object.fromEntries(
    JSON.parse((await runCli(["list", "--json"], w.opts)).stdout).map((
      s: { workflow_name: string; state: string },
    ) => [s.workflow_name, s.state]),
  );
  assert.deepEqual(states, { short: "abandoned", long: "running" });
  const bad = await runCli(["start", "--idle-timeout", "0s"], w.opts);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--idle-timeout/);
});

Deno.test("list: an index entry whose status is not success or failure is judged from its log, never a negative duration", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const ended = idFrom(
    (await runCli(["record", "--quiet", "--", "true"], w.opts)).stderr,
  );
  const open = SessionWriter.create({
    zigHome: w.home,
    cwd: w.repo,
    workflowName: "open",
    workflowPath: "w",
    tierCount: 1,
  });
  const path = projectIndexPath(w.project);
  const index = JSON.parse(Deno.readTextFileSync(path));
  for (const entry of index.sessions) {
    entry.status = 5;
    entry.ended_at = "2020-01-01T00:00:00+00:00";
  }
  Deno.writeTextFileSync(path, JSON.stringify(index, null, 2));
  const listed = JSON.parse((await runCli(["list", "--json"], w.opts)).stdout);
  const byId = Object.fromEntries(
    listed.map((s: { zig_session_id: string }) => [s.zig_session_id, s]),
  );
  assert.equal(byId[ended].state, "success", "the log's end event decides");
  assert.ok(byId[ended].duration_ms >= 0, `${byId[ended].duration_ms}`);
  assert.equal(byId[open.sessionId].state, "running");
  assert.ok(byId[open.sessionId].duration_ms >= 0);
  assert.equal(byId[ended].status, 5, "--json keeps the entry as stored");
  const human = await runCli(["list"], w.opts);
  assert.doesNotMatch(human.stdout, /-\d+ms|\s5\s/);
  assert.match(human.stdout, /record\s+success/);
  open.close();
});

Deno.test("list: control characters in a workflow name are shown visibly; --json keeps them", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const name = "evil\x1b]0;owned\x07\x1b[2J\u009b31mname\r";
  const writer = SessionWriter.create({
    zigHome: w.home,
    cwd: w.repo,
    workflowName: name,
    workflowPath: "w",
    tierCount: 1,
  });
  writer.ended("success", 1);
  for (const terminal of [false, true]) {
    const human = await runCli(["list"], { ...w.opts, terminal });
    assert.equal(human.code, 0, human.stderr);
    assert.deepEqual(controlsIn(human.stdout), [], human.stdout);
    assert.ok(
      human.stdout.includes("evil\\x1b]0;owned\\x07\\x1b[2J\\x9b31mname\\r"),
      human.stdout,
    );
  }
  const json = JSON.parse((await runCli(["list", "--json"], w.opts)).stdout);
  assert.equal(json[0].workflow_name, name);
});

const LOGS = 2000;
/** A project index cut short by a crash: it does not parse. */
const CORRUPT = '{\n  "sessions": [\n    {\n      "zig_session_id": "3fa1';

function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

/** The index is the corrupt file, or complete; never missing or partial. */
function assertCorruptOrComplete(
  path: string,
  when: string,
): "corrupt" | "complete" {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    assert.fail(`${when}: the index is gone (${error})`);
  }
  if (text === CORRUPT) return "corrupt";
  let sessions: unknown[];
  try {
    sessions = JSON.parse(text).sessions;
  } catch {
    assert.fail(`${when}: the index is neither the corrupt one nor valid JSON`);
  }
  assert.equal(sessions.length, LOGS, `${when}: the index is incomplete`);
  return "complete";
}

/** Waits until a file whose name starts with `prefix` is in `dir`. */
async function appears(
  dir: string,
  options: { prefix: string; until: Promise<unknown> },
): Promise<boolean> {
  let over = false;
  options.until.finally(() => over = true);
  while (!over) {
    if (names(dir).some((n) => n.startsWith(options.prefix))) return true;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return false;
}

Deno.test("cli list: recovery of a corrupt index killed at any instant leaves the corrupt index or a complete one", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  writeBulkLogs(w.project, { count: LOGS });
  const index = projectIndexPath(w.project);
  const logsDir = join(w.project, "logs");

  // How long an uninterrupted run takes, to spread the kills over it.
  Deno.writeTextFileSync(index, CORRUPT);
  let started = performance.now();
  const whole = await cliProcess(["list", "--json"], w.opts);
  const runMs = performance.now() - started;
  assert.equal(whole.code, 0, whole.stderr);
  assert.equal(JSON.parse(whole.stdout).length, LOGS);

  const outcomes: string[] = [];
  const kills: Array<number | "on copy"> = [
    "on copy",
    ...[0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9].map((f) => Math.round(f * runMs)),
  ];
  for (const kill of kills) {
    Deno.writeTextFileSync(index, CORRUPT);
    const child = cliCommand(["list", "--json"], w.opts).spawn();
    const output = child.output();
    started = performance.now();
    if (kill === "on copy") {
      // Killed once the corrupt bytes are kept aside and the rebuild is under
      // way: the moment the old code had no index at all.
      const seen = await appears(logsDir, {
        prefix: "index.json.corrupt-",
        until: output,
      });
      assert.ok(seen, "the recovery keeps the corrupt bytes aside");
    } else {
      await new Promise((resolve) => setTimeout(resolve, kill));
    }
    try {
      child.kill("SIGKILL");
    } catch {
      // It had already finished.
    }
    const status = await output;
    const state = assertCorruptOrComplete(index, `killed ${kill}`);
    outcomes.push(`${kill}: ${status.signal ?? status.code} ${state}`);
    if (kill === "on copy") {
      assert.equal(status.signal, "SIGKILL", "killed during the rebuild");
      assert.equal(state, "corrupt");
    }
  }
  console.log(`runs of ${Math.round(runMs)} ms: ${outcomes.join(", ")}`);

  // The next run recovers it whole, and kept the corrupt bytes once.
  Deno.writeTextFileSync(index, CORRUPT);
  const after = await cliProcess(["list", "--json"], w.opts);
  assert.equal(after.code, 0, after.stderr);
  assert.equal(JSON.parse(after.stdout).length, LOGS);
  assert.equal(assertCorruptOrComplete(index, "after"), "complete");
  const left = names(logsDir);
  assert.deepEqual(
    left.filter((n) => n.includes(".tmp-")),
    [],
    "no temporary file outlives the next writer",
  );
  const copies = left.filter((n) => n.startsWith("index.json.corrupt-"));
  assert.equal(copies.length, 1, `one copy of the same bytes: ${copies}`);
  assert.equal(Deno.readTextFileSync(join(logsDir, copies[0])), CORRUPT);
});

const root = (() => {
  try {
    const id = new Deno.Command("id", { args: ["-u"] }).outputSync();
    return new TextDecoder().decode(id.stdout).trim() === "0";
  } catch {
    return false;
  }
})();
if (!root) {
  console.log(
    "list_test: skipping the full-disk test: mounting a tmpfs needs root",
  );
}

Deno.test({
  name:
    "cli list: a corrupt index that cannot be rebuilt on a full disk is an error, left in place (tmpfs)",
  ignore: !root,
  async fn() {
    using tmp = tempDir();
    const mount = join(tmp.path, "disk");
    Deno.mkdirSync(mount);
    const mounted = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mount],
    }).output();
    assert.ok(mounted.success, new TextDecoder().decode(mounted.stderr));
    try {
      const w = workspace(mount);
      writeBulkLogs(w.project, { count: 100 });
      const index = projectIndexPath(w.project);
      Deno.writeTextFileSync(index, CORRUPT);
      // Fill the disk, then free two pages: room for the copy of the
      // corrupt index, not for the rebuilt one (~40 KB).
      const reserve = join(mount, "reserve");
      Deno.writeFileSync(reserve, new Uint8Array(8192));
      const filler = join(mount, "filler");
      const file = Deno.openSync(filler, { write: true, create: true });
      try {
        const block = new Uint8Array(4096);
        while (true) file.writeSync(block);
      } catch (error) {
        assert.match(String(error), /No space left/);
      } finally {
        file.close();
      }
      Deno.removeSync(reserve);

      for (const run of ["first", "second"]) {
        const r = await cliProcess(["list"], w.opts);
        assert.equal(r.code, 1, `${run} run: ${r.stdout}${r.stderr}`);
        assert.equal(Deno.readTextFileSync(index), CORRUPT, `${run} run`);
        assert.match(
          r.stderr,
          /Cannot rebuild the corrupt index .*index\.json .*left in place.*No space left/,
        );
        assert.doesNotMatch(r.stderr, /No sessions/);
        assert.deepEqual(
          names(join(w.project, "logs")),
          ["index.json", "index.json.lock", "sessions"],
          "nothing half-written is left",
        );
      }

      Deno.removeSync(filler);
      const r = await cliProcess(["list", "--json"], w.opts);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).length, 100);
      assert.match(ourStderr(r.stderr), /did not parse.*rebuilt it/);
    } finally {
      await new Deno.Command("umount", { args: [mount] }).output();
    }
  },
});

/** A clock `minutes` behind this machine's. */
function minutesBehind(minutes: number): () => string {
  return () =>
    formatTimestamp(BigInt(Date.now() - minutes * 60_000) * 1_000_000n);
}

Deno.test("list --global has a PROJECT column, so two projects' sessions look different", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const other = join(tmp.path, "shop");
  Deno.mkdirSync(join(other, ".git"), { recursive: true });
  for (const [cwd, name] of [[w.repo, "build"], [other, "build"]]) {
    SessionWriter.create({
      zigHome: w.home,
      cwd,
      workflowName: name,
      workflowPath: "w",
      tierCount: 1,
    }).ended("success");
  }
  // Outside any repository: kept in the zig home itself.
  SessionWriter.create({
    zigHome: w.home,
    cwd: tmp.path,
    workflowName: "loose",
    workflowPath: "w",
    tierCount: 1,
  }).ended("success");
  const r = await runCli(["list", "--global"], w.opts);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  assert.match(lines[0], /^ID\s+PROJECT\s+WORKFLOW\s+STATUS\s+STARTED/);
  // The project folder's name (the repository's path, / written -), its
  // end when long: the end names the repository.
  const project = (path: string) => {
    const name = path.replace(/^\//, "").replaceAll("/", "-");
    return name.length > 32 ? "…" + name.slice(-31) : name;
  };
  const rows = lines.slice(1).map((line) => line.split(/\s{2,}/)[1]);
  assert.deepEqual(
    rows.sort(),
    [project(other), project(w.repo), "-"].sort(),
  );
  // A project's own list needs no such column.
  assert.doesNotMatch((await runCli(["list"], w.opts)).stdout, /PROJECT/);
});

Deno.test("list and show: relative start times on a terminal; UTC with --utc, in --json and in a pipe", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const writer = SessionWriter.create({
    zigHome: w.home,
    cwd: w.repo,
    workflowName: "timed",
    workflowPath: "w",
    tierCount: 1,
    clock: minutesBehind(3),
  });
  writer.ended("success");
  const utc = writer.sessionId && JSON.parse(
    (await runCli(["list", "--json"], w.opts)).stdout,
  )[0].started_at;
  const absolute = utc.slice(0, 10) + " " + utc.slice(11, 19);
  const terminal = { ...w.opts, terminal: true };

  const onTerminal = await runCli(["list"], terminal);
  assert.match(
    onTerminal.stdout,
    /^ID\s+WORKFLOW\s+STATUS\s+STARTED\s+DURATION$/m,
  );
  assert.match(onTerminal.stdout, /\s3 min ago\s/);
  assert.ok(!onTerminal.stdout.includes(absolute), onTerminal.stdout);
  for (
    const [args, options] of [
      [["list", "--utc"], terminal],
      [["list"], w.opts], // a pipe
    ] as const
  ) {
    const r = await runCli([...args], options);
    assert.match(r.stdout, /STARTED \(UTC\)/, args.join(" "));
    assert.ok(r.stdout.includes(absolute), r.stdout);
    assert.doesNotMatch(r.stdout, /ago/);
  }
  const json = await runCli(["list", "--json"], terminal);
  assert.equal(JSON.parse(json.stdout)[0].started_at, utc);

  const show = await runCli(["show", writer.sessionId], terminal);
  assert.match(
    show.stdout,
    new RegExp(`started   3 min ago  \\(${absolute} UTC\\)`),
  );
  const showUtc = await runCli(["show", writer.sessionId, "--utc"], terminal);
  assert.match(showUtc.stdout, new RegExp(`started   ${absolute} UTC\n`));
  const showPipe = await runCli(["show", writer.sessionId], w.opts);
  assert.match(showPipe.stdout, new RegExp(`started   ${absolute} UTC\n`));
});

Deno.test("list prints its table in a pipe too, as the README says: colors alone are for terminals", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  SessionWriter.create({
    zigHome: w.home,
    cwd: w.repo,
    workflowName: "piped",
    workflowPath: "w",
    tierCount: 1,
  }).ended("success");
  const piped = await cliProcess(["list"], w.opts);
  assert.equal(piped.code, 0, piped.stderr);
  assert.match(
    piped.stdout,
    /^ID\s+WORKFLOW\s+STATUS\s+STARTED \(UTC\)\s+DURATION\n/,
  );
  assert.match(piped.stdout, /\npiped\s{2,}|\s{2}piped\s{2,}success/);
  assert.deepEqual(controlsIn(piped.stdout), [], "no color codes in a pipe");
  const readme = Deno.readTextFileSync(
    new URL("../../README.md", import.meta.url),
  );
  assert.doesNotMatch(readme, /tables and colors appear only on a terminal/);
  assert.match(readme, /Tables are the same on a terminal\s+and in a pipe/);
});

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

Deno.test("list, show and verify: an index entry whose id is too long to be a file name is not followed, the others still work", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const good = await runCli(
    ["record", "--workflow", "good", "--", "true"],
    w.opts,
  );
  assert.equal(good.code, 0, good.stderr);
  // Letters only, but 300 of them: no file system names such a log.
  const long = "a".repeat(300);
  for (const path of [projectIndexPath(w.project), globalIndexPath(w.home)]) {
    const index = JSON.parse(Deno.readTextFileSync(path));
    index.sessions.push({
      ...index.sessions[0],
      zig_session_id: long,
      log_path: join(w.project, "logs", "sessions", `${long}.jsonl`),
      ended_at: null,
      status: null,
    });
    Deno.writeTextFileSync(path, JSON.stringify(index, null, 2));
  }
  const goodId = good.stderr.match(/session (\S+)/)![1];
  for (const args of [["list"], ["list", "--global"], ["show", goodId]]) {
    const r = await runCli(args, w.opts);
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  }
  const listed = await runCli(["list", "--json"], w.opts);
  assert.match(listed.stderr, /is not followed: that is no session id/);
  const shown = await runCli(["show", long.slice(0, 10)], w.opts);
  assert.equal(shown.code, 1);
  assert.match(shown.stderr, /is not followed: that is no session id/);
  const verified = await runCli(["verify"], w.opts);
  assert.equal(verified.code, 1);
  assert.match(verified.stdout, /is not followed: that is no session id/);
});

/** An entry of a project index, ended `minutes` after 2026-01-01 (or running). */
function ended(project: string, i: number, minutes: number, extra = {}) {
  const started = new Date(Date.UTC(2026, 0, 1) + minutes * 60_000)
    .toISOString().replace("Z", "+00:00");
  const id = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
  return {
    zig_session_id: id,
    workflow_name: `wf${i % 5}`,
    workflow_path: "/w.zwf",
    log_path: join(project, "logs", "sessions", `${id}.jsonl`),
    started_at: started,
    ended_at: i % 4 === 0 ? null : started.replace(":00.000", ":07.250"),
    status: ["success", "failure", "success", "success"][i % 4] ?? null,
    workspace_path: project,
    ...extra,
  };
}

/** Writes a project index as zig pretty-prints it. */
function writeIndex(project: string, sessions: unknown[]): string {
  const path = projectIndexPath(project);
  Deno.mkdirSync(join(project, "logs", "sessions"), { recursive: true });
  Deno.writeTextFileSync(path, JSON.stringify({ sessions }, null, 2));
  return path;
}

/** `list` read the whole way: with every state asked for, the full read decides. */
const EVERY_STATE = [
  "--status",
  "success",
  "--status",
  "failure",
  "--status",
  "running",
  "--status",
  "abandoned",
];

Deno.test("list --limit N: the newest N from the end of the index, the same as the full read, reading a few blocks", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const sessions = Array.from(
    { length: 5000 },
    (_, i) =>
      ended(
        w.project,
        i,
        i,
        i % 9 === 0 ? { status: null, ended_at: null } : {},
      ),
  );
  // Near the end: sessions started moments apart indexed out of order, and
  // two that started at the same instant.
  [sessions[4990], sessions[4960]] = [sessions[4960], sessions[4990]];
  sessions[4995].started_at = sessions[4994].started_at;
  writeIndex(w.project, sessions);
  const full = JSON.parse(
    (await runCli(["list", "--json", ...EVERY_STATE], w.opts)).stdout,
  );
  assert.equal(full.length, 5000);
  for (const limit of [1, 5, 20, 60]) {
    const before = indexBytesRead.count;
    const r = await runCli(
      ["list", "--json", "--limit", String(limit)],
      w.opts,
    );
    const read = indexBytesRead.count - before;
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), full.slice(0, limit), `${limit}`);
    assert.ok(read <= 128 * 1024, `--limit ${limit} read ${read} bytes`);
  }
  // The table too.
  const table = await runCli(["list", "--limit", "5"], w.opts);
  const all = await runCli(["list", ...EVERY_STATE], w.opts);
  // (Its columns are as wide as the rows shown need.)
  const cells = (text: string) => text.split("\n").map((l) => l.split(/ +/));
  assert.deepEqual(
    cells(table.stdout),
    cells(all.stdout).slice(0, 6).concat([[""]]),
  );
  // Filters read on until they have their N.
  const wf = await runCli(
    ["list", "--json", "--limit", "3", "--workflow", "wf2"],
    w.opts,
  );
  assert.deepEqual(
    JSON.parse(wf.stdout),
    full.filter((s: { workflow_name: string }) => s.workflow_name === "wf2")
      .slice(0, 3),
  );
});

Deno.test("list --limit falls back to the full read when the index's end does not validate, recovering a corrupt index", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const ids = writeBulkLogs(w.project, { count: 30 });
  const index = projectIndexPath(w.project);
  assert.equal((await runCli(["reindex"], w.opts)).code, 0);
  const complete = await runCli(["list", "--json"], w.opts);
  assert.equal(JSON.parse(complete.stdout).length, 30);
  // Cut short at its end: not an index any more.
  const text = Deno.readTextFileSync(index);
  Deno.writeTextFileSync(index, text.slice(0, -40));
  const r = await runCli(["list", "--limit", "3", "--json"], w.opts);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /did not parse .* kept its bytes in .*index\.json\.corrupt-/,
  );
  assert.deepEqual(
    JSON.parse(r.stdout).map((s: { zig_session_id: string }) =>
      s.zig_session_id
    ),
    ids.slice(-3).reverse(),
  );
  // Out of zig's layout (compact JSON) but valid: read whole, no recovery.
  Deno.writeTextFileSync(index, JSON.stringify(JSON.parse(text)));
  const compact = await runCli(["list", "--limit", "2", "--json"], w.opts);
  assert.equal(compact.stderr, "");
  assert.equal(JSON.parse(compact.stdout).length, 2);
});

Deno.test("list --limit and --json still list a session known only from its pending marker", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  testWriter(w.home, { projectRoot: w.repo, workflowName: "kept" })
    .ended("success", 1);
  const killed = testWriter(w.home, {
    projectRoot: w.repo,
    workflowName: "killed",
  });
  const index = projectIndexPath(w.project);
  const text = JSON.parse(Deno.readTextFileSync(index));
  text.sessions = text.sessions.filter((e: { zig_session_id: string }) =>
    e.zig_session_id !== killed.sessionId
  );
  Deno.writeTextFileSync(index, JSON.stringify(text, null, 2));
  Deno.writeFileSync(`${index}.pending-${killed.sessionId}`, new Uint8Array());
  for (const args of [["--limit", "5"], []]) {
    const r = await runCli(["list", "--json", ...args], w.opts);
    assert.deepEqual(
      JSON.parse(r.stdout).map((s: { workflow_name: string }) =>
        s.workflow_name
      ),
      ["killed", "kept"],
      args.join(" "),
    );
  }
  killed.close();
});

Deno.test("list --json streamed from the index: the same bytes as the full read, in start order or not, with ties, escapes and open sessions", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const base = Array.from({ length: 700 }, (_, i) => ended(w.project, i, i));
  const cases: Record<string, unknown[]> = {
    "in order": base,
    "ties": base.map((s, i) => ({
      ...s,
      started_at: base[i - (i % 3)].started_at,
    })),
    "escaped values": base.map((s, i) =>
      i % 50 === 0 ? { ...s, workflow_name: 'a "quoted"\tname é' } : s
    ),
    "out of order": [
      ...base.slice(0, 300),
      base[650],
      ...base.slice(300, 650),
      ...base.slice(651),
    ],
    "unparsable start": base.map((s, i) =>
      i === 0 ? { ...s, started_at: "yesterday" } : s
    ),
    "open sessions": base.map((s, i) =>
      i % 7 === 0 ? { ...s, status: null, ended_at: null } : s
    ),
    "one": base.slice(0, 1),
    "none": [],
  };
  for (const [name, sessions] of Object.entries(cases)) {
    writeIndex(w.project, sessions);
    const streamed = await runCli(["list", "--json"], w.opts);
    const full = await runCli(["list", "--json", ...EVERY_STATE], w.opts);
    assert.equal(streamed.code, 0, streamed.stderr);
    assert.equal(streamed.stdout, full.stdout, name);
    assert.equal(streamed.stderr, full.stderr, name);
    assert.equal(JSON.parse(streamed.stdout).length, sessions.length);
  }
  // The global index too.
  const g = await runCli(["list", "--json", "--global"], w.opts);
  const gFull = await runCli(
    ["list", "--json", "--global", ...EVERY_STATE],
    w.opts,
  );
  assert.equal(g.stdout, gFull.stdout);
});

Deno.test("list --json holds neither the index nor its output: 60k sessions listed under a heap the full read overflows", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  writeIndex(
    w.project,
    Array.from({ length: 60_000 }, (_, i) => ended(w.project, i, i)),
  );
  const capped = {
    ...w.opts,
    env: { DENO_V8_FLAGS: "--max-old-space-size=24" },
  };
  const streamed = await cliProcess(["list", "--json"], capped);
  assert.equal(streamed.code, 0, streamed.stderr.slice(0, 500));
  assert.equal(JSON.parse(streamed.stdout).length, 60_000);
  // The control: parsing the whole index and printing it at once does not
  // fit, so the cap is what the streamed list was held to.
  const full = await cliProcess(["list", "--json", ...EVERY_STATE], capped);
  assert.notEqual(full.code, 0, "the full read fit the cap: proves nothing");
});

Deno.test("cli list: newest first, filters, JSON, and abandoned sessions", async () => {
  using tmp = tempDir();
  const home = copyFixtureHome(tmp.path);
  const opts = { home, cwd: tmp.path };
  const all = await runCli(["list", "--global"], opts);
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
    (await runCli([
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
    (await runCli(
      ["list", "--global", "--json", "--workflow", "wf-success"],
      opts,
    )).stdout,
  );
  assert.equal(byWorkflow.length, 2);
  const since = JSON.parse(
    (await runCli(
      ["list", "--global", "--json", "--since", "2026-11-24"],
      opts,
    ))
      .stdout,
  );
  assert.equal(since.length, 0);
  const recent = JSON.parse(
    (await runCli(["list", "--global", "--json", "--since", "3650d"], opts))
      .stdout,
  );
  assert.equal(recent.length, 5);
  // Outside a repository, the project is the zig home itself.
  const local = await runCli(["list", "--json"], opts);
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
