import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import {
  globalIndexPath,
  listSessions,
  loadGlobalIndex,
  loadProjectIndex,
  projectDir,
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
  writeBulkLogs,
} from "./_helpers.ts";
import { referenceBinary } from "./_reference.ts";
import { fillUp, mountTmpfs } from "./_tmpfs.ts";

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

/*
 * A writer patches the tail of an index over 64 KiB: it checks the head and
 * the last 64 KiB, copies the rest unread and renames the copy over the index.
 */

/** The last 64 KiB of an index, which a writer checks before patching it. */
const TAIL = 64 * 1024;
const CLOSING = "\n  ]\n}";

/**
 * A zig home with `count` ended sessions of the project /src/shop (their logs
 * and both indexes, rebuilt from them), each index well over the tail.
 */
function largeHome(root: string, count = 500) {
  const home = join(root, ".zig");
  const project = join(home, "projects", "src-shop");
  const ids = writeBulkLogs(project, { count });
  const indexes = [projectIndexPath(project), globalIndexPath(home)];
  for (const path of indexes) {
    rebuildIndex(path);
    assert.ok(Deno.statSync(path).size > 2 * TAIL);
  }
  return { home, ids, indexes };
}

function startAndEnd(
  home: string,
  options: { onProblem?: (p: SessionProblem) => void; projectRoot?: string },
): SessionWriter {
  const writer = SessionWriter.create({
    zigHome: home,
    projectRoot: options.projectRoot ?? "/src/shop",
    workflowName: "new",
    workflowPath: "new.zwf",
    tierCount: 1,
    onProblem: options.onProblem,
  });
  writer.ended("success", 5);
  return writer;
}

/** Whether index text is exactly what zig writes for what it holds. */
function assertZigBytes(text: string): void {
  assert.equal(text, JSON.stringify(JSON.parse(text), null, 2));
}

Deno.test("a large index the reference wrote is patched at its tail in zig's bytes, and the reference lists it", async () => {
  const { path: reference, why } = referenceBinary();
  if (!reference) {
    if (Deno.env.get("CI")) throw new Error(why);
    console.log(`skipped: ${why}`);
    return;
  }
  using tmp = tempDir();
  const repo = join(tmp.path, "repo");
  Deno.mkdirSync(join(repo, ".git"), { recursive: true });
  const runReference = (args: string[]) =>
    new Deno.Command(reference, {
      args,
      cwd: repo,
      env: { HOME: tmp.path },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
  // The reference writes 600 ended sessions in both indexes, then one of its own.
  const bench = await runReference(["index-bench", "600"]);
  assert.equal(bench.code, 0, new TextDecoder().decode(bench.stderr));
  const home = join(tmp.path, ".zig");
  const indexes = [
    projectIndexPath(projectDir({ zigHome: home, projectRoot: repo })),
    globalIndexPath(home),
  ];
  const before = indexes.map((path) => Deno.readTextFileSync(path));
  for (const text of before) assert.ok(text.length > 2 * TAIL);
  const problems: SessionProblem[] = [];
  const writer = startAndEnd(home, {
    projectRoot: repo,
    onProblem: (p) => problems.push(p),
  });
  assert.deepEqual(problems, []);
  for (const [i, path] of indexes.entries()) {
    const text = Deno.readTextFileSync(path);
    assertZigBytes(text);
    // The reference's bytes up to its closing, then our entry's block.
    assert.ok(text.startsWith(before[i].slice(0, -CLOSING.length) + ",\n"));
    const sessions = JSON.parse(text).sessions;
    assert.equal(sessions.length, 602);
    assert.equal(sessions.at(-1).zig_session_id, writer.sessionId);
    assert.equal(sessions.at(-1).status, "success");
    assert.equal(typeof sessions.at(-1).ended_at, "string");
  }
  const list = await runReference(["list"]);
  const listed = JSON.parse(new TextDecoder().decode(list.stdout));
  assert.equal(list.code, 0, JSON.stringify(listed));
  assert.equal(listed.length, 602);
  assert.deepEqual(
    listed.at(-1),
    JSON.parse(Deno.readTextFileSync(indexes[0])).sessions.at(-1),
  );
});

Deno.test("corruption before a large index's tail is carried by writers and caught by the next list: kept aside, rebuilt, nothing lost", () => {
  using tmp = tempDir();
  const { home, ids, indexes } = largeHome(tmp.path);
  // A quote gone in the first entry: the index no longer parses.
  for (const path of indexes) {
    const text = Deno.readTextFileSync(path);
    const at = text.indexOf('"workflow_name"');
    assert.ok(at < 1000);
    Deno.writeTextFileSync(path, text.slice(0, at) + text.slice(at + 1));
  }
  const problems: SessionProblem[] = [];
  const writer = startAndEnd(home, { onProblem: (p) => problems.push(p) });
  // The writers read only the head and the tail: they did not see it.
  assert.deepEqual(problems, []);
  const carried = indexes.map((path) => Deno.readTextFileSync(path));
  for (const text of carried) {
    assert.throws(() => JSON.parse(text), SyntaxError);
    assert.ok(text.includes(`\n      workflow_name"`));
    // ...and the new session, ended, as the last block.
    const last = text.slice(text.lastIndexOf("\n    {") + 1, -CLOSING.length);
    assert.equal(JSON.parse(last).zig_session_id, writer.sessionId);
    assert.equal(JSON.parse(last).status, "success");
  }
  // The next list parses the whole index: kept aside, rebuilt from the logs.
  const seen: SessionProblem[] = [];
  const onProblem = (p: SessionProblem) => seen.push(p);
  const listed = listSessions({
    zigHome: home,
    projectRoot: "/src/shop",
    onProblem,
  });
  const global = loadGlobalIndex(indexes[1], { onProblem }).sessions;
  assert.deepEqual(seen.map((p) => [p.kind, p.path]), [
    ["corrupt_index", indexes[0]],
    ["corrupt_index", indexes[1]],
  ]);
  for (const [i, problem] of seen.entries()) {
    assert.equal(Deno.readTextFileSync(problem.movedTo!), carried[i]);
  }
  for (const sessions of [listed, global]) {
    assert.deepEqual(
      sessions.map((s) => s.zig_session_id),
      [...ids, writer.sessionId],
    );
    assert.equal(sessions.at(-1)?.status, "success");
  }
  for (const path of indexes) assertZigBytes(Deno.readTextFileSync(path));
});

Deno.test("corruption in a large index's tail is caught by the writer: kept aside, rebuilt, the new session in it", () => {
  using tmp = tempDir();
  const { home, ids, indexes } = largeHome(tmp.path);
  const text = Deno.readTextFileSync(indexes[0]);
  const at = text.lastIndexOf('"log_path"'); // in the last entry
  const corrupt = text.slice(0, at) + text.slice(at + 1);
  Deno.writeTextFileSync(indexes[0], corrupt);
  const problems: SessionProblem[] = [];
  const writer = startAndEnd(home, { onProblem: (p) => problems.push(p) });
  assert.deepEqual(problems.map((p) => [p.kind, p.path]), [
    ["corrupt_index", indexes[0]],
  ]);
  assert.equal(Deno.readTextFileSync(problems[0].movedTo!), corrupt);
  for (const path of indexes) {
    const text = Deno.readTextFileSync(path);
    assertZigBytes(text);
    const sessions = JSON.parse(text).sessions;
    assert.deepEqual(
      sessions.map((s: { zig_session_id: string }) => s.zig_session_id),
      [...ids, writer.sessionId],
    );
    assert.equal(sessions.at(-1).status, "success");
  }
});

Deno.test("a session whose entry is no longer in a large index's tail is stamped through the whole index", () => {
  using tmp = tempDir();
  const home = join(tmp.path, ".zig");
  const indexes = [
    projectIndexPath(join(home, "projects", "src-shop")),
    globalIndexPath(home),
  ];
  const writer = SessionWriter.create({
    zigHome: home,
    projectRoot: "/src/shop",
    workflowName: "long",
    workflowPath: "long.zwf",
    tierCount: 1,
  });
  // 500 sessions start after it: more than the tail a writer checks.
  const later = (i: number) => ({
    zig_session_id: `later-${i}`,
    workflow_name: "later",
    log_path: `/elsewhere/later-${i}.jsonl`,
    started_at: "2030-01-01T00:00:00Z",
    ended_at: null,
    status: null,
  });
  updateProjectIndex(indexes[0], {
    update(index) {
      for (let i = 0; i < 500; i++) {
        index.sessions.push({
          ...later(i),
          workflow_path: "later.zwf",
          workspace_path: "/src/shop",
        });
      }
    },
  });
  updateGlobalIndex(indexes[1], {
    update(index) {
      for (let i = 0; i < 500; i++) {
        index.sessions.push({ ...later(i), project: "/src/shop" });
      }
    },
  });
  for (const path of indexes) {
    const text = Deno.readTextFileSync(path);
    assert.ok(text.length - text.indexOf(writer.sessionId) > TAIL);
  }
  writer.ended("failure", 7);
  for (const path of indexes) {
    const text = Deno.readTextFileSync(path);
    assertZigBytes(text);
    const sessions = JSON.parse(text).sessions;
    assert.equal(sessions.length, 501);
    const entry = sessions[0];
    assert.equal(entry.zig_session_id, writer.sessionId);
    assert.equal(entry.status, "failure");
    assert.equal(typeof entry.ended_at, "string");
    assert.ok(
      sessions.slice(1).every((s: { status: null }) => s.status === null),
    );
  }
});

Deno.test("a large index not in zig's pretty form is read whole and written in zig's form", () => {
  using tmp = tempDir();
  const { home, ids, indexes } = largeHome(tmp.path);
  for (const path of indexes) {
    Deno.writeTextFileSync(
      path,
      JSON.stringify(JSON.parse(Deno.readTextFileSync(path))),
    );
  }
  const problems: SessionProblem[] = [];
  const writer = startAndEnd(home, { onProblem: (p) => problems.push(p) });
  assert.deepEqual(problems, []);
  for (const path of indexes) {
    const text = Deno.readTextFileSync(path);
    assertZigBytes(text);
    const sessions = JSON.parse(text).sessions;
    assert.equal(sessions.length, ids.length + 1);
    assert.equal(sessions.at(-1).zig_session_id, writer.sessionId);
    assert.equal(sessions.at(-1).status, "success");
  }
});

Deno.test("4 processes x 25 sessions on large indexes: every session in both, in zig's bytes", async () => {
  using tmp = tempDir();
  const { home, ids, indexes } = largeHome(tmp.path);
  const script = projectFile("tests/workers/create_sessions.ts");
  const results = await Promise.all(
    Array.from(
      { length: 4 },
      () => runDeno([...RUN_WORKER, script, home, "/src/shop", "25"]),
    ),
  );
  const created = new Set<string>();
  for (const r of results) {
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    for (const id of r.stdout.trim().split("\n")) created.add(id);
  }
  assert.equal(created.size, 100);
  for (const path of indexes) {
    const text = Deno.readTextFileSync(path);
    assertZigBytes(text);
    const sessions = JSON.parse(text).sessions as SessionLogIndex["sessions"];
    assert.equal(sessions.length, ids.length + 100);
    assert.deepEqual(
      sessions.slice(0, ids.length).map((s) => s.zig_session_id),
      ids,
    );
    const added = sessions.slice(ids.length);
    assert.deepEqual(new Set(added.map((s) => s.zig_session_id)), created);
    assert.ok(added.every((s) => s.status === "success" && s.ended_at));
  }
});

Deno.test("a large index that cannot be patched on a full disk is left as it was, with no temporary file", () => {
  const name = "a large index that cannot be patched on a full disk";
  using disk = mountTmpfs("1m", name);
  if (!disk) return;
  const project = join(disk.path, "projects", "src-shop");
  const indexes = [projectIndexPath(project), globalIndexPath(disk.path)];
  const entry = (i: number) => ({
    zig_session_id: `s-${i}`,
    workflow_name: "w",
    log_path: `/elsewhere/s-${i}.jsonl`,
    started_at: "2026-01-01T00:00:00Z",
    ended_at: "2026-01-01T00:01:00Z",
    status: "success" as const,
  });
  const many = Array.from({ length: 700 }, (_, i) => i);
  saveProjectIndex(indexes[0], {
    sessions: many.map((i) => ({
      ...entry(i),
      workflow_path: "w.zwf",
      workspace_path: "/src/shop",
    })),
  });
  saveGlobalIndex(indexes[1], {
    sessions: many.map((i) => ({ ...entry(i), project: "/src/shop" })),
  });
  const before = indexes.map((path) => Deno.readTextFileSync(path));
  for (const text of before) assert.ok(text.length > 2 * TAIL);
  const filler = fillUp(disk.path, 2); // the log's page, no room for a copy
  const problems: SessionProblem[] = [];
  const writer = SessionWriter.create({
    zigHome: disk.path,
    projectRoot: "/src/shop",
    workflowName: "new",
    workflowPath: "new.zwf",
    tierCount: 1,
    onProblem: (p) => problems.push(p),
  });
  assert.deepEqual(problems.map((p) => [p.kind, p.path]), [
    ["index_not_updated", indexes[0]],
    ["index_not_updated", indexes[1]],
  ]);
  assert.match(problems[0].message, /No space left on device/);
  indexes.forEach((path, i) => {
    assert.equal(Deno.readTextFileSync(path), before[i]);
    const names = [...Deno.readDirSync(dirname(path))].map((e) => e.name);
    assert.deepEqual(names.filter((n) => n.includes(".tmp-")), []);
  });
  // Room again: the end puts the session back into both indexes.
  Deno.removeSync(filler);
  writer.ended("success", 1);
  for (const path of indexes) {
    const text = Deno.readTextFileSync(path);
    assertZigBytes(text);
    const sessions = JSON.parse(text).sessions;
    assert.equal(sessions.length, 701);
    assert.equal(sessions.at(-1).zig_session_id, writer.sessionId);
    assert.equal(sessions.at(-1).status, "success");
  }
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
    "session_index_test: skipping the kills at a patch's rename: strace is not installed (apt-get install strace)",
  );
}

Deno.test({
  name:
    "writers killed at their patches' renames (strace) leave each large index whole; the next writer removes their temporary copies",
  ignore: !strace,
  async fn() {
    using tmp = tempDir();
    const { home, ids, indexes } = largeHome(tmp.path);
    const before = indexes.map((path) => Deno.readTextFileSync(path));
    const script = projectFile("tests/workers/create_sessions.ts");
    const temps = () =>
      indexes.flatMap((path) =>
        [...Deno.readDirSync(dirname(path))].map((e) => e.name)
          .filter((name) => name.includes(".tmp-"))
          .map((name) => name.replace(/tmp-.*/, "tmp-…"))
      );
    const sessions = (path: string) =>
      JSON.parse(Deno.readTextFileSync(path)).sessions.map((
        s: { zig_session_id: string },
      ) => s.zig_session_id);
    // A real SIGKILL as the writer enters its Nth rename: the 1st renames its
    // copy of the project index over it, the 2nd its copy of the global one.
    for (const when of [1, 2]) {
      const killed = await new Deno.Command("strace", {
        args: [
          "-f",
          "-o",
          "/dev/null",
          "-e",
          "trace=rename",
          "-e",
          `inject=rename:signal=SIGKILL:when=${when}`,
          Deno.execPath(),
          ...RUN_WORKER,
          script,
          home,
          "/src/shop",
          "1",
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(killed.stdout.length, 0, "killed before its session ended");
      assert.notEqual(killed.code, 0);
      if (when === 1) {
        assert.deepEqual(indexes.map((p) => Deno.readTextFileSync(p)), before);
        assert.deepEqual(temps(), ["index.json.tmp-…"]);
      }
    }
    // The second writer patched the project index (removing the first's
    // copy), then was killed before renaming its copy of the global one.
    assert.deepEqual(temps(), ["sessions_index.json.tmp-…"]);
    assert.equal(Deno.readTextFileSync(indexes[1]), before[1]);
    const second = sessions(indexes[0]).at(-1);
    assert.deepEqual(sessions(indexes[0]), [...ids, second]);
    const next = await runDeno([...RUN_WORKER, script, home, "/src/shop", "1"]);
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual(temps(), []);
    const third = next.stdout.trim();
    assert.deepEqual(sessions(indexes[0]), [...ids, second, third]);
    assert.deepEqual(sessions(indexes[1]), [...ids, third]);
    for (const path of indexes) assertZigBytes(Deno.readTextFileSync(path));
    // The killed writers' sessions are listed from their pending markers.
    const listed = listSessions({ zigHome: home, projectRoot: "/src/shop" })
      .map((s) => s.zig_session_id);
    assert.equal(listed.length, ids.length + 3);
  },
});
