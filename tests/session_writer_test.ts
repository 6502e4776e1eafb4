import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import {
  globalIndexPath,
  loadGlobalIndex,
  loadProjectIndex,
  projectDir,
  projectIndexPath,
  readSessionEvents,
  rebuildIndex,
  sanitizeProjectPath,
  SessionWriter,
  ZigError,
} from "../mod.ts";
import type { SessionProblem } from "../mod.ts";
import {
  appendLongEvent,
  FIXTURE_HOME,
  FIXTURE_HOME_PATH,
  lines,
  projectFile,
  RUN_WORKER,
  runDeno,
  scriptedClock,
  tempDir,
  testWriter,
} from "./_helpers.ts";
import { assertReferenceReads, referenceBinary } from "./_reference.ts";
import { fillUp, mountTmpfs, PAGE } from "./_tmpfs.ts";

interface FixtureSession {
  id: string;
  dir: string; // project dir relative to the zig home
  cwd: string;
  projectRoot?: string;
  ended: boolean;
}

const SESSIONS: FixtureSession[] = [
  {
    id: "94dc5b48-4970-4ccd-be2d-613789b21c13",
    dir: "projects/home-ada-src-shop",
    cwd: "/home/ada/src/shop",
    projectRoot: "/home/ada/src/shop",
    ended: true,
  },
  {
    id: "20a9856f-cdbb-4398-8d8e-33a1b4a88819",
    dir: "projects/home-ada-src-shop",
    cwd: "/home/ada/src/shop",
    projectRoot: "/home/ada/src/shop",
    ended: true,
  },
  {
    id: "181f613a-2887-417d-8246-5b15c35d4640",
    dir: "projects/home-ada-src-shop",
    cwd: "/home/ada/src/shop",
    projectRoot: "/home/ada/src/shop",
    ended: false,
  },
  {
    id: "da3919fc-2ada-463f-ad9e-269f8a13dc8e",
    dir: "projects/home-ada-src-shop",
    cwd: "/home/ada/src/shop",
    projectRoot: "/home/ada/src/shop",
    ended: true,
  },
  {
    id: "b5ac6738-480f-4faf-8c21-2c8136fd6eec",
    dir: ".",
    cwd: "/home/ada/scratch",
    ended: true,
  },
];

function fixtureText(relative: string): string {
  return Deno.readTextFileSync(join(FIXTURE_HOME, relative));
}

/** Replays every fixture session through the writer with zig's clock and ids. */
function replayFixtures(home: string): void {
  for (const s of SESSIONS) {
    const logRel = join(s.dir, "logs", "sessions", `${s.id}.jsonl`);
    const events = fixtureText(logRel).trimEnd().split("\n").map((l) =>
      JSON.parse(l)
    );
    const index = JSON.parse(fixtureText(join(s.dir, "logs", "index.json")));
    const entry = index.sessions.find((e: { zig_session_id: string }) =>
      e.zig_session_id === s.id
    );
    const stamps = [entry.started_at, ...events.map((e) => e.ts)];
    if (s.ended) stamps.push(entry.ended_at);
    const first = events[0];
    const writer = SessionWriter.create({
      zigHome: home,
      cwd: s.cwd,
      projectRoot: s.projectRoot,
      workflowName: first.workflow_name,
      workflowPath: first.workflow_path,
      prompt: first.prompt,
      tierCount: first.tier_count,
      clock: scriptedClock(stamps),
      createId: () => s.id,
    });
    for (const event of events.slice(1)) {
      const { seq: _seq, ts: _ts, zig_session_id: _id, ...kind } = event;
      if (kind.type === "zig_session_ended") {
        writer.ended(kind.status, kind.duration_ms);
      } else {
        writer.emit(kind);
      }
    }
    if (!s.ended) writer.close();
  }
}

Deno.test("writer reproduces the reference's logs and indexes byte for byte", () => {
  using tmp = tempDir();
  const home = join(tmp.path, ".zig");
  replayFixtures(home);
  const relocate = (text: string) => text.replaceAll(home, FIXTURE_HOME_PATH);
  const files = [
    "sessions_index.json",
    "logs/index.json",
    "projects/home-ada-src-shop/logs/index.json",
    ...SESSIONS.map((s) => join(s.dir, "logs", "sessions", `${s.id}.jsonl`)),
  ];
  for (const file of files) {
    assert.equal(
      relocate(Deno.readTextFileSync(join(home, file))),
      fixtureText(file),
      `${file} differs from the reference's`,
    );
  }
});

Deno.test("helpers write the same lines as emit, with nulls for absent optionals", async () => {
  using tmp = tempDir();
  const clock = () => "2026-11-23T22:41:46.5+00:00";
  const options = {
    zigHome: tmp.path,
    projectRoot: "/src/shop",
    cwd: "/src/shop",
    workflowName: "w",
    workflowPath: "w.zwf",
    tierCount: 1,
    clock,
  };
  const a = SessionWriter.create({ ...options, createId: () => "a" });
  const b = SessionWriter.create({ ...options, createId: () => "a2" });
  a.tierStarted(0, ["plan"]);
  a.stepStarted({
    stepName: "plan",
    tierIndex: 0,
    zagSessionId: "z",
    zagCommand: "exec",
    promptPreview: "p",
  });
  a.stepOutput({ stepName: "plan", stream: "stderr", line: 'é \u0001 "x" \\' });
  a.stepCompleted({ stepName: "plan", exitCode: 0, durationMs: 5 });
  a.stepFailed({ stepName: "plan", exitCode: null, attempt: 1, error: "boom" });
  a.stepSkipped("lint", "no");
  a.heartbeat();
  b.emit({ type: "tier_started", tier_index: 0, step_names: ["plan"] });
  // Keys in another order, optional model left out.
  b.emit(
    {
      prompt_preview: "p",
      zag_command: "exec",
      type: "step_started",
      zag_session_id: "z",
      tier_index: 0,
      step_name: "plan",
    } as never,
  );
  b.emit({
    line: 'é \u0001 "x" \\',
    stream: "stderr",
    step_name: "plan",
    type: "step_output",
  });
  b.emit({
    type: "step_completed",
    step_name: "plan",
    exit_code: 0,
    duration_ms: 5,
    saved_vars: [],
  });
  b.emit({
    type: "step_failed",
    step_name: "plan",
    exit_code: null,
    attempt: 1,
    error: "boom",
  });
  b.emit({ type: "step_skipped", step_name: "lint", reason: "no" });
  b.emit({ type: "heartbeat", interval_secs: 10 });
  const strip = (l: string) => l.replace(/"zig_session_id":"a2?"/, "");
  assert.deepEqual(lines(a.logPath).map(strip), lines(b.logPath).map(strip));
  assert.match(lines(b.logPath)[2], /"model":null,"prompt_preview":"p"}$/);
  assert.equal(
    lines(a.logPath)[3],
    '{"seq":4,"ts":"2026-11-23T22:41:46.5+00:00","zig_session_id":"a","type":"step_output","step_name":"plan","stream":"stderr","line":"é \\u0001 \\"x\\" \\\\"}',
  );
  a.close();
  b.close();
  assert.equal((await readSessionEvents(a.logPath)).length, 8);
});

Deno.test("unknown event types and unknown fields are written and read back unchanged", async () => {
  using tmp = tempDir();
  const w = testWriter(tmp.path, { tierCount: 0 });
  w.emit({ type: "agent_thought", text: "hmm", nested: { a: [1, 2] } });
  w.emit({ type: "heartbeat", interval_secs: 10, extra: "kept" } as never);
  w.close();
  const written = lines(w.logPath);
  assert.match(
    written[1],
    /"type":"agent_thought","text":"hmm","nested":\{"a":\[1,2\]\}\}$/,
  );
  assert.match(
    written[2],
    /"type":"heartbeat","interval_secs":10,"extra":"kept"\}$/,
  );
  const events = await readSessionEvents(w.logPath);
  assert.deepEqual(events.map((e) => JSON.stringify(e)), written);
});

Deno.test("a malformed known event is refused with the field named, and nothing is written", () => {
  using tmp = tempDir();
  const w = testWriter(tmp.path, { tierCount: 0 });
  const cases: Array<[unknown, RegExp]> = [
    [
      { type: "step_output", step_name: "s", stream: "stdin", line: "x" },
      /"stream" must be "stdout" or "stderr", got "stdin"/,
    ],
    [{
      type: "step_completed",
      step_name: "s",
      exit_code: 1.5,
      duration_ms: 1,
      saved_vars: [],
    }, /"exit_code" must be an integer, got 1.5/],
    [
      { type: "tier_started", tier_index: -1, step_names: [] },
      /"tier_index" must be a non-negative integer/,
    ],
    [
      { type: "heartbeat", seq: 3, interval_secs: 1 },
      /"seq" is set by the writer/,
    ],
    [{ step_name: "s" }, /"type" must be a non-empty string/],
  ];
  for (const [kind, message] of cases) {
    assert.throws(
      () => w.emit(kind as never),
      (e: unknown) =>
        e instanceof ZigError && e.kind === "parse" && message.test(e.message),
    );
  }
  assert.throws(
    () => w.stepOutput({ stepName: "s", stream: "x" as never, line: "l" }),
    /"stream" must be/,
  );
  assert.equal(lines(w.logPath).length, 1);
  w.close();
});

Deno.test("each event is in the file when the call returns, seq gapless from 1", () => {
  using tmp = tempDir();
  const w = testWriter(tmp.path);
  for (let i = 0; i < 100; i++) {
    const seq = w.stepOutput({
      stepName: "s",
      stream: "stdout",
      line: `line ${i}`,
    });
    const all = lines(w.logPath);
    assert.equal(all.length, seq);
    assert.equal(JSON.parse(all[seq - 1]).line, `line ${i}`);
  }
  assert.deepEqual(
    lines(w.logPath).map((l) => JSON.parse(l).seq),
    Array.from({ length: 101 }, (_, i) => i + 1),
  );
  w.ended("success", 3);
  assert.throws(
    () => w.heartbeat(),
    /writer is closed or the session has ended/,
  );
  const entry =
    loadProjectIndex(projectIndexPath(join(tmp.path, "projects", "p")))
      .sessions[0];
  assert.equal(entry.status, "success");
  assert.ok(entry.ended_at);
});

Deno.test("a long line with multi-byte characters is written whole", async () => {
  using tmp = tempDir();
  const w = testWriter(tmp.path);
  const line = "日本語🚀".repeat(100_000);
  w.stepOutput({ stepName: "s", stream: "stdout", line });
  w.close();
  const events = await readSessionEvents(w.logPath);
  assert.equal((events[1] as { line: string }).line, line);
});

Deno.test("a session id that is taken is refused, the existing log untouched", () => {
  using tmp = tempDir();
  const options = {
    zigHome: tmp.path,
    projectRoot: "/p",
    workflowName: "w",
    workflowPath: "w",
    tierCount: 1,
    createId: () => "same",
  };
  const w = SessionWriter.create(options);
  w.close();
  const before = Deno.readTextFileSync(w.logPath);
  assert.throws(
    () => SessionWriter.create(options),
    (e: unknown) => e instanceof ZigError && /already exists/.test(e.message),
  );
  assert.equal(Deno.readTextFileSync(w.logPath), before);
  assert.throws(
    () => SessionWriter.create({ ...options, createId: () => "../evil" }),
    /Invalid session id/,
  );
});

Deno.test("session ids name no other file: no separator, no leading dot, no ..", () => {
  using tmp = tempDir();
  for (const id of ["..", ".", ".hidden", "a/b", "a\\b", "", "a".repeat(201)]) {
    assert.throws(
      () =>
        SessionWriter.create({
          zigHome: tmp.path,
          projectRoot: "/p",
          workflowName: "w",
          workflowPath: "w",
          tierCount: 1,
          createId: () => id,
        }),
      (e: unknown) =>
        e instanceof ZigError &&
        e.message ===
          `Invalid session id "${id}": use letters, digits, ".", "_" and "-" only, not starting with ".", at most 200 characters`,
      id,
    );
  }
  assert.deepEqual([...Deno.readDirSync(tmp.path)], [], "nothing created");
});

Deno.test("a session is never created through a symbolic link that leads out of the zig home", () => {
  using tmp = tempDir();
  const home = join(tmp.path, "zig");
  const outside = join(tmp.path, "outside");
  Deno.mkdirSync(outside);
  const options = {
    zigHome: home,
    projectRoot: "/p",
    workflowName: "w",
    workflowPath: "w",
    tierCount: 1,
  };
  // The projects folder, then the sessions folder, leads outside.
  const projects = join(home, "projects");
  const sessions = join(home, "projects", "p", "logs", "sessions");
  for (const link of [projects, sessions]) {
    Deno.mkdirSync(dirname(link), { recursive: true });
    Deno.symlinkSync(outside, link);
    assert.throws(
      () => SessionWriter.create(options),
      (e: unknown) =>
        e instanceof ZigError && e.kind === "corrupt" &&
        e.message.startsWith(`Refusing "${sessions}": it resolves to "`) &&
        e.message.includes(`outside the zig home "${home}"`),
    );
    assert.deepEqual([...Deno.readDirSync(outside)], [], "nothing outside");
    Deno.removeSync(link);
  }
  // A zig home that is itself a link is fine: its files are inside it.
  const real = join(tmp.path, "real-home");
  Deno.mkdirSync(real);
  const linked = join(tmp.path, "linked-home");
  Deno.symlinkSync(real, linked);
  const w = SessionWriter.create({ ...options, zigHome: linked });
  w.close();
  assert.ok(w.logPath.startsWith(linked));
});

Deno.test("attached writers in several processes keep seq gapless and unique", async () => {
  using tmp = tempDir();
  const w = testWriter(tmp.path, { shared: true });
  const script = projectFile("tests/workers/append_attached.ts");
  const procs = Array.from(
    { length: 4 },
    (_, i) =>
      runDeno([
        ...RUN_WORKER,
        script,
        tmp.path,
        w.logPath,
        `p${i}`,
        "3000",
      ]),
  );
  // The creator keeps appending while the others do.
  for (let i = 0; i < 3000; i++) {
    w.stepOutput({ stepName: "main", stream: "stdout", line: `m${i}` });
    if (i % 10 === 0) await new Promise((r) => setTimeout(r, 1));
  }
  for (const p of await Promise.all(procs)) assert.equal(p.code, 0, p.stderr);
  w.ended("success", 1);
  const events = await readSessionEvents(w.logPath);
  assert.equal(events.length, 1 + 3000 * 5 + 1);
  // The processes really interleaved: some process's events are not contiguous.
  const owners = events.slice(1, -1).map((e) =>
    (e as { step_name: string }).step_name
  );
  const switches = owners.filter((o, i) => i > 0 && o !== owners[i - 1]).length;
  assert.ok(switches > 4, `only ${switches} switches between writers`);
  assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1));
});

Deno.test("attaching after a torn line ends it with a newline and reports it", async () => {
  using tmp = tempDir();
  const w = testWriter(tmp.path);
  w.heartbeat();
  w.close();
  Deno.writeTextFileSync(w.logPath, '{"seq":3,"ts":"2026', { append: true });
  const problems: SessionProblem[] = [];
  const a = SessionWriter.attach({
    zigHome: tmp.path,
    logPath: w.logPath,
    onProblem: (p) => problems.push(p),
  });
  assert.equal(a.sessionId, w.sessionId);
  assert.equal(a.heartbeat(), 3);
  a.close();
  assert.equal(problems.length, 1);
  assert.equal(problems[0].kind, "torn_line");
  const readProblems: SessionProblem[] = [];
  const events = await readSessionEvents(w.logPath, {
    onProblem: (p) => readProblems.push(p),
  });
  assert.deepEqual(events.map((e) => e.seq), [1, 2, 3]);
  assert.deepEqual(readProblems.map((p) => [p.kind, p.line]), [[
    "malformed_line",
    3,
  ]]);
});

Deno.test("a torn line longer than a read is reported where it starts", async () => {
  using tmp = tempDir();
  const w = testWriter(tmp.path);
  w.heartbeat();
  w.close();
  const start = Deno.statSync(w.logPath).size;
  appendLongEvent(w.logPath, {
    seq: 3,
    sessionId: w.sessionId,
    fill: 3 << 20,
    after: ',"cut short":[', // no valid event: a write cut short
    newline: false,
  });
  const problems: SessionProblem[] = [];
  const a = SessionWriter.attach({
    zigHome: tmp.path,
    logPath: w.logPath,
    onProblem: (p) => problems.push(p),
  });
  assert.equal(a.heartbeat(), 3);
  a.close();
  assert.deepEqual(problems.map((p) => [p.kind, p.offset]), [[
    "torn_line",
    start,
  ]]);
  assert.match(problems[0].message, new RegExp(`torn line at byte ${start}:`));
  const events = await readSessionEvents(w.logPath, { onProblem: () => {} });
  assert.deepEqual(events.map((e) => e.seq), [1, 2, 3]);
});

Deno.test("4 processes x 25 sessions in one project: every session in both indexes", async () => {
  using tmp = tempDir();
  const script = projectFile("tests/workers/create_sessions.ts");
  const results = await Promise.all(
    Array.from(
      { length: 4 },
      () =>
        runDeno([
          ...RUN_WORKER,
          script,
          tmp.path,
          "/src/shop",
          "25",
        ]),
    ),
  );
  const ids = new Set<string>();
  for (const r of results) {
    assert.equal(r.code, 0, r.stderr);
    for (const id of r.stdout.trim().split("\n")) ids.add(id);
  }
  assert.equal(ids.size, 100);
  const project =
    loadProjectIndex(projectIndexPath(join(tmp.path, "projects", "src-shop")))
      .sessions;
  const global = loadGlobalIndex(globalIndexPath(tmp.path)).sessions;
  for (const index of [project, global]) {
    assert.equal(index.length, 100);
    assert.deepEqual(new Set(index.map((e) => e.zig_session_id)), ids);
    assert.ok(
      index.every((e) => e.status === "success" && e.ended_at !== null),
    );
  }
});

Deno.test("a writer killed by SIGKILL leaves a readable log and parseable indexes", async () => {
  using tmp = tempDir();
  const script = projectFile("tests/workers/write_forever.ts");
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      ...RUN_WORKER,
      script,
      tmp.path,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  const { value } = await reader.read(); // the worker prints the log path once writing
  const logPath = new TextDecoder().decode(value).trim().split("\n")[0];
  await new Promise((r) => setTimeout(r, 300));
  child.kill("SIGKILL");
  const status = await child.status;
  assert.equal(status.signal, "SIGKILL");
  reader.releaseLock();
  await child.stdout.cancel();
  const problems: SessionProblem[] = [];
  const events = await readSessionEvents(logPath, {
    onProblem: (p) => problems.push(p),
  });
  assert.ok(events.length > 10, `only ${events.length} events`);
  assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1));
  assert.ok(problems.every((p) => p.kind === "torn_line"));
  const indexes = [
    loadProjectIndex(projectIndexPath(join(tmp.path, "projects", "src-shop"))),
    loadGlobalIndex(globalIndexPath(tmp.path)),
  ];
  for (const index of indexes) assert.ok(index.sessions.length >= 1);
});

function narrowSetup(root: string) {
  const repo = join(root, "src", "shop");
  const cwd = join(repo, "pkg");
  Deno.mkdirSync(join(repo, ".git"), { recursive: true });
  Deno.mkdirSync(cwd, { recursive: true });
  const home = join(root, "home");
  Deno.mkdirSync(home);
  // The .git candidates from cwd up to the repository root.
  const gitReads = [join(cwd, ".git"), join(repo, ".git")];
  return { repo, cwd, home, zig: join(home, ".zig"), gitReads };
}

async function runNarrow(
  cwd: string,
  env: Record<string, string>,
  flags: string[],
) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      ...flags,
      projectFile("tests/workers/narrow.ts"),
    ],
    cwd,
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout).trim(),
    stderr: decoder.decode(out.stderr),
  };
}

Deno.test("works with env, read and write narrowed to the zig home and the .git lookups", async () => {
  using tmp = tempDir();
  const { cwd, home, zig, gitReads } = narrowSetup(tmp.path);
  const r = await runNarrow(cwd, { HOME: home }, [
    "--allow-env=ZIG_HOME,HOME,USERPROFILE",
    `--allow-read=${[zig, ...gitReads].join(",")}`,
    `--allow-write=${zig}`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ok [0-9a-f-]{36} 1$/);
  const project = join(
    zig,
    "projects",
    sanitizeProjectPath(join(tmp.path, "src", "shop")),
  );
  assert.equal(
    loadProjectIndex(projectIndexPath(project)).sessions[0].status,
    "success",
  );
});

Deno.test("with write denied, the error names the permission to grant", async () => {
  using tmp = tempDir();
  const { cwd, home, zig, gitReads } = narrowSetup(tmp.path);
  const r = await runNarrow(cwd, { HOME: home }, [
    "--allow-env=ZIG_HOME,HOME,USERPROFILE",
    `--allow-read=${[zig, ...gitReads].join(",")}`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    new RegExp(
      `^permission: Cannot create a directory at ".*": write access is not granted, run again with --allow-write=${zig}$`,
    ),
  );
});

Deno.test("with the .git lookup denied, the error names the path to allow", async () => {
  using tmp = tempDir();
  const { cwd, home, zig } = narrowSetup(tmp.path);
  const r = await runNarrow(cwd, { HOME: home }, [
    "--allow-env=ZIG_HOME,HOME,USERPROFILE",
    `--allow-read=${zig}`,
    `--allow-write=${zig}`,
  ]);
  assert.match(
    r.stdout,
    new RegExp(
      `^permission: Cannot look for the git repository at "${
        join(cwd, ".git")
      }": read access is not granted, run again with --allow-read=${
        join(cwd, ".git")
      }$`,
    ),
  );
});

Deno.test("emitting zig_session_ended ends the session like ended()", () => {
  using tmp = tempDir();
  const w = testWriter(tmp.path);
  w.emit({ type: "zig_session_ended", status: "failure", duration_ms: 5 });
  assert.equal(w.open, false);
  const entry =
    loadProjectIndex(projectIndexPath(join(tmp.path, "projects", "p")))
      .sessions[0];
  assert.equal(entry.status, "failure");
});

Deno.test("a session gone from the indexes by its end is put back, and reported", () => {
  using tmp = tempDir();
  const w = testWriter(tmp.path, { workflowName: "lost" });
  const project = projectIndexPath(join(tmp.path, "projects", "p"));
  Deno.removeSync(project);
  Deno.writeTextFileSync(globalIndexPath(tmp.path), '{\n  "sessions": []\n}');
  const problems: SessionProblem[] = [];
  const onProblem = (p: SessionProblem) => problems.push(p);
  const again = SessionWriter.attach({
    zigHome: tmp.path,
    logPath: w.logPath,
    onProblem,
  });
  w.close();
  again.ended("success", 3);
  assert.equal(problems.length, 2);
  assert.match(
    problems[0].message,
    /was missing from the index .*: added it back from its log/,
  );
  for (
    const index of [
      loadProjectIndex(project),
      loadGlobalIndex(globalIndexPath(tmp.path)),
    ]
  ) {
    assert.equal(index.sessions.length, 1);
    assert.equal(index.sessions[0].workflow_name, "lost");
    assert.equal(index.sessions[0].status, "success");
  }
  // Put back with its keys in the order zig writes them, like any entry.
  const keys = (path: string) =>
    Object.keys(JSON.parse(Deno.readTextFileSync(path)).sessions[0]);
  assert.deepEqual(keys(project), [
    "zig_session_id",
    "workflow_name",
    "workflow_path",
    "log_path",
    "started_at",
    "ended_at",
    "status",
    "workspace_path",
  ]);
  assert.deepEqual(keys(globalIndexPath(tmp.path)), [
    "zig_session_id",
    "workflow_name",
    "project",
    "log_path",
    "started_at",
    "ended_at",
    "status",
  ]);
});

Deno.test("attaching to a file that is no session log is a corrupt error", () => {
  using tmp = tempDir();
  const path = join(tmp.path, "x.jsonl");
  Deno.writeTextFileSync(path, '{"seq":1,"type":"heartbeat"}\n');
  assert.throws(
    () => SessionWriter.attach({ zigHome: tmp.path, logPath: path }),
    (e: unknown) =>
      e instanceof ZigError && e.kind === "corrupt" && e.message.includes(path),
  );
  assert.throws(
    () =>
      SessionWriter.attach({
        zigHome: tmp.path,
        logPath: join(tmp.path, "none.jsonl"),
      }),
    (e: unknown) => e instanceof ZigError && e.kind === "not_found",
  );
});

Deno.test("a session whose first event is invalid is refused before any file is made", () => {
  using tmp = tempDir();
  assert.throws(
    () => testWriter(tmp.path, { tierCount: -1 }),
    (e: unknown) =>
      e instanceof ZigError &&
      /"tier_count" must be a non-negative integer, got -1/.test(e.message),
  );
  assert.deepEqual([...Deno.readDirSync(tmp.path)], []);
});

const strace = (() => {
  try {
    return new Deno.Command("strace", {
      args: ["-V"],
      stdout: "null",
      stderr: "null",
    }).outputSync().success;
  } catch {
    return false;
  }
})();
if (!strace) {
  console.log(
    "session_writer_test: skipping the write-call test: strace is not installed (apt-get install strace)",
  );
}

/**
 * The write calls to session logs (`*.jsonl`) in the output of `strace -f -e
 * trace=openat,close,write,...`: by file descriptor, so that no other file
 * (Deno caching the module's code, which holds the same text) counts; a call
 * that another thread interrupted (`<unfinished ...>`, `<... resumed>`) is
 * joined back into one line.
 */
function logWriteCalls(trace: string): string[] {
  const unfinished = new Map<string, string>();
  const logs = new Set<string>();
  const calls: string[] = [];
  for (const raw of trace.split("\n")) {
    const m = /^(\d+) +(.*)$/.exec(raw);
    if (!m) continue;
    const [, pid, rest] = m;
    let call = rest;
    if (call.endsWith(" <unfinished ...>")) {
      unfinished.set(pid, call.slice(0, -" <unfinished ...>".length));
      continue;
    }
    const resumed = /^<\.\.\. \w+ resumed>(.*)$/.exec(call);
    if (resumed) {
      call = (unfinished.get(pid) ?? "") + resumed[1];
      unfinished.delete(pid);
    }
    const opened = /^openat\(.*\.jsonl", .*\) = (\d+)$/.exec(call);
    if (opened) logs.add(opened[1]);
    const closed = /^close\((\d+)\)/.exec(call);
    if (closed) logs.delete(closed[1]);
    const write = /^(?:write|pwrite64|writev)\((\d+), /.exec(call);
    if (write && logs.has(write[1])) calls.push(call);
  }
  return calls;
}

Deno.test({
  name:
    "each event reaches the file in one write call, its newline included (strace)",
  ignore: !strace,
  async fn() {
    using tmp = tempDir();
    const trace = join(tmp.path, "trace.txt");
    const out = await new Deno.Command("strace", {
      args: [
        "-f",
        "-s",
        "1000000",
        "-e",
        "trace=openat,close,write,pwrite64,writev",
        "-o",
        trace,
        Deno.execPath(),
        ...RUN_WORKER,
        projectFile("tests/workers/write_events.ts"),
        tmp.path,
        "40",
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    // Calls that write events, not (say) Deno caching the worker's code.
    const writes = logWriteCalls(Deno.readTextFileSync(trace)).filter((l) =>
      l.includes('\\"type\\":\\"step_output\\"')
    );
    assert.equal(writes.length, 40, "one write call per event");
    for (const call of writes) {
      const m = /write\(\d+, "(.*)", (\d+)\) += (\d+)$/.exec(call);
      assert.ok(m, `not a whole write: ${call.slice(0, 120)}`);
      assert.ok(
        m[1].startsWith('{\\"seq\\":') && m[1].endsWith("}\\n"),
        "the whole line with its newline",
      );
      assert.equal(m[2], m[3], "written in full");
    }
  },
});

// ------------------------------------------------ only text zig can read

/** How the reference lists the project `repo` of the zig home `<home>/.zig`. */
async function referenceList(
  home: string,
  repo: string,
): Promise<unknown[] | undefined> {
  const { path } = referenceBinary();
  if (!path) return undefined;
  const out = await new Deno.Command(path, {
    args: ["list"],
    cwd: repo,
    env: { HOME: home },
    clearEnv: true,
    stdout: "piped",
  }).output();
  assert.equal(out.code, 0);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test("lone surrogates become U+FFFD in every string of every event and index entry", async () => {
  using tmp = tempDir();
  const repo = join(tmp.path, "repo");
  Deno.mkdirSync(join(repo, ".git"), { recursive: true });
  const home = join(tmp.path, ".zig");
  const hi = "\ud83d"; // half of an emoji
  const lo = "\ude00";
  const w = testWriter(home, {
    projectRoot: repo,
    workflowName: `wf${hi}`,
    workflowPath: `${lo}.zwf`,
    prompt: `p${hi}`,
    shared: true,
  });
  w.tierStarted(0, [`s${hi}`]);
  w.stepStarted({
    stepName: `s${hi}`,
    tierIndex: 0,
    zagSessionId: "z",
    zagCommand: `c${lo}`,
    model: `m${hi}`,
    promptPreview: `${"a".repeat(199)}${hi}`,
  });
  w.stepOutput({ stepName: `s${hi}`, stream: "stdout", line: `x${hi}y${lo}` });
  w.stepOutput({ stepName: "s", stream: "stderr", line: "ok 😀 \\ud83d" });
  w.stepFailed({ stepName: "s", exitCode: 1, attempt: 1, error: `e${lo}` });
  // Unknown fields of a known kind: the reference reads past them.
  w.emit({
    type: "step_skipped",
    step_name: "s",
    reason: `r${hi}`,
    nested: { deep: [`d${lo}`, { [`k${hi}`]: "v" }] },
  } as never);
  w.ended("success", 1);
  // An unknown kind (which the reference cannot read at all) in another log.
  const other = testWriter(home, { projectRoot: repo });
  other.emit({ type: "agent_thought", text: `t${hi}`, list: [`l${lo}`] });
  other.close();
  const otherText = Deno.readTextFileSync(other.logPath);
  assert.doesNotMatch(otherText, /\\ud[89a-f]/i);
  assert.match(otherText, /"text":"t\ufffd","list":\["l\ufffd"\]\}\n$/);

  const text = Deno.readTextFileSync(w.logPath);
  assert.doesNotMatch(text, /(?<!\\)(\\\\)*\\ud[89a-f]/i);
  assert.ok(text.isWellFormed());
  assert.ok(await assertReferenceReads(w.logPath) !== 0);
  const events = await readSessionEvents(w.logPath);
  const started = events[0];
  assert.ok(started.type === "zig_session_started");
  assert.equal(started.workflow_name, "wf\ufffd");
  assert.equal(started.workflow_path, "\ufffd.zwf");
  assert.equal(started.prompt, "p\ufffd");
  const step = events.find((e) => e.type === "step_started");
  assert.ok(step?.type === "step_started");
  assert.equal(step.prompt_preview, `${"a".repeat(199)}\ufffd`);
  assert.equal(step.zag_command, "c\ufffd");
  assert.equal(step.model, "m\ufffd");
  const outputs = events.flatMap((e) =>
    e.type === "step_output" ? [[e.step_name, e.line]] : []
  );
  // A well-formed pair and an escaped backslash stay as they were.
  assert.deepEqual(outputs, [["s\ufffd", "x\ufffdy\ufffd"], [
    "s",
    "ok 😀 \\ud83d",
  ]]);
  const skipped = events.find((e) =>
    e.type === "step_skipped"
  ) as unknown as Record<string, unknown>;
  assert.equal(skipped.reason, "r\ufffd");
  assert.deepEqual(skipped.nested, { deep: ["d\ufffd", { "k\ufffd": "v" }] });

  for (
    const index of [
      projectIndexPath(projectDir({ zigHome: home, projectRoot: repo })),
      globalIndexPath(home),
    ]
  ) {
    const raw = Deno.readTextFileSync(index);
    assert.doesNotMatch(raw, /\\ud[89a-f]/i, index);
    assert.match(raw, /"workflow_name": "wf\ufffd"/);
  }
  const listed = await referenceList(tmp.path, repo);
  if (listed) assert.equal(listed.length, 2, "the reference reads the index");
});

// ------------------------------------------------------------ full disks

for (const shared of [false, true]) {
  const name =
    `a short write on a full disk is cut back to the last complete line (${
      shared ? "shared" : "own"
    } writer)`;
  Deno.test(name, async () => {
    using disk = mountTmpfs("64k", name);
    if (!disk) return;
    const spare = join(disk.path, "spare"); // to free space later
    Deno.writeFileSync(spare, new Uint8Array(4 * PAGE));
    const w = testWriter(disk.path, {
      shared,
      clock: () => "2026-01-01T00:00:00.123456+00:00", // sizes that never vary
    });
    const line = "x".repeat(1000);
    let written = 0;
    let failure: unknown;
    try {
      for (;;) {
        w.stepOutput({ stepName: "s", stream: "stdout", line });
        written++;
      }
    } catch (error) {
      failure = error;
    }
    const text = Deno.readTextFileSync(w.logPath);
    assert.ok(text.endsWith("}\n"), "the log ends with a complete line");
    assert.equal(await assertReferenceReads(w.logPath) === 0, false);
    assert.ok(failure instanceof ZigError, String(failure));
    assert.match(
      failure.message,
      /No space left on device.*; removed the \d+ bytes of the event that were written/,
    );
    let events = await readSessionEvents(w.logPath);
    assert.equal(events.length, 1 + written);
    // Space again: the writer goes on where it was, seq without a gap.
    Deno.removeSync(spare);
    w.ended("failure", 1);
    events = await readSessionEvents(w.logPath);
    assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1));
    assert.equal(events.at(-1)?.type, "zig_session_ended");
  });
}

Deno.test("on a disk already full, create fails, says so and leaves no log", () => {
  const name = "on a disk already full, create fails";
  using disk = mountTmpfs("64k", name);
  if (!disk) return;
  fillUp(disk.path);
  let failure: unknown;
  try {
    testWriter(disk.path);
  } catch (error) {
    failure = error;
  }
  const sessions = join(disk.path, "projects", "p", "logs", "sessions");
  assert.deepEqual([...Deno.readDirSync(sessions)], [], "no log left");
  assert.ok(failure instanceof ZigError, String(failure));
  assert.match(
    failure.message,
    /No space left on device.*: session \S+ was not started and its log removed/,
  );
});

Deno.test("an index that cannot be written is reported; the session goes on and reindex restores it", async () => {
  const name = "an index that cannot be written is reported";
  using disk = mountTmpfs("64k", name);
  if (!disk) return;
  const filler = fillUp(disk.path, 1); // one page: the log's, none for an index
  const problems: SessionProblem[] = [];
  const w = testWriter(disk.path, { onProblem: (p) => problems.push(p) });
  w.stepOutput({ stepName: "s", stream: "stdout", line: "recorded" });
  w.ended("success", 1);
  const project = projectIndexPath(join(disk.path, "projects", "p"));
  assert.ok(problems.length >= 2, JSON.stringify(problems));
  for (const index of [project, globalIndexPath(disk.path)]) {
    const told = problems.filter((p) => p.path === index);
    assert.ok(told.length > 0, `the failure on ${index} is reported`);
    assert.ok(told.every((p) => p.kind === "index_not_updated"));
    assert.match(
      told[0].message,
      /is not up to date in the index .*No space left on device.*its log .* is the record, zig-session reindex brings the index up to date/,
    );
  }
  assert.ok(await assertReferenceReads(w.logPath) !== 0);
  const events = await readSessionEvents(w.logPath);
  assert.deepEqual(events.map((e) => e.type), [
    "zig_session_started",
    "step_output",
    "zig_session_ended",
  ]);
  Deno.removeSync(filler);
  rebuildIndex(project);
  const entry = loadProjectIndex(project).sessions[0];
  assert.equal(entry.zig_session_id, w.sessionId);
  assert.equal(entry.status, "success");
});

// ---------------------------------------------------- nothing after the end

Deno.test("appending to an ended session is refused under the log's lock", async () => {
  using tmp = tempDir();
  const first = testWriter(tmp.path, { shared: true });
  const second = SessionWriter.attach({
    zigHome: tmp.path,
    logPath: first.logPath,
  });
  second.stepOutput({ stepName: "s", stream: "stdout", line: "before" });
  first.ended("success", 1);
  const refused = (e: unknown) =>
    e instanceof ZigError &&
    /Cannot write to session \S+: it has already ended \(success\) in ".*", and nothing is written after a session's end/
      .test(e.message);
  assert.throws(
    () => second.stepOutput({ stepName: "s", stream: "stdout", line: "late" }),
    refused,
  );
  assert.equal(second.open, false, "the refused writer is closed");
  assert.throws(() => second.heartbeat(), /closed or the session has ended/);
  assert.throws(
    () => SessionWriter.attach({ zigHome: tmp.path, logPath: first.logPath }),
    refused,
  );
  const events = await readSessionEvents(first.logPath);
  assert.equal(events.at(-1)?.type, "zig_session_ended");
  assert.equal(events.length, 3);
});

Deno.test("a session whose log and entries were removed before its end was stamped ends without failing, and adds nothing back", () => {
  using tmp = tempDir();
  const problems: SessionProblem[] = [];
  const w = testWriter(tmp.path, {
    workflowName: "collected",
    onProblem: (p) => problems.push(p),
  });
  const project = projectIndexPath(join(tmp.path, "projects", "p"));
  // What gc --force does to an ended session, under the index locks: the
  // entries go and the log is deleted (this writer still has it open).
  const empty = '{\n  "sessions": []\n}';
  Deno.writeTextFileSync(project, empty);
  Deno.writeTextFileSync(globalIndexPath(tmp.path), empty);
  Deno.removeSync(w.logPath);
  w.ended("success", 3);
  assert.deepEqual(problems.map((p) => p.kind), [
    "vanished_log",
    "vanished_log",
  ]);
  assert.match(problems[0].message, /its log vanished .*left it out/);
  assert.deepEqual(loadProjectIndex(project).sessions, []);
  assert.deepEqual(loadGlobalIndex(globalIndexPath(tmp.path)).sessions, []);
});

// ---------------------------------------------------------------- batches

Deno.test("a batch is written whole when it returns: in order, seq gapless, one ts", () => {
  using tmp = tempDir();
  const w = testWriter(tmp.path);
  let inside: string[] = [];
  const seqs = w.batch(() => {
    const seqs = [
      w.heartbeat(),
      w.stepOutput({ stepName: "s", stream: "stdout", line: "one" }),
      w.emit({ type: "agent_thought", text: "a later kind" }),
      w.stepOutput({ stepName: "s", stream: "stderr", line: "two" }),
    ];
    inside = lines(w.logPath);
    return seqs;
  });
  assert.equal(inside.length, 1, "nothing is written before the batch ends");
  assert.deepEqual(seqs, [2, 3, 4, 5]);
  const events = lines(w.logPath).map((l) => JSON.parse(l));
  assert.deepEqual(events.map((e) => e.seq), [1, 2, 3, 4, 5]);
  assert.deepEqual(events.slice(1).map((e) => e.line ?? e.type), [
    "heartbeat",
    "one",
    "agent_thought",
    "two",
  ]);
  assert.equal(new Set(events.slice(1).map((e) => e.ts)).size, 1);
  assert.equal(w.batch(() => "nothing"), "nothing", "an empty batch");
  assert.equal(w.stepOutput({ stepName: "s", stream: "stdout", line: "x" }), 6);
  w.close();
});

Deno.test("a batch whose function throws or returns a promise writes nothing; its seq go to the next events", async () => {
  using tmp = tempDir();
  const w = testWriter(tmp.path, { shared: true });
  assert.throws(
    () =>
      w.batch(() => {
        w.stepOutput({ stepName: "s", stream: "stdout", line: "lost" });
        throw new Error("boom");
      }),
    /boom/,
  );
  assert.throws(
    () =>
      w.batch(() => {
        w.stepOutput({ stepName: "s", stream: "stdout", line: "lost too" });
        w.emit(
          { type: "step_output", step_name: "s", stream: "nope" } as never,
        );
      }),
    /"stream" must be "stdout" or "stderr"/,
  );
  assert.throws(
    () =>
      w.batch(async () => {
        w.stepOutput({ stepName: "s", stream: "stdout", line: "lost again" });
        await Promise.resolve();
      }),
    (e: unknown) =>
      e instanceof ZigError && e.kind === "parse" &&
      /its function returned a promise, and a batch's function must be synchronous/
        .test(e.message),
  );
  // A nested batch is part of the outer one; an error caught inside keeps
  // the rest of the batch.
  w.batch(() => {
    w.stepOutput({ stepName: "s", stream: "stdout", line: "kept 1" });
    w.batch(() =>
      w.stepOutput({ stepName: "s", stream: "stdout", line: "kept 2" })
    );
    assert.throws(() => w.tierStarted(-1, []), /tier_index/);
    w.stepOutput({ stepName: "s", stream: "stdout", line: "kept 3" });
  });
  // The lock was let go every time: another writer gets it at once.
  const other = SessionWriter.attach({ zigHome: tmp.path, logPath: w.logPath });
  assert.equal(other.heartbeat(), 5);
  other.close();
  w.close();
  const events = await readSessionEvents(w.logPath);
  assert.deepEqual(events.map((e) => e.seq), [1, 2, 3, 4, 5]);
  assert.deepEqual(
    events.flatMap((e) => e.type === "step_output" ? [e.line] : []),
    ["kept 1", "kept 2", "kept 3"],
  );
});

Deno.test("the end inside a batch writes the batch with it; events after it are refused", async () => {
  using tmp = tempDir();
  const w = testWriter(tmp.path);
  assert.throws(
    () =>
      w.batch(() => {
        w.stepOutput({ stepName: "s", stream: "stdout", line: "before" });
        w.ended("success", 5);
        assert.equal(lines(w.logPath).length, 3, "written with the end");
        w.stepOutput({ stepName: "s", stream: "stdout", line: "after" });
      }),
    /writer is closed or the session has ended/,
  );
  const events = await readSessionEvents(w.logPath);
  assert.deepEqual(events.map((e) => e.type), [
    "zig_session_started",
    "step_output",
    "zig_session_ended",
  ]);
  const entry =
    loadProjectIndex(projectIndexPath(join(tmp.path, "projects", "p")))
      .sessions[0];
  assert.equal(entry.status, "success");
  // Closing inside a batch writes what the batch holds first.
  const v = testWriter(tmp.path);
  v.batch(() => {
    v.stepOutput({ stepName: "s", stream: "stdout", line: "held" });
    v.close();
  });
  assert.equal(JSON.parse(lines(v.logPath)[1]).line, "held");
});

Deno.test("a batch of a shared writer is refused under the lock once the session has ended elsewhere", async () => {
  using tmp = tempDir();
  const first = testWriter(tmp.path, { shared: true });
  const second = SessionWriter.attach({
    zigHome: tmp.path,
    logPath: first.logPath,
  });
  first.ended("failure", 1);
  assert.throws(
    () =>
      second.batch(() => {
        for (const line of ["a", "b"]) {
          second.stepOutput({ stepName: "s", stream: "stdout", line });
        }
      }),
    /it has already ended \(failure\) .*nothing is written after a session's end/,
  );
  assert.equal(second.open, false);
  const events = await readSessionEvents(first.logPath);
  assert.deepEqual(events.map((e) => e.type), [
    "zig_session_started",
    "zig_session_ended",
  ]);
});

Deno.test("several processes batching into one shared session: seq gapless, every batch in one piece", async () => {
  using tmp = tempDir();
  const w = testWriter(tmp.path, { shared: true });
  const script = projectFile("tests/workers/append_batches.ts");
  const [batches, size] = [200, 25];
  const procs = Array.from(
    { length: 4 },
    (_, i) =>
      runDeno([
        ...RUN_WORKER,
        script,
        tmp.path,
        w.logPath,
        `p${i}`,
        String(batches),
        String(size),
      ]),
  );
  // The creator batches too, while the others do.
  for (let b = 0; b < batches; b++) {
    w.batch(() => {
      for (let i = 0; i < size; i++) {
        w.stepOutput({
          stepName: "main",
          stream: "stdout",
          line: `main ${b} ${i}`,
        });
      }
    });
    if (b % 10 === 0) await new Promise((r) => setTimeout(r, 1));
  }
  for (const p of await Promise.all(procs)) assert.equal(p.code, 0, p.stderr);
  w.ended("success", 1);
  assert.ok(await assertReferenceReads(w.logPath) !== 0);
  const events = await readSessionEvents(w.logPath);
  assert.equal(events.length, 1 + 5 * batches * size + 1);
  assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1));
  const outputs = events.flatMap((e) => e.type === "step_output" ? [e] : []);
  for (let at = 0; at < outputs.length; at += size) {
    const [name, batch] = outputs[at].line.split(" ");
    const expected = Array.from(
      { length: size },
      (_, i) => `${name} ${batch} ${i}`,
    );
    assert.deepEqual(
      outputs.slice(at, at + size).map((e) => e.line),
      expected,
      `batch ${batch} of ${name} is in one piece`,
    );
    assert.equal(
      new Set(outputs.slice(at, at + size).map((e) => e.ts)).size,
      1,
    );
  }
  const owners = outputs.map((e) => e.step_name);
  const switches = owners.filter((o, i) => i > 0 && o !== owners[i - 1]).length;
  assert.ok(switches > 4, `only ${switches} switches between writers`);
});

for (const shared of [false, true]) {
  const name = `a batch on a full disk is cut back whole (${
    shared ? "shared" : "own"
  } writer)`;
  Deno.test(name, async () => {
    using disk = mountTmpfs("64k", name);
    if (!disk) return;
    const spare = join(disk.path, "spare"); // to free space later
    Deno.writeFileSync(spare, new Uint8Array(4 * PAGE));
    const w = testWriter(disk.path, { shared });
    const size = 7;
    let batches = 0;
    let failure: unknown;
    try {
      for (;;) {
        w.batch(() => {
          for (let i = 0; i < size; i++) {
            w.stepOutput({
              stepName: "s",
              stream: "stdout",
              line: `${batches} ${i} ${"x".repeat(500)}`,
            });
          }
        });
        batches++;
      }
    } catch (error) {
      failure = error;
    }
    assert.ok(failure instanceof ZigError, String(failure));
    assert.match(
      failure.message,
      /No space left on device.*; removed the \d+ bytes of the batch of 7 events that were written/,
    );
    const text = Deno.readTextFileSync(w.logPath);
    assert.ok(text.endsWith("}\n"), "the log ends with a complete line");
    let events = await readSessionEvents(w.logPath);
    assert.equal(events.length, 1 + batches * size, "whole batches only");
    // Space again: the writer goes on where it was, seq without a gap.
    Deno.removeSync(spare);
    w.batch(() => {
      w.stepOutput({ stepName: "s", stream: "stdout", line: "after" });
      w.ended("failure", 1);
    });
    assert.ok(await assertReferenceReads(w.logPath) !== 0);
    events = await readSessionEvents(w.logPath);
    assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1));
    assert.equal(events.at(-1)?.type, "zig_session_ended");
  });
}

Deno.test("lone surrogates in a batch become U+FFFD", async () => {
  using tmp = tempDir();
  const hi = "\ud83d";
  const w = testWriter(tmp.path, { shared: true });
  w.batch(() => {
    w.stepOutput({ stepName: `s${hi}`, stream: "stdout", line: `x${hi}y` });
    w.stepOutput({ stepName: "s", stream: "stderr", line: `ok 😀 \\ud83d` });
    w.emit({ type: "agent_thought", text: `t${hi}`, list: [`l\ude00`] });
    w.stepFailed({ stepName: "s", exitCode: 1, attempt: 1, error: `e${hi}` });
  });
  w.close();
  const text = Deno.readTextFileSync(w.logPath);
  assert.ok(text.isWellFormed());
  assert.doesNotMatch(text, /(?<!\\)(\\\\)*\\ud[89a-f]/i);
  assert.match(text, /"text":"t\ufffd","list":\["l\ufffd"\]\}\n/);
  const events = await readSessionEvents(w.logPath);
  assert.deepEqual(
    events.flatMap((e) =>
      e.type === "step_output"
        ? [[e.step_name, e.line]]
        : e.type === "step_failed"
        ? [[e.step_name, e.error]]
        : []
    ),
    [["s\ufffd", "x\ufffdy"], ["s", "ok 😀 \\ud83d"], ["s", "e\ufffd"]],
  );
});

Deno.test({
  name: "each batch reaches the file in one write call, whole (strace)",
  ignore: !strace,
  async fn() {
    using tmp = tempDir();
    const trace = join(tmp.path, "trace.txt");
    const [batches, size] = [12, 30];
    const out = await new Deno.Command("strace", {
      args: [
        "-f",
        "-s",
        "10000000",
        "-e",
        "trace=openat,close,write,pwrite64,writev",
        "-o",
        trace,
        Deno.execPath(),
        ...RUN_WORKER,
        projectFile("tests/workers/write_batches.ts"),
        tmp.path,
        String(batches),
        String(size),
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const writes = logWriteCalls(Deno.readTextFileSync(trace)).filter((l) =>
      l.includes('\\"type\\":\\"step_output\\"')
    );
    assert.equal(writes.length, batches, "one write call per batch");
    for (const [b, call] of writes.entries()) {
      const m = /write\(\d+, "(.*)", (\d+)\) += (\d+)$/.exec(call);
      assert.ok(m, `not a whole write: ${call.slice(0, 120)}`);
      assert.equal(m[2], m[3], "written in full");
      const events = m[1].split("\\n");
      assert.equal(events.pop(), "", "ends with a newline");
      assert.equal(events.length, size, "every event of the batch");
      for (const [i, event] of events.entries()) {
        assert.ok(event.startsWith('{\\"seq\\":' + (2 + b * size + i) + ","));
        assert.ok(event.includes(`batch ${b} line ${i} `), event.slice(0, 200));
      }
    }
  },
});

Deno.test("stepOutput on the system clock writes what emit writes, whatever the line, in a batch or not", () => {
  using tmp = tempDir();
  const hi = "\ud83d";
  const names = ["plan", 'say "hi"', `s${hi}`, "日本"];
  const texts = [
    "",
    "plain",
    'é \u0001 "x" \\',
    "tab\tnew\nline\rcr",
    "\x7f del, \u2028 \u2029 separators, \u0000 nul",
    "😀 emoji 日本語",
    `lone ${hi} high, \ude00 low, reversed \ude00\ud83d`,
    "\\ud83d literally",
    "日本".repeat(50_000) + '"',
    "ends with a backslash \\",
    "tilde ~ and del \x7f, nothing to escape",
    "ascii, then é, then ascii",
    'ascii, then é, then a quote "',
    "ascii, then é, then a backslash \\ and more",
    "é, then a tab\t",
    `ascii, then a lone ${hi}`,
  ];
  const a = testWriter(tmp.path); // stepOutput, on the system clock
  const b = testWriter(tmp.path); // emit
  const events: Array<[string, "stdout" | "stderr", string]> = [];
  for (const [i, name] of names.entries()) {
    for (const text of texts) {
      events.push([name, i % 2 === 0 ? "stdout" : "stderr", text]);
    }
  }
  for (const [stepName, stream, line] of events) {
    a.stepOutput({ stepName, stream, line });
  }
  a.batch(() => {
    for (const [stepName, stream, line] of events) {
      a.stepOutput({ stepName, stream, line });
    }
  });
  for (const [step_name, stream, line] of [...events, ...events]) {
    b.emit({ type: "step_output", step_name, stream, line });
  }
  a.close();
  b.close();
  const strip = (l: string) =>
    l.replace(/^\{"seq":\d+,"ts":"[^"]+","zig_session_id":"[^"]+",/, "");
  const [ours, theirs] = [lines(a.logPath), lines(b.logPath)];
  assert.equal(ours.length, 1 + 2 * events.length);
  assert.deepEqual(ours.slice(1).map(strip), theirs.slice(1).map(strip));
  for (const [i, line] of ours.entries()) {
    const event = JSON.parse(line);
    assert.equal(event.seq, i + 1);
    assert.match(
      event.ts,
      /^\d{4}-\d\d-\d\dT[\d:]{8}(\.\d{3}|\.\d{6})?\+00:00$/,
    );
    assert.ok(line.startsWith(`{"seq":${i + 1},"ts":"${event.ts}",`));
  }
});

/** A clock that moves on by `stepMs` milliseconds at every reading. */
function steppingClock(stepMs: number): () => string {
  let ms = Date.parse("2026-11-23T22:41:46.000Z");
  return () => {
    const stamp = new Date(ms).toISOString().replace("Z", "+00:00");
    ms += stepMs;
    return stamp;
  };
}

Deno.test("ended(status) records the duration from started_at to the end event's ts, which is the indexes' ended_at", async () => {
  using tmp = tempDir();
  const writer = testWriter(tmp.path, { clock: steppingClock(7) });
  writer.tierStarted(0, ["plan"]);
  writer.ended("success");
  const events = await readSessionEvents(writer.logPath);
  const end = events.at(-1)!;
  assert.equal(end.type, "zig_session_ended");
  const project = loadProjectIndex(
    projectIndexPath(projectDir({ zigHome: tmp.path, projectRoot: "/p" })),
  ).sessions[0];
  const global = loadGlobalIndex(globalIndexPath(tmp.path)).sessions[0];
  // One instant ends the session: the event's ts is both indexes' ended_at.
  assert.equal(project.ended_at, end.ts);
  assert.equal(global.ended_at, end.ts);
  // started_at (the first reading), then the first event, the tier, the end:
  // three steps of 7 ms after started_at.
  assert.equal(
    end.type === "zig_session_ended" && end.duration_ms,
    Date.parse(end.ts) - Date.parse(project.started_at),
  );
  assert.equal(end.type === "zig_session_ended" && end.duration_ms, 21);
  // A caller's own figure is still recorded as given (zig's API).
  const own = testWriter(tmp.path, { clock: steppingClock(7) });
  own.ended("failure", 1234.4);
  const ownEnd = (await readSessionEvents(own.logPath)).at(-1)!;
  assert.equal(ownEnd.type === "zig_session_ended" && ownEnd.duration_ms, 1234);
});

Deno.test("an attached writer's ended(status) measures from the started_at it is given, else from the log's first event", async () => {
  using tmp = tempDir();
  const clock = steppingClock(10);
  const first = testWriter(tmp.path, { clock });
  first.close();
  const entry = loadGlobalIndex(globalIndexPath(tmp.path)).sessions[0];
  const given = SessionWriter.attach({
    zigHome: tmp.path,
    logPath: first.logPath,
    clock,
    startedAt: entry.started_at,
  });
  given.ended("success");
  const events = await readSessionEvents(first.logPath);
  const end = events.at(-1)!;
  assert.equal(
    end.type === "zig_session_ended" && end.duration_ms,
    Date.parse(end.ts) - Date.parse(entry.started_at),
  );
  assert.equal(
    loadGlobalIndex(globalIndexPath(tmp.path)).sessions[0].ended_at,
    end.ts,
  );

  const second = testWriter(tmp.path, { clock });
  second.close();
  const plain = SessionWriter.attach({
    zigHome: tmp.path,
    logPath: second.logPath,
    clock,
  });
  plain.ended("failure");
  const secondEvents = await readSessionEvents(second.logPath);
  const secondEnd = secondEvents.at(-1)!;
  assert.equal(
    secondEnd.type === "zig_session_ended" && secondEnd.duration_ms,
    Date.parse(secondEnd.ts) - Date.parse(secondEvents[0].ts),
  );
});

Deno.test("attaching to a log outside the zig home is refused: nothing is created beside it", () => {
  using tmp = tempDir();
  const home = join(tmp.path, "zig");
  const w = testWriter(home);
  const outside = join(tmp.path, "elsewhere", "logs", "sessions");
  Deno.mkdirSync(outside, { recursive: true });
  const copy = join(outside, `${w.sessionId}.jsonl`);
  Deno.copyFileSync(w.logPath, copy);
  assert.throws(
    () => SessionWriter.attach({ zigHome: home, logPath: copy }),
    (e: unknown) =>
      e instanceof ZigError && e.kind === "corrupt" &&
      e.message.includes("outside the zig home"),
  );
  // Its end would have stamped elsewhere/logs/index.json, under a lock there.
  assert.deepEqual(
    [...Deno.readDirSync(join(tmp.path, "elsewhere", "logs"))].map((e) =>
      e.name
    ),
    ["sessions"],
  );
  assert.equal(Deno.readTextFileSync(copy), Deno.readTextFileSync(w.logPath));
});
