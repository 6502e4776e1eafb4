import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import {
  globalIndexPath,
  loadGlobalIndex,
  loadProjectIndex,
  projectIndexPath,
  rebuildIndex,
  saveGlobalIndex,
  saveProjectIndex,
  SessionWriter,
  updateGlobalIndex,
  updateProjectIndex,
  ZigError,
} from "../mod.ts";
import type { SessionLogIndex, SessionProblem } from "../mod.ts";
import {
  copyFixtureHome,
  FIXTURE_HOME,
  FIXTURE_PROJECT,
  projectFile,
  RUN_WORKER,
  runDeno,
  tempDir,
} from "./_helpers.ts";

Deno.test("the reference's indexes load with every field intact", () => {
  const project = loadProjectIndex(projectIndexPath(FIXTURE_PROJECT));
  assert.equal(project.sessions.length, 4);
  assert.deepEqual(project.sessions[2], {
    zig_session_id: "181f613a-2887-417d-8246-5b15c35d4640",
    workflow_name: "wf-running",
    workflow_path: "/work/flows/running.zwf",
    log_path:
      "/home/ada/.zig/projects/home-ada-src-shop/logs/sessions/181f613a-2887-417d-8246-5b15c35d4640.jsonl",
    started_at: "2026-11-23T22:41:46.439339480+00:00",
    ended_at: null,
    status: null,
    workspace_path: "/home/ada/.zig/projects/home-ada-src-shop",
  });
  const global = loadGlobalIndex(globalIndexPath(FIXTURE_HOME));
  assert.deepEqual(
    global.sessions.map((s) => [s.workflow_name, s.status, s.project]),
    [
      ["wf-success", "success", "/home/ada/.zig/projects/home-ada-src-shop"],
      ["wf-failure", "failure", "/home/ada/.zig/projects/home-ada-src-shop"],
      ["wf-running", null, "/home/ada/.zig/projects/home-ada-src-shop"],
      ["wf-dropped", "failure", "/home/ada/.zig/projects/home-ada-src-shop"],
      ["wf-success", "success", "/home/ada/.zig"],
    ],
  );
});

Deno.test("saving what was loaded writes the reference's bytes again", () => {
  using tmp = tempDir();
  const home = copyFixtureHome(tmp.path);
  for (
    const path of [
      projectIndexPath(join(home, "projects", "home-ada-src-shop")),
      projectIndexPath(home),
    ]
  ) {
    const before = Deno.readTextFileSync(path);
    saveProjectIndex(path, loadProjectIndex(path));
    assert.equal(Deno.readTextFileSync(path), before);
  }
  const global = globalIndexPath(home);
  const before = Deno.readTextFileSync(global);
  saveGlobalIndex(global, loadGlobalIndex(global));
  assert.equal(Deno.readTextFileSync(global), before);
});

Deno.test("fields older versions left out read as null; unknown fields survive", () => {
  using tmp = tempDir();
  const path = join(tmp.path, "logs", "index.json");
  Deno.mkdirSync(join(tmp.path, "logs"));
  Deno.writeTextFileSync(
    path,
    JSON.stringify({
      sessions: [{
        zig_session_id: "a",
        workflow_name: "w",
        workflow_path: "p",
        log_path: "l",
        started_at: "t",
        note: "mine",
      }],
      version: 2,
    }),
  );
  const index = loadProjectIndex(path) as SessionLogIndex & { version: number };
  assert.equal(index.sessions[0].ended_at, null);
  assert.equal(index.sessions[0].status, null);
  assert.equal(index.sessions[0].workspace_path, null);
  assert.equal(index.version, 2);
  updateProjectIndex(path, { update() {} });
  const raw = JSON.parse(Deno.readTextFileSync(path));
  assert.equal(raw.sessions[0].note, "mine");
  assert.equal(raw.version, 2);
  assert.equal(raw.sessions[0].ended_at, null);
});

Deno.test("a corrupt index is moved aside, never overwritten, and rebuilt from the logs", () => {
  using tmp = tempDir();
  const home = copyFixtureHome(tmp.path);
  const project = join(home, "projects", "home-ada-src-shop");
  const path = projectIndexPath(project);
  const torn = Deno.readTextFileSync(path).slice(0, 700); // a write cut short
  Deno.writeTextFileSync(path, torn);
  const problems: SessionProblem[] = [];
  const index = loadProjectIndex(path, { onProblem: (p) => problems.push(p) });
  assert.equal(problems.length, 1);
  assert.equal(problems[0].kind, "corrupt_index");
  assert.match(problems[0].message, /did not parse/);
  assert.equal(Deno.readTextFileSync(problems[0].movedTo!), torn);
  assert.match(
    problems[0].movedTo!,
    /index\.json\.corrupt-\d{8}T\d{6}-\d{3}Z$/,
  );
  // Rebuilt from the four logs, in start order, pointing at where they are now.
  assert.deepEqual(index.sessions.map((s) => [s.workflow_name, s.status]), [
    ["wf-success", "success"],
    ["wf-failure", "failure"],
    ["wf-running", null],
    ["wf-dropped", "failure"],
  ]);
  assert.ok(index.sessions.every((s) => s.log_path.startsWith(project)));
  assert.deepEqual(loadProjectIndex(path), index); // and saved
});

Deno.test("a writer facing a corrupt global index keeps every session", () => {
  using tmp = tempDir();
  const home = copyFixtureHome(tmp.path);
  Deno.writeTextFileSync(globalIndexPath(home), "");
  const problems: SessionProblem[] = [];
  const w = SessionWriter.create({
    zigHome: home,
    projectRoot: "/home/ada/src/shop",
    workflowName: "new",
    workflowPath: "n",
    tierCount: 1,
    onProblem: (p) => problems.push(p),
  });
  w.ended("success", 1);
  assert.deepEqual(problems.map((p) => p.kind), ["corrupt_index"]);
  const global = loadGlobalIndex(globalIndexPath(home)).sessions;
  assert.equal(global.length, 6);
  assert.equal(global.at(-1)?.zig_session_id, w.sessionId);
  assert.equal(global.at(-1)?.status, "success");
});

Deno.test("an index with the wrong shape counts as corrupt", () => {
  using tmp = tempDir();
  const path = join(tmp.path, "sessions_index.json");
  Deno.writeTextFileSync(path, '{"sessions":[{"zig_session_id":1}]}');
  const problems: SessionProblem[] = [];
  loadGlobalIndex(path, { onProblem: (p) => problems.push(p) });
  assert.match(problems[0].message, /session 1 has no string "zig_session_id"/);
});

Deno.test("rebuilding the global index finds every project's logs", () => {
  using tmp = tempDir();
  const home = copyFixtureHome(tmp.path);
  const index = rebuildIndex(globalIndexPath(home));
  const expected =
    loadGlobalIndex(join(FIXTURE_HOME, "sessions_index.json")).sessions;
  assert.deepEqual(
    index.sessions.map((s) => s.zig_session_id),
    expected.map((s) => s.zig_session_id),
  );
  const byId = new Map(index.sessions.map((s) => [s.zig_session_id, s]));
  for (const e of expected) {
    const r = byId.get(e.zig_session_id)!;
    assert.equal(r.status, e.status);
    assert.equal((r as { project: string }).project, e.project);
    assert.equal(r.ended_at === null, e.ended_at === null);
  }
  assert.throws(() => rebuildIndex(join(home, "other.json")), ZigError);
});

Deno.test("updates under the lock see each other's changes", () => {
  using tmp = tempDir();
  const path = globalIndexPath(tmp.path);
  for (let i = 0; i < 5; i++) {
    updateGlobalIndex(path, {
      update(index) {
        index.sessions.push({
          zig_session_id: `s${i}`,
          workflow_name: "w",
          project: "",
          log_path: "l",
          started_at: "t",
          ended_at: null,
          status: null,
        });
      },
    });
  }
  assert.equal(loadGlobalIndex(path).sessions.length, 5);
  // Splicing entries into the text gives what serializing the whole index gives.
  const text = Deno.readTextFileSync(path);
  assert.equal(text, JSON.stringify(loadGlobalIndex(path), null, 2));
});

Deno.test("entries spliced in and stamped match a full serialization", () => {
  using tmp = tempDir();
  const writers = Array.from(
    { length: 3 },
    (_, i) =>
      SessionWriter.create({
        zigHome: tmp.path,
        projectRoot: "/p",
        workflowName: `w${i}`,
        workflowPath: "w",
        prompt: 'q"\n',
        tierCount: 1,
      }),
  );
  writers[1].ended("failure", 2);
  writers[0].ended("success", 2);
  for (
    const path of [
      globalIndexPath(tmp.path),
      projectIndexPath(join(tmp.path, "projects", "p")),
    ]
  ) {
    const text = Deno.readTextFileSync(path);
    assert.equal(text, JSON.stringify(JSON.parse(text), null, 2));
    const statuses = JSON.parse(text).sessions.map((s: { status: string }) =>
      s.status
    );
    assert.deepEqual(statuses, ["success", "failure", null]);
  }
  writers[2].close();
});

Deno.test("a lock file that is a symbolic link is refused with a clear error, and nothing is created or changed through it", () => {
  using tmp = tempDir();
  const index = join(tmp.path, "zig", "logs", "index.json");
  Deno.mkdirSync(dirname(index), { recursive: true });
  const outside = join(tmp.path, "outside");
  Deno.mkdirSync(outside);
  const existing = join(outside, "existing");
  Deno.writeTextFileSync(existing, "untouched");
  const mtime = Deno.statSync(existing).mtime;
  // Dangling (its target's folder exists), then to an existing file.
  for (const target of [join(outside, "made.lock"), existing]) {
    Deno.symlinkSync(target, `${index}.lock`);
    assert.throws(
      () => updateProjectIndex(index, { update() {} }),
      (e) =>
        e instanceof ZigError && e.kind === "io" &&
        e.message ===
          `Cannot use the lock file "${index}.lock": it is a symbolic link, and lock files are never opened through one; remove it (no process needs it while no zig-session command runs)`,
    );
    Deno.removeSync(`${index}.lock`);
  }
  assert.deepEqual([...Deno.readDirSync(outside)].map((e) => e.name), [
    "existing",
  ]);
  assert.equal(Deno.readTextFileSync(existing), "untouched");
  assert.deepEqual(Deno.statSync(existing).mtime, mtime);
  assert.equal(existsSync(index), false, "the command never ran");
});

Deno.test("a lock file that is a directory is refused with a clear error", () => {
  using tmp = tempDir();
  const index = join(tmp.path, "logs", "index.json");
  Deno.mkdirSync(`${index}.lock`, { recursive: true });
  assert.throws(
    () => rebuildIndex(index),
    (e) =>
      e instanceof ZigError && e.kind === "io" &&
      e.message ===
        `Cannot use the lock file "${index}.lock": it is a directory; remove it (no process needs it while no zig-session command runs)`,
  );
});

Deno.test("a symbolic link at an index's temporary name is never written through", async () => {
  using tmp = tempDir();
  const index = join(tmp.path, "logs", "index.json");
  Deno.mkdirSync(dirname(index), { recursive: true });
  const target = join(tmp.path, "outside.txt");
  Deno.writeTextFileSync(target, "untouched");
  const r = await runDeno([
    ...RUN_WORKER,
    projectFile("tests/workers/save_through_temp_link.ts"),
    index,
    target,
  ]);
  assert.equal(r.code, 0, r.stderr);
  // The link is taken for a dead writer's leftover: removed, never followed;
  // the index is written under a new name and renamed into place.
  assert.equal(r.stdout, "ok\n");
  assert.equal(Deno.readTextFileSync(target), "untouched");
  assert.equal(Deno.lstatSync(index).isFile, true);
  assert.deepEqual(JSON.parse(Deno.readTextFileSync(index)), { sessions: [] });
  assert.deepEqual(
    [...Deno.readDirSync(dirname(index))].map((e) => e.name).sort(),
    ["index.json", "index.json.lock"],
  );
});

function existsSync(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("an index that a symbolic link leads out of the zig home is neither read nor written through", () => {
  using tmp = tempDir();
  const home = join(tmp.path, "zig");
  const outside = join(tmp.path, "outside");
  Deno.mkdirSync(join(outside, "logs"), { recursive: true });
  Deno.mkdirSync(home);
  const secret = join(outside, "secret.json");
  Deno.writeTextFileSync(secret, "root:x:0:0:SECRET\n");
  Deno.symlinkSync(secret, globalIndexPath(home));
  Deno.symlinkSync(join(outside, "logs"), join(home, "logs"));
  const before = [...Deno.readDirSync(outside)].map((e) => e.name).sort();
  const problems: SessionProblem[] = [];
  const onProblem = (p: SessionProblem) => problems.push(p);
  const refused = (path: string) => (e: unknown) =>
    e instanceof ZigError && e.kind === "corrupt" &&
    e.message.startsWith(`Refusing "${path}": it resolves to "${outside}`) &&
    !e.message.includes("SECRET");
  const global = globalIndexPath(home);
  const project = projectIndexPath(home);
  assert.throws(() => loadGlobalIndex(global, { onProblem }), refused(global));
  assert.throws(
    () => updateGlobalIndex(global, { onProblem, update() {} }),
    refused(global),
  );
  assert.throws(() => rebuildIndex(global), refused(global));
  assert.throws(() => loadProjectIndex(project), refused(project));
  assert.throws(
    () => saveProjectIndex(project, { sessions: [] }),
    refused(project),
  );
  assert.throws(
    () =>
      SessionWriter.create({
        zigHome: home,
        projectRoot: undefined,
        cwd: tmp.path,
        workflowName: "w",
        workflowPath: "w",
        tierCount: 1,
      }),
    (e) => e instanceof ZigError && e.kind === "corrupt",
  );
  assert.deepEqual(problems, []);
  assert.deepEqual(
    [...Deno.readDirSync(outside)].map((e) => e.name).sort(),
    before,
  );
  assert.deepEqual([...Deno.readDirSync(join(outside, "logs"))], []);
  assert.equal(Deno.readTextFileSync(secret), "root:x:0:0:SECRET\n");
});

Deno.test("a rebuild removes the pending markers it resolved and old ones without a log; a young one may belong to a live writer", () => {
  using tmp = tempDir();
  const w = SessionWriter.create({
    zigHome: tmp.path,
    projectRoot: "/p",
    workflowName: "w",
    workflowPath: "w",
    tierCount: 1,
  });
  const path = projectIndexPath(join(tmp.path, "projects", "p"));
  const marker = (id: string) => `${path}.pending-${id}`;
  const resolved = marker(w.sessionId);
  Deno.writeTextFileSync(resolved, w.logPath);
  const old = marker("killed-before-its-log");
  Deno.writeTextFileSync(old, "");
  const longAgo = new Date(Date.now() - 5 * 60_000);
  Deno.utimeSync(old, longAgo, longAgo);
  const young = marker("being-created");
  Deno.writeTextFileSync(young, "");
  rebuildIndex(path);
  const left = (p: string) => {
    try {
      Deno.statSync(p);
      return true;
    } catch {
      return false;
    }
  };
  assert.deepEqual([resolved, old, young].map(left), [false, false, true]);
});

Deno.test("rebuilding a corrupt index keeps its bytes aside first, as every recovery does", () => {
  using tmp = tempDir();
  const home = copyFixtureHome(tmp.path);
  const path = projectIndexPath(join(home, "projects", "home-ada-src-shop"));
  const torn = Deno.readTextFileSync(path).slice(0, 700);
  Deno.writeTextFileSync(path, torn);
  const problems: SessionProblem[] = [];
  const index = rebuildIndex(path, { onProblem: (p) => problems.push(p) });
  assert.equal(index.sessions.length, 4);
  assert.deepEqual(problems.map((p) => p.kind), ["corrupt_index"]);
  assert.equal(Deno.readTextFileSync(problems[0].movedTo!), torn);
});

Deno.test("a rebuild keeps the entry of a session whose log is still there but whose first line is damaged", () => {
  using tmp = tempDir();
  const home = join(tmp.path, "zig");
  const where = { zigHome: home, projectRoot: "/p" };
  const damaged = SessionWriter.create({
    ...where,
    workflowName: "damaged",
    workflowPath: "d",
    tierCount: 1,
  });
  damaged.ended("success", 1);
  const kept = SessionWriter.create({
    ...where,
    workflowName: "kept",
    workflowPath: "k",
    tierCount: 1,
  });
  kept.ended("success", 1);
  // One byte of the first line flipped: the log is still there, and its
  // later events still read.
  const bytes = Deno.readFileSync(damaged.logPath);
  bytes[0] = 0;
  Deno.writeFileSync(damaged.logPath, bytes);
  const project = projectIndexPath(join(home, "projects", "p"));
  for (const path of [project, globalIndexPath(home)]) {
    const before = (path === project ? loadProjectIndex : loadGlobalIndex)(path)
      .sessions.find((e) => e.zig_session_id === damaged.sessionId);
    const index = rebuildIndex(path);
    const after = index.sessions.find((e) =>
      e.zig_session_id === damaged.sessionId
    );
    assert.deepEqual(after, before, path);
    assert.equal(index.sessions.length, 2);
  }
});

Deno.test("an index with bytes that are not UTF-8 is corrupt: kept aside byte for byte, never rewritten with U+FFFD", () => {
  using tmp = tempDir();
  const home = join(tmp.path, "zig");
  const w = SessionWriter.create({
    zigHome: home,
    projectRoot: "/p",
    workflowName: "caf",
    workflowPath: "c",
    tierCount: 1,
  });
  w.ended("success", 1);
  const path = projectIndexPath(join(home, "projects", "p"));
  const text = Deno.readTextFileSync(path);
  const at = new TextEncoder().encode(text.slice(0, text.indexOf('"caf"') + 4))
    .length;
  const bytes = new TextEncoder().encode(text.replace('"caf"', '"caf?"'));
  bytes[at] = 0xe9; // Latin-1 é: zig cannot read this index
  Deno.writeFileSync(path, bytes);
  const problems: SessionProblem[] = [];
  const index = loadProjectIndex(path, { onProblem: (p) => problems.push(p) });
  assert.deepEqual(problems.map((p) => p.kind), ["corrupt_index"]);
  assert.match(problems[0].message, /not valid UTF-8 \(byte \d+\)/);
  assert.deepEqual(Deno.readFileSync(problems[0].movedTo!), bytes);
  assert.deepEqual(index.sessions.map((e) => e.workflow_name), ["caf"]);
  new TextDecoder("utf-8", { fatal: true }).decode(Deno.readFileSync(path));
});
