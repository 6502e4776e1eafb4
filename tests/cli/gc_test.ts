import assert from "node:assert/strict";
import { join } from "node:path";
import {
  globalIndexPath,
  loadGlobalIndex,
  loadProjectIndex,
  projectIndexPath,
} from "../../mod.ts";
import { copyFixtureHome, tempDir, testWriter } from "../_helpers.ts";
import { cliProcess, indexWithoutLogs, runCli, workspace } from "./_helpers.ts";
import { hostileHome, snapshot } from "./_hostile.ts";

Deno.test("gc never deletes, moves or creates a file outside the zig home, whatever an index entry names", async () => {
  using tmp = tempDir();
  const h = hostileHome(tmp.path);
  const before = snapshot(h.outside);
  const hostile = Object.values(h.ids);

  // A real process, with the executable's permissions.
  const r = await cliProcess(["gc", "--keep", "0", "--force"], h.opts);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(snapshot(h.outside), before);
  // The real session went; each hostile entry was skipped, and said so.
  assert.match(r.stdout, /removed 1 session\(s\)/);
  assert.equal(r.stderr.match(/skipped: /g)?.length, hostile.length);
  for (const id of hostile) {
    assert.ok(r.stderr.includes(id), `${id} not reported:\n${r.stderr}`);
  }
  assert.match(r.stderr, /is not followed/);
  const left = loadProjectIndex(projectIndexPath(h.project)).sessions
    .map((e) => e.zig_session_id);
  assert.deepEqual(left.sort(), [...hostile].sort());

  // The same from the global index.
  const g = await runCli(["gc", "--keep", "0", "--force", "--global"], h.opts);
  assert.equal(g.code, 0, g.stderr);
  assert.deepEqual(snapshot(h.outside), before);
  assert.equal(g.stderr.match(/skipped: /g)?.length, hostile.length);
  const global = loadGlobalIndex(globalIndexPath(h.home)).sessions
    .map((e) => e.zig_session_id);
  assert.deepEqual(global.sort(), [...hostile].sort());
  assert.ok(!global.includes(h.realId));
});

Deno.test("gc deletes nothing through a sessions folder that a symbolic link leads out of the home", async () => {
  using tmp = tempDir();
  const h = hostileHome(tmp.path);
  // The project's logs now live outside, through a link: its real log moves.
  const sessions = join(h.project, "logs", "sessions");
  const away = join(h.outside, "sessions");
  Deno.renameSync(sessions, away);
  Deno.symlinkSync(away, sessions);
  const before = snapshot(h.outside);
  const r = await runCli(["gc", "--keep", "0", "--force", "--global"], h.opts);
  assert.deepEqual(snapshot(h.outside), before);
  assert.match(r.stderr, /outside the zig home/);
  assert.ok(
    loadGlobalIndex(globalIndexPath(h.home)).sessions.some((e) =>
      e.zig_session_id === h.realId
    ),
    "the entry of a log that was not deleted stays",
  );
});

Deno.test("gc names what it removes (id, workflow, end), in aligned columns, dry run and --force alike", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const ids: string[] = [];
  for (const name of ["a", "a-much-longer-workflow-name"]) {
    const writer = testWriter(w.home, {
      projectRoot: w.repo,
      workflowName: name,
    });
    writer.stepOutput({ stepName: "s", stream: "stdout", line: "x" });
    writer.ended("success");
    ids.push(writer.sessionId);
  }
  // The second's log is already gone: its entry goes too, said so.
  const gone = join(w.project, "logs", "sessions", `${ids[1]}.jsonl`);
  Deno.removeSync(gone);
  const entries = loadProjectIndex(projectIndexPath(w.project)).sessions;
  const ended = (id: string) => {
    const at = entries.find((e) => e.zig_session_id === id)!.ended_at!;
    return at.slice(0, 10) + " " + at.slice(11, 19);
  };
  const check = (stdout: string, title: string) => {
    const lines = stdout.trimEnd().split("\n");
    assert.equal(lines[0], title);
    const [header, ...rows] = lines.slice(1, -1);
    assert.match(header, /^ID\s+WORKFLOW\s+ENDED \(UTC\)\s+LOG$/);
    assert.equal(rows.length, 2, stdout);
    // Aligned: every column starts where its header does.
    const starts = [...header.matchAll(/\S+(?: \S+)*/g)].map((m) => m.index);
    for (const row of rows) {
      for (const start of starts) {
        assert.equal(row[start - 1] ?? " ", " ", `${row}\n${header}`);
        assert.notEqual(row[start], " ", `${row}\n${header}`);
      }
    }
    for (const [i, id] of ids.entries()) {
      const row = rows.find((r) => r.startsWith(id));
      assert.ok(row, `${id} not named:\n${stdout}`);
      assert.ok(row.includes(["a", "a-much-longer-workflow-name"][i]), row);
      assert.ok(row.includes(ended(id)), row);
    }
    assert.match(rows.find((r) => r.startsWith(ids[1]))!, /gone$/);
    assert.match(rows.find((r) => r.startsWith(ids[0]))!, /\d B$/);
  };
  const dry = await runCli(["gc", "--keep", "0"], w.opts);
  assert.equal(dry.code, 0, dry.stderr);
  check(dry.stdout, "would remove:");
  assert.match(dry.stdout, /\n2 session\(s\), .* MB: dry run, nothing removed/);
  const forced = await runCli(["gc", "--keep", "0", "--force"], w.opts);
  assert.equal(forced.code, 0, forced.stderr);
  check(forced.stdout, "removed:");
  assert.match(forced.stdout, /\nremoved 2 session\(s\), .* MB\n$/);
  assert.deepEqual(loadProjectIndex(projectIndexPath(w.project)).sessions, []);
});

Deno.test("gc over thousands of entries whose logs are gone: their entries go, no warning per session", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  indexWithoutLogs(w, 3000);
  const dry = await runCli(["gc", "--global", "--keep", "0"], w.opts);
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(dry.stderr, "");
  assert.match(dry.stdout, /\n3000 session\(s\), 0\.0 MB: dry run/);
  assert.equal(dry.stdout.match(/ gone\n/g)?.length, 3000);
  const forced = await runCli(["gc", "--keep", "0", "--force"], w.opts);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(forced.stderr, "");
  assert.match(forced.stdout, /\nremoved 3000 session\(s\), 0\.0 MB\n$/);
  assert.deepEqual(loadProjectIndex(projectIndexPath(w.project)).sessions, []);
  assert.deepEqual(loadGlobalIndex(globalIndexPath(w.home)).sessions, []);
});

Deno.test("gc: a dry run by default; --force removes old ended sessions, never open ones", async () => {
  using tmp = tempDir();
  const home = copyFixtureHome(tmp.path);
  const opts = { home, cwd: tmp.path };
  const dry = await runCli(["gc", "--global", "--older-than", "1s"], opts);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /4 session\(s\), .* MB: dry run, nothing removed/);
  assert.doesNotMatch(
    dry.stdout,
    /181f613a/,
    "the open session is not a candidate",
  );
  const project = join(home, "projects", "home-ada-src-shop");
  assert.equal(loadProjectIndex(projectIndexPath(project)).sessions.length, 4);
  const kept = await runCli(["gc", "--global", "--keep", "3", "--force"], opts);
  assert.match(kept.stdout, /removed 2 session\(s\)/);
  const forced = await runCli(
    ["gc", "--global", "--older-than", "1s", "--force"],
    opts,
  );
  assert.match(forced.stdout, /removed 2 session\(s\)/);
  const left = loadGlobalIndex(globalIndexPath(home)).sessions.map((s) =>
    s.zig_session_id
  );
  assert.deepEqual(left, ["181f613a-2887-417d-8246-5b15c35d4640"]);
  assert.deepEqual(
    loadProjectIndex(projectIndexPath(project)).sessions.map((s) =>
      s.workflow_name
    ),
    ["wf-running"],
  );
  assert.deepEqual(
    [...Deno.readDirSync(join(project, "logs", "sessions"))].map((e) => e.name),
    ["181f613a-2887-417d-8246-5b15c35d4640.jsonl"],
  );
});
