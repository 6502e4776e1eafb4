import assert from "node:assert/strict";
import { join } from "node:path";
import {
  findSession,
  globalIndexPath,
  latestSession,
  listSessions,
  projectIndexPath,
  readSessionEvents,
  resolveLogPath,
  updateGlobalIndex,
  updateProjectIndex,
  ZigError,
} from "../mod.ts";
import {
  copyFixtureHome,
  FIXTURE_HOME,
  FIXTURE_PROJECT,
  tempDir,
  testWriter,
} from "./_helpers.ts";

const shop = { zigHome: FIXTURE_HOME, projectRoot: "/home/ada/src/shop" };

Deno.test("listing gives the current project's sessions, or every project's", () => {
  assert.deepEqual(listSessions(shop).map((s) => s.workflow_name), [
    "wf-success",
    "wf-failure",
    "wf-running",
    "wf-dropped",
  ]);
  assert.equal(listSessions({ ...shop, global: true }).length, 5);
  assert.deepEqual(
    listSessions({ zigHome: FIXTURE_HOME, cwd: "/" }).map((s) =>
      s.zig_session_id
    ),
    ["b5ac6738-480f-4faf-8c21-2c8136fd6eec"],
  );
});

Deno.test("a unique prefix finds a session; none and several are distinct errors", () => {
  assert.equal(findSession("20a9", shop).workflow_name, "wf-failure");
  assert.equal(
    findSession("b5ac", { ...shop, global: true }).workflow_name,
    "wf-success",
  );
  assert.throws(
    () => findSession("b5ac", shop),
    (e: unknown) =>
      e instanceof ZigError && e.kind === "not_found" &&
      /no session id in this project starts with "b5ac"/.test(e.message),
  );
  using tmp = tempDir();
  const ids = ["abc1", "abc2", "abd3"];
  for (const id of ids) {
    testWriter(tmp.path, { createId: () => id }).close();
  }
  const options = { zigHome: tmp.path, projectRoot: "/p" };
  assert.throws(
    () => findSession("ab", options),
    (e: unknown) =>
      e instanceof ZigError && e.kind === "ambiguous" &&
      e.candidates?.join() === "abc1,abc2,abd3" &&
      /matches 3 sessions: abc1, abc2, abd3/.test(e.message),
  );
  assert.equal(findSession("abd", options).zig_session_id, "abd3");
  assert.equal(findSession("abc1", options).zig_session_id, "abc1");
  assert.throws(() => findSession("", options), /Empty session id/);
});

Deno.test("latest compares instants, not strings", () => {
  const entries = [
    { zig_session_id: "utc", started_at: "2026-11-23T22:00:00.5+00:00" },
    { zig_session_id: "plus-two", started_at: "2026-11-23T23:59:00+02:00" }, // 21:59 UTC
    { zig_session_id: "z", started_at: "2026-11-23T22:00:00Z" },
  ];
  assert.equal(latestSession(entries)?.zig_session_id, "utc");
  assert.equal(latestSession([]), undefined);
  assert.equal(latestSession(listSessions(shop))?.workflow_name, "wf-dropped");
});

Deno.test("a log_path from another machine falls back to the sessions dir", async () => {
  const [entry] = listSessions(shop);
  assert.ok(entry.log_path.startsWith("/home/ada/"));
  const viaProject = resolveLogPath(entry, {
    indexPath: projectIndexPath(FIXTURE_PROJECT),
  });
  assert.equal(
    viaProject,
    join(FIXTURE_PROJECT, "logs", "sessions", `${entry.zig_session_id}.jsonl`),
  );
  const global = listSessions({ ...shop, global: true });
  for (const e of global) {
    const path = resolveLogPath(e, {
      indexPath: globalIndexPath(FIXTURE_HOME),
    });
    const events = await readSessionEvents(path);
    assert.equal(events[0].zig_session_id, e.zig_session_id);
    assert.equal(resolveLogPath(e, { zigHome: FIXTURE_HOME }), path);
  }
  // A log_path inside the home, where the layout puts it, is that path.
  assert.equal(
    resolveLogPath(
      { zig_session_id: entry.zig_session_id, log_path: viaProject },
      { zigHome: FIXTURE_HOME },
    ),
    viaProject,
  );
});

Deno.test("resolveLogPath never follows an entry out of the zig home", () => {
  using tmp = tempDir();
  const home = copyFixtureHome(tmp.path);
  const project = join(home, "projects", "home-ada-src-shop");
  const outside = join(tmp.path, "outside");
  Deno.mkdirSync(join(outside, "logs", "sessions"), { recursive: true });
  const [entry] = listSessions({
    zigHome: home,
    projectRoot: "/home/ada/src/shop",
  });
  const id = entry.zig_session_id;
  const secret = join(outside, "secret.jsonl");
  Deno.writeTextFileSync(secret, "{}\n");
  const sources = [
    { indexPath: projectIndexPath(project) },
    { indexPath: globalIndexPath(home) },
    { zigHome: home },
    { indexPath: projectIndexPath(project), zigHome: home },
  ];
  const refused = (pattern: RegExp) => (e: unknown) =>
    e instanceof ZigError && e.kind === "corrupt" && pattern.test(e.message);
  for (const options of sources) {
    // A log_path that exists but is not this session's log path.
    assert.throws(
      () => resolveLogPath({ zig_session_id: id, log_path: secret }, options),
      refused(/is not followed: its log_path ".*secret\.jsonl" is not where/),
    );
    // An id that is a path.
    for (
      const bad of [
        "../../../../../../../../../../" + outside.slice(1) + "/x",
        ".hidden",
        "a/b",
        "..",
      ]
    ) {
      assert.throws(
        () =>
          resolveLogPath({
            zig_session_id: bad,
            log_path: `/nowhere/logs/sessions/${bad}.jsonl`,
          }, options),
        refused(/is not followed: that is no session id/),
        bad,
      );
    }
    // A log_path shaped right but elsewhere is never opened: the layout's is.
    const elsewhere = join(outside, "logs", "sessions", `${id}.jsonl`);
    Deno.writeTextFileSync(elsewhere, "not this\n");
    assert.equal(
      resolveLogPath({ zig_session_id: id, log_path: elsewhere }, options)
        .startsWith(home),
      true,
    );
  }
  // The sessions folder is a symbolic link out of the home.
  const sessions = join(project, "logs", "sessions");
  Deno.renameSync(sessions, join(outside, "moved"));
  Deno.symlinkSync(join(outside, "moved"), sessions);
  for (const options of sources) {
    assert.throws(
      () => resolveLogPath(entry, options),
      refused(
        /^Refusing ".*": it resolves to ".*outside.*moved.*", outside the zig home/,
      ),
    );
  }
});

Deno.test("a session a killed writer left out of the indexes is listed from its pending markers; a marker leading out of the zig home is not followed", () => {
  using tmp = tempDir();
  const home = join(tmp.path, "zig");
  const where = { zigHome: home, projectRoot: "/p" };
  const killed = testWriter(home, { workflowName: "killed" });
  testWriter(home, { workflowName: "kept" }).ended("success", 1);
  // What a writer killed before its index writes leaves: its log, and a
  // marker beside each index, but no entry.
  const drop = (index: { sessions: Array<{ zig_session_id: string }> }) => {
    index.sessions = index.sessions.filter((e) =>
      e.zig_session_id !== killed.sessionId
    );
  };
  const project = projectIndexPath(join(home, "projects", "p"));
  updateProjectIndex(project, { update: drop });
  updateGlobalIndex(globalIndexPath(home), { update: drop });
  for (const index of [project, globalIndexPath(home)]) {
    Deno.writeTextFileSync(
      `${index}.pending-${killed.sessionId}`,
      killed.logPath + "\n",
    );
  }
  // A marker naming a real session log outside the zig home.
  const outside = join(tmp.path, "elsewhere", "logs", "sessions");
  Deno.mkdirSync(outside, { recursive: true });
  Deno.writeTextFileSync(
    join(outside, "evil.jsonl"),
    Deno.readTextFileSync(killed.logPath).replaceAll(killed.sessionId, "evil"),
  );
  Deno.writeTextFileSync(
    `${globalIndexPath(home)}.pending-evil`,
    join(outside, "evil.jsonl"),
  );

  for (const global of [false, true]) {
    const sessions = listSessions({ ...where, global });
    assert.deepEqual(sessions.map((s) => [s.workflow_name, s.status]), [
      ["kept", "success"],
      ["killed", null],
    ]);
    assert.equal(sessions[1].log_path, killed.logPath);
  }
  const found = findSession(killed.sessionId.slice(0, 8), where);
  assert.equal(found.zig_session_id, killed.sessionId);
});

Deno.test("a project's pending marker is not followed through a sessions folder linked out of the zig home", () => {
  using tmp = tempDir();
  const home = join(tmp.path, "zig");
  const where = { zigHome: home, projectRoot: "/p" };
  testWriter(home, { workflowName: "kept" }).ended("success", 1);
  // The project's logs/sessions is a link to a folder outside the zig home
  // holding a session log, and a marker names that session.
  const outside = join(tmp.path, "elsewhere");
  Deno.mkdirSync(outside);
  const logs = join(home, "projects", "p", "logs");
  Deno.renameSync(join(logs, "sessions"), join(logs, "sessions.real"));
  Deno.symlinkSync(outside, join(logs, "sessions"));
  Deno.writeTextFileSync(
    join(outside, "secret.jsonl"),
    JSON.stringify({
      type: "zig_session_started",
      seq: 0,
      ts: "2026-11-25T16:00:00+00:00",
      zig_session_id: "secret",
      workflow_name: "outside",
      workflow_path: "x",
      prompt: "p",
      tier_count: 1,
    }) + "\n",
  );
  Deno.writeFileSync(join(logs, "index.json.pending-secret"), new Uint8Array());

  assert.deepEqual(listSessions(where).map((s) => s.workflow_name), ["kept"]);
});
