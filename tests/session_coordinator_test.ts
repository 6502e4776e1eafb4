import assert from "node:assert/strict";
import { join } from "node:path";
import {
  globalIndexPath,
  loadGlobalIndex,
  loadProjectIndex,
  projectIndexPath,
  readSessionEvents,
  SessionCoordinator,
  sessionState,
} from "../mod.ts";
import { projectFile, RUN_WORKER, tempDir, testWriter } from "./_helpers.ts";

Deno.test("heartbeats come at the interval and stop at finish", async () => {
  using tmp = tempDir();
  const w = testWriter(tmp.path);
  const session = SessionCoordinator.start(w, {
    heartbeatMs: 20,
    handleSignals: false,
  });
  await new Promise((r) => setTimeout(r, 130));
  session.finish("success");
  await new Promise((r) => setTimeout(r, 60));
  const events = await readSessionEvents(w.logPath);
  const beats = events.filter((e) => e.type === "heartbeat");
  assert.ok(beats.length >= 2, `${beats.length} heartbeats`);
  assert.ok(
    beats.every((e) => e.type === "heartbeat" && e.interval_secs === 1),
  );
  assert.equal(events.at(-1)?.type, "zig_session_ended");
  assert.throws(() => session.finish("success"), /already finished/);
});

Deno.test("the first heartbeat comes at start and says the interval, so a long one is known at once", async () => {
  using tmp = tempDir();
  const w = testWriter(tmp.path);
  const session = SessionCoordinator.start(w, {
    heartbeatMs: 60_000,
    handleSignals: false,
  });
  w.tierStarted(0, ["a"]);
  const events = await readSessionEvents(w.logPath);
  assert.deepEqual(events.map((e) => e.type), [
    "zig_session_started",
    "heartbeat",
    "tier_started",
  ]);
  assert.ok(events[1].type === "heartbeat" && events[1].interval_secs === 60);
  // 40 s of silence later the session is still running by the state rule.
  const later = BigInt(Date.now() + 40_000) * 1_000_000n;
  assert.equal(sessionState({}, { logPath: w.logPath, now: later }), "running");
  session.finish("success");
});

Deno.test("disposing without finish records failure", async () => {
  using tmp = tempDir();
  const w = testWriter(tmp.path);
  {
    using _session = SessionCoordinator.start(w, { handleSignals: false });
    w.tierStarted(0, ["a"]);
  }
  const last = (await readSessionEvents(w.logPath)).at(-1);
  assert.ok(last?.type === "zig_session_ended" && last.status === "failure");
  const entry =
    loadProjectIndex(projectIndexPath(join(tmp.path, "projects", "p")))
      .sessions[0];
  assert.equal(entry.status, "failure");
});

async function runCoordinated(home: string, mode: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      ...RUN_WORKER,
      projectFile("tests/workers/coordinated.ts"),
      home,
      mode,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const first = await reader.read(); // the log path, once the session is open
  return { child, logPath: String(first.value).trim(), reader };
}

const SIGNAL_NUMBERS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  Deno.test(`${signal} ends an open session as failure and stamps the indexes before exit`, async () => {
    using tmp = tempDir();
    const { child, logPath, reader } = await runCoordinated(tmp.path, "wait");
    child.kill(signal);
    const status = await child.status;
    await reader.cancel();
    await child.stderr.cancel();
    assert.equal(status.signal, null, "the coordinator exits, not the signal");
    assert.equal(status.code, 128 + SIGNAL_NUMBERS[signal]);
    const last = (await readSessionEvents(logPath)).at(-1);
    assert.ok(
      last?.type === "zig_session_ended" && last.status === "failure",
      JSON.stringify(last),
    );
    const project =
      loadProjectIndex(projectIndexPath(join(tmp.path, "projects", "p")))
        .sessions[0];
    const global = loadGlobalIndex(globalIndexPath(tmp.path)).sessions[0];
    assert.equal(project.status, "failure");
    assert.equal(global.status, "failure");
    assert.ok(project.ended_at !== null && global.ended_at !== null);
  });
}

Deno.test("the heartbeat never keeps the process alive; exiting unfinished records failure", async () => {
  using tmp = tempDir();
  const { child, logPath, reader } = await runCoordinated(tmp.path, "return");
  const status = await child.status; // returns although the heartbeat timer is set
  await reader.cancel();
  await child.stderr.cancel();
  assert.equal(status.code, 0);
  const last = (await readSessionEvents(logPath)).at(-1);
  assert.ok(last?.type === "zig_session_ended" && last.status === "failure");
});

for (const mode of ["throw", "reject"]) {
  Deno.test(`an uncaught error (${mode}) still ends the session as failure`, async () => {
    using tmp = tempDir();
    const { child, logPath, reader } = await runCoordinated(tmp.path, mode);
    const status = await child.status;
    await reader.cancel();
    const stderr = new TextDecoder().decode(
      await new Response(child.stderr).arrayBuffer(),
    );
    assert.equal(status.code, 1);
    assert.match(stderr, /the workflow crashed/);
    const last = (await readSessionEvents(logPath)).at(-1);
    assert.ok(last?.type === "zig_session_ended" && last.status === "failure");
    const entry =
      loadProjectIndex(projectIndexPath(join(tmp.path, "projects", "p")))
        .sessions[0];
    assert.equal(entry.status, "failure");
  });
}

Deno.test("finish records the session's duration from its started_at, the time spent creating it included", async () => {
  using tmp = tempDir();
  // A clock 25 ms further on at every reading: creating the session takes
  // two readings (started_at, the first event), start's heartbeat a third.
  let ms = Date.parse("2026-11-23T22:41:46.000Z");
  const clock = () => {
    const stamp = new Date(ms).toISOString().replace("Z", "+00:00");
    ms += 25;
    return stamp;
  };
  const w = testWriter(tmp.path, { clock });
  const session = SessionCoordinator.start(w, {
    heartbeatMs: 60_000,
    handleSignals: false,
  });
  session.finish("success");
  const events = await readSessionEvents(w.logPath);
  const end = events.at(-1)!;
  assert.equal(end.type, "zig_session_ended");
  const entry = loadGlobalIndex(globalIndexPath(tmp.path)).sessions[0];
  assert.equal(entry.ended_at, end.ts);
  assert.equal(
    end.type === "zig_session_ended" && end.duration_ms,
    Date.parse(end.ts) - Date.parse(entry.started_at),
  );
  assert.equal(end.type === "zig_session_ended" && end.duration_ms, 75);
});
