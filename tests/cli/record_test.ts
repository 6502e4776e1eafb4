import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import {
  globalIndexPath,
  loadGlobalIndex,
  loadProjectIndex,
  projectDir,
  projectIndexPath,
  readSessionEvents,
  rebuildIndex,
  type SessionLogEvent,
  sessionLogPath,
  SessionWriter,
} from "../../mod.ts";
import {
  ageLog,
  appendLongEvent,
  readText,
  tempDir,
  writeBulkLogs,
} from "../_helpers.ts";
import {
  cliCommand,
  cliProcess,
  type CliResult,
  ourStderr,
  runCli,
  workspace,
} from "./_helpers.ts";
import { join } from "node:path";
import { assertReferenceReads } from "../_reference.ts";
import { fillUp, mountTmpfs } from "../_tmpfs.ts";
import { MAX_LINE_BYTES, OutputLines } from "../../lib/_cli/_output_lines.ts";

Deno.test("record --heartbeat 0s: usage error, and no session created", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  for (const interval of ["0s", "0ms", "0.5ms", "30d"]) {
    const r = await runCli(
      ["record", "--heartbeat", interval, "--", "true"],
      w.opts,
    );
    assert.equal(r.code, 2, interval);
    assert.equal(
      r.stderr,
      `zig-session: Invalid --heartbeat "${interval}": expected an interval of at least 1ms and at most 24d\nRun 'zig-session record --help' for usage\n`,
    );
  }
  assert.ok(!existsSync(w.project), "a project directory was created");
  const verify = await runCli(["verify", "--global"], w.opts);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
});

Deno.test("record --bogus -- echo hi: a clean unknown-option message", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const r = await runCli(["record", "--bogus", "--", "echo", "hi"], w.opts);
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr,
    "zig-session: Unknown option --bogus\nRun 'zig-session record --help' for usage\n",
  );
  assert.ok(!existsSync(w.project));
});

Deno.test("record of a command that does not exist: command not found, exit 127", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const r = await runCli(
    ["record", "--quiet", "--", "nosuchcmd-xyz", "arg"],
    w.opts,
  );
  assert.equal(r.code, 127);
  const [idLine, message, ...rest] = r.stderr.split("\n");
  assert.match(idLine, /^zig-session: session [0-9a-f-]{36}$/);
  assert.equal(message, "zig-session: command not found: nosuchcmd-xyz");
  assert.deepEqual(rest, [""]);
  const list = await runCli(["list", "--json"], w.opts);
  const [entry] = JSON.parse(list.stdout);
  assert.equal(entry.state, "failure");
  const events = await readSessionEvents(entry.log_path);
  const failed = events.find((e) => e.type === "step_failed");
  assert.ok(failed?.type === "step_failed");
  assert.equal(failed.error, "spawn failed: command not found: nosuchcmd-xyz");
  assert.equal(failed.exit_code, null);
});

function idFrom(stderr: string): string {
  const m = /session ([0-9a-f-]{36})/.exec(stderr);
  assert.ok(m, `no session id in: ${stderr}`);
  return m[1];
}

function logOf(project: string, id: string): string {
  return join(project, "logs", "sessions", `${id}.jsonl`);
}

/** A zig home on a small tmpfs, and a git repository outside it. */
function homeOnDisk(disk: string, root: string) {
  const repo = join(root, "repo");
  Deno.mkdirSync(join(repo, ".git"), { recursive: true });
  const project = projectDir({ zigHome: disk, projectRoot: repo });
  return { project, opts: { home: disk, cwd: repo } };
}

function sessionLogs(project: string): string[] {
  try {
    return [...Deno.readDirSync(join(project, "logs", "sessions"))]
      .map((e) => e.name);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

Deno.test("record: the prompt preview is cut at 200 characters, never inside an emoji", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const prompt = `${"a".repeat(199)}😀 tail`;
  const r = await runCli(
    ["record", "--quiet", "--prompt", prompt, "--", "echo", "hi"],
    w.opts,
  );
  assert.equal(r.code, 0, r.stderr);
  const log = logOf(w.project, idFrom(r.stderr));
  assert.ok(await assertReferenceReads(log) !== 0);
  const events = await readSessionEvents(log);
  const step = events.find((e) => e.type === "step_started");
  assert.ok(step?.type === "step_started");
  assert.equal(step.prompt_preview, `${"a".repeat(199)}😀`);
  assert.equal(
    events[0].type === "zig_session_started" && events[0].prompt,
    prompt,
  );
});

Deno.test("record on a disk already full says so and does not run the command", async () => {
  const name = "record on a disk already full";
  using disk = mountTmpfs("64k", name);
  if (!disk) return;
  using tmp = tempDir();
  const { project, opts } = homeOnDisk(disk.path, tmp.path);
  fillUp(disk.path);
  const marker = join(tmp.path, "ran");
  const r = await runCli(["record", "--", "touch", marker], opts);
  assert.equal(r.code, 1);
  assert.throws(() => Deno.statSync(marker), Deno.errors.NotFound);
  assert.deepEqual(sessionLogs(project), [], "no empty log left behind");
  assert.match(
    r.stderr,
    /No space left on device.*: session \S+ was not started and its log removed; "touch .*ran" was not run/,
  );
});

Deno.test("record on a disk that fills up: the command runs to its end, the log stays readable, the loss is told", async () => {
  const name = "record on a disk that fills up";
  using disk = mountTmpfs("256k", name);
  if (!disk) return;
  using tmp = tempDir();
  const { project, opts } = homeOnDisk(disk.path, tmp.path);
  const marker = join(tmp.path, "finished");
  const script = `i=0; while [ $i -lt 3000 ]; do echo "line $i ${
    "x".repeat(100)
  }"; i=$((i+1)); done; touch '${marker}'`;
  const r = await cliProcess(
    ["record", "--quiet", "--", "sh", "-c", script],
    opts,
  );
  Deno.statSync(marker); // the command ran to its end
  assert.equal(r.code, 1, "a command that succeeded, a record that did not");
  assert.match(
    r.stderr,
    /the record of session \S+ is incomplete: \d+ event\(s\) could not be written \(Cannot append to the session log at .*No space left on device/,
  );
  const log = logOf(project, idFrom(r.stderr));
  assert.ok(Deno.readTextFileSync(log).endsWith("\n"), "no partial line");
  assert.ok(await assertReferenceReads(log) > 100);
  const events = await readSessionEvents(log);
  assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1));
  const lines = events.filter((e) => e.type === "step_output");
  assert.ok(lines.length > 100 && lines.length < 3000, `${lines.length}`);
});

Deno.test("record whose index cannot be written runs the command, warns, and keeps a complete log", async () => {
  const name = "record whose index cannot be written";
  using disk = mountTmpfs("64k", name);
  if (!disk) return;
  using tmp = tempDir();
  const { project, opts } = homeOnDisk(disk.path, tmp.path);
  const filler = fillUp(disk.path, 1); // a page for the log, none for an index
  const r = await runCli(["record", "--quiet", "--", "echo", "hi"], opts);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /warning: Session \S+ is not up to date in the index .*index\.json .*No space left on device.*zig-session reindex brings the index up to date/,
  );
  const id = idFrom(r.stderr);
  const log = logOf(project, id);
  assert.ok(await assertReferenceReads(log) !== 0);
  const events: SessionLogEvent[] = await readSessionEvents(log);
  assert.deepEqual(events.map((e) => e.type), [
    "zig_session_started",
    "heartbeat",
    "tier_started",
    "step_started",
    "step_output",
    "step_completed",
    "zig_session_ended",
  ]);
  Deno.removeSync(filler);
  const again = await runCli(["reindex"], opts);
  assert.equal(again.code, 0, again.stderr);
  const entry = loadProjectIndex(projectIndexPath(project)).sessions[0];
  assert.equal(entry?.zig_session_id, id);
  assert.equal(entry.status, "success");
});

Deno.test("ZIG_HOME=/dev/null: record says the zig home is no directory, and runs nothing", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const marker = join(tmp.path, "ran");
  const r = await cliProcess(["record", "--", "touch", marker], {
    home: "/dev/null",
    cwd: w.repo,
  });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(
    r.stderr,
    'zig-session: The zig home "/dev/null" (from ZIG_HOME) is not a directory: set ZIG_HOME to a directory, or pass zigHome\n',
  );
  assert.equal(r.stdout, "");
  assert.throws(() => Deno.statSync(marker), Deno.errors.NotFound);
});

Deno.test("a relative ZIG_HOME is refused with the absolute path to set instead", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const r = await cliProcess(["record", "--", "true"], {
    home: "zig",
    cwd: w.repo,
  });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(
    r.stderr,
    `zig-session: ZIG_HOME "zig" is a relative path, which would name a different zig home in each directory: set it to an absolute path, such as "${
      join(w.repo, "zig")
    }"\n`,
  );
  assert.deepEqual([...Deno.readDirSync(w.repo)].map((e) => e.name), [".git"]);
});

/** Waits until the only log of the project has an event of this type. */
async function logWith(project: string, type: string): Promise<string> {
  const dir = join(project, "logs", "sessions");
  for (let i = 0; i < 600; i++) {
    try {
      for (const item of Deno.readDirSync(dir)) {
        const path = join(dir, item.name);
        const events = await readSessionEvents(path, { onProblem: () => {} });
        if (events.some((e) => e.type === type)) return path;
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`No log with a ${type} event in ${dir}`);
}

async function stateOf(opts: { home: string; cwd: string }, id: string) {
  const listed = JSON.parse((await runCli(["list", "--json"], opts)).stdout);
  return listed.find((s: { zig_session_id: string }) => s.zig_session_id === id)
    ?.state;
}

Deno.test("record --heartbeat 60s: silent for 40 s before its first beat is due, still running", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const child = cliCommand(
    ["record", "--heartbeat", "60s", "--quiet", "--", "sleep", "30"],
    w.opts,
  ).spawn();
  try {
    const logPath = await logWith(w.project, "step_started");
    const id = (await readSessionEvents(logPath))[0].zig_session_id;
    ageLog(logPath, 40); // as if the command had been silent for 40 s
    assert.equal(await stateOf(w.opts, id), "running");
    const events = await readSessionEvents(logPath);
    assert.deepEqual(
      events.slice(0, 2).map((e) => e.type === "heartbeat" ? e : e.type),
      [
        "zig_session_started",
        { ...events[1], type: "heartbeat", interval_secs: 60 },
      ],
      "the interval comes in a heartbeat right after the start",
    );
    ageLog(logPath, 190); // over 3 intervals of 60 s
    assert.equal(await stateOf(w.opts, id), "abandoned");
  } finally {
    child.kill("SIGTERM");
    await child.output();
  }
});

Deno.test("record --session --heartbeat 60s declares its interval when it attaches", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const started = await runCli(["start", "--idle-timeout", "3s"], w.opts);
  assert.equal(started.code, 0, started.stderr);
  const id = started.stdout.trim();
  const logPath = sessionLogPath(w.project, id);
  const first = await readSessionEvents(logPath);
  assert.ok(first[1].type === "heartbeat" && first[1].interval_secs === 1);
  const child = cliCommand(
    [
      "record",
      "--session",
      id,
      "--heartbeat",
      "60s",
      "--quiet",
      "--",
      "sleep",
      "30",
    ],
    w.opts,
  ).spawn();
  try {
    await logWith(w.project, "step_started");
    const events = await readSessionEvents(logPath);
    const beats = events.filter((e) => e.type === "heartbeat");
    assert.deepEqual(
      beats.map((e) => e.type === "heartbeat" && e.interval_secs),
      [1, 60],
    );
    ageLog(logPath, 40);
    assert.equal(await stateOf(w.opts, id), "running");
  } finally {
    child.kill("SIGTERM");
    await child.output();
  }
});

Deno.test("cli record: exits with its command's code while gc --force and reindex remove and rebuild around it", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  // Open sessions gc never removes, so that every reindex reads for a while.
  const open = writeBulkLogs(w.project, { count: 1000, open: true });
  rebuildIndex(projectIndexPath(w.project));
  rebuildIndex(globalIndexPath(w.home));

  let recording = true;
  const failures: string[] = [];
  const loop = async (args: string[][]) => {
    let runs = 0;
    while (recording || runs === 0) {
      const command = args[runs++ % args.length];
      const r = await cliProcess(command, w.opts);
      if (r.code !== 0) failures.push(`${command.join(" ")}: ${r.stderr}`);
    }
    return runs;
  };
  const gc = loop([["gc", "--force", "--keep", "0"]]);
  const reindex = loop([["reindex", "--global"], ["reindex"]]);
  const recorders = [0, 1, 2].map(async (p) => {
    for (let i = 0; i < 4; i++) {
      const code = [0, 1, 3][(p + i) % 3];
      const r = await cliProcess(
        ["record", "-q", "--", "sh", "-c", `exit ${code}`],
        w.opts,
      );
      if (r.code !== code) {
        failures.push(`record exit ${code} gave ${r.code}: ${r.stderr}`);
      }
    }
  });
  await Promise.all(recorders);
  recording = false;
  const runs = { gc: await gc, reindex: await reindex };
  console.log(
    `12 records beside ${runs.gc} gc and ${runs.reindex} reindex runs`,
  );
  assert.deepEqual(failures, []);
  // Once gc has had the last word, both indexes hold the open sessions only.
  const last = await cliProcess(["gc", "--force", "--keep", "0"], w.opts);
  assert.equal(last.code, 0, last.stderr);
  const indexes = {
    project: loadProjectIndex(projectIndexPath(w.project)).sessions,
    global: loadGlobalIndex(globalIndexPath(w.home)).sessions,
  };
  for (const [name, sessions] of Object.entries(indexes)) {
    const ids = sessions.map((e) => e.zig_session_id);
    assert.deepEqual(ids.sort(), [...open].sort(), `the ${name} index`);
  }
});

// ------------------------------------------------- output lines, by chunk

/** The lines OutputLines makes of `bytes` given in chunks cut at `cuts`. */
function linesOf(bytes: Uint8Array, cuts: number[]): string[][] {
  const batches: string[][] = [];
  const lines = new OutputLines((batch) => batches.push(batch));
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    lines.push(bytes.subarray(from, cut));
    from = cut;
  }
  lines.end();
  return batches;
}

Deno.test("output lines: the same lines wherever the chunks are cut, one batch per chunk", () => {
  const bytes = new Uint8Array([
    ...new TextEncoder().encode("abc\r\n\ufeffbom\n\n日本\nx"),
    0xff,
    ...new TextEncoder().encode("y\r\r\n"),
    0xe6,
    0x97, // a character cut short by the newline
    10,
    ...new TextEncoder().encode("😀 last"),
  ]);
  const expected = [
    "abc",
    "\ufeffbom", // a byte order mark is text like any other
    "",
    "日本",
    "x\ufffdy\r",
    "\ufffd",
    "😀 last",
  ];
  // The last line, without its newline, comes at the end.
  assert.deepEqual(linesOf(bytes, []), [
    expected.slice(0, -1),
    expected.slice(-1),
  ]);
  for (let a = 0; a <= bytes.length; a++) {
    for (let b = a; b <= bytes.length; b += 3) {
      const batches = linesOf(bytes, [a, b]);
      assert.deepEqual(batches.flat(), expected, `cut at ${a} and ${b}`);
      assert.ok(batches.length <= 4, "at most one batch per chunk and the end");
    }
  }
});

Deno.test("output lines: a line over 1 MiB is cut on a character boundary, wherever the chunks are cut", () => {
  const long = "é".repeat(MAX_LINE_BYTES / 2) + "tail"; // 1 MiB + 4 bytes
  const bytes = new TextEncoder().encode(`first\n${long}\nshort\nlast`);
  for (const cuts of [[], [3], [MAX_LINE_BYTES + 1], [7, 8, 200_001]]) {
    const lines = linesOf(bytes, cuts).flat();
    assert.equal(lines[0], "first");
    assert.equal(lines.slice(1, -2).join(""), long, `cuts ${cuts}`);
    assert.ok(lines.length === 5, `cuts ${cuts}: ${lines.length} lines`);
    for (const line of lines) {
      assert.ok(new TextEncoder().encode(line).length <= MAX_LINE_BYTES);
      assert.ok(line.isWellFormed() && !line.includes("\ufffd"));
    }
    assert.deepEqual(lines.slice(-2), ["short", "last"]);
  }
});

Deno.test("record writes the lines of a chunk together, at one instant, and keeps a line's byte order mark", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const r = await cliProcess([
    "record",
    "--quiet",
    "--",
    "sh",
    "-c",
    "printf '\\357\\273\\277one\\r\\ntwo\\n'; sleep 0.2; printf 'thr'; sleep 0.2; printf 'ee\\nfour'",
  ], w.opts);
  assert.equal(r.code, 0, r.stderr);
  const log = logOf(w.project, idFrom(r.stderr));
  assert.ok(await assertReferenceReads(log) !== 0);
  const outputs = (await readSessionEvents(log)).flatMap((e) =>
    e.type === "step_output" ? [[e.seq, e.ts, e.line]] : []
  );
  assert.deepEqual(outputs.map(([, , line]) => line), [
    "\ufeffone",
    "two",
    "three",
    "four",
  ]);
  // The first chunk's two lines were written together, at one instant.
  assert.equal(outputs[0][1], outputs[1][1]);
  assert.equal(outputs[1][0], (outputs[0][0] as number) + 1);
});

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

// Moved from tests/cli_test.ts: record run as a real process (its output
// passes through to the real stdout; real children, real signals).

async function eventsOf(
  project: string,
  id: string,
): Promise<SessionLogEvent[]> {
  return await readSessionEvents(logOf(project, id));
}

Deno.test("cli record: output lines by stream, a last line without newline, success", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const r = await cliProcess([
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
    cliProcess(["record", "--quiet", "--", "sh", "-c", "exit 3"], w.opts),
    cliProcess(["record", "--quiet", "--", "no-such-command-zz"], w.opts),
    cliProcess(["record", "--quiet", "--", "sh", "-c", "kill -9 $$"], w.opts),
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
  const r = await cliProcess([
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
  const r = await cliProcess([
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
