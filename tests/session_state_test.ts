// The state rule: ended, running or abandoned, from the index entry, the log's
// events and the log file's modification time.
import assert from "node:assert/strict";
import {
  formatTimestamp,
  judgeSessionState,
  parseTimestamp,
  sessionState,
  sessionStateDetails,
  SessionWriter,
} from "../mod.ts";
import { tempDir, testWriter } from "./_helpers.ts";

const SECOND = 1_000_000_000n;

function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** A clock `offsetSecs` away from this machine's. */
function skewed(offsetSecs: number): () => string {
  return () => formatTimestamp(nowNs() + BigInt(offsetSecs) * SECOND);
}

/** Sets the log's modification time `secs` back from now. */
function touchedAgo(path: string, secs: number): void {
  const then = new Date(Date.now() - secs * 1000);
  Deno.utimeSync(path, then, then);
}

Deno.test("an ended session has the status its entry or its log gives", () => {
  using tmp = tempDir();
  const w = testWriter(tmp.path);
  const logPath = w.logPath;
  w.ended("failure", 3);
  assert.equal(sessionState({}, { logPath }), "failure");
  assert.equal(sessionState({ status: null }, { logPath }), "failure");
  // A known status in the entry needs no log.
  assert.equal(
    sessionState({ status: "success" }, { logPath: `${tmp.path}/gone` }),
    "success",
  );
  // Anything else in the entry is unknown: the log decides.
  const damaged = { status: 5 as unknown as null, ended_at: "garbage" };
  const details = sessionStateDetails(damaged, { logPath });
  assert.equal(details.state, "failure");
  assert.ok(parseTimestamp(details.lastActivity!) !== undefined);
});

Deno.test("a log with no end is running while written within 3 intervals, then abandoned", () => {
  using tmp = tempDir();
  const w = testWriter(tmp.path);
  const logPath = w.logPath;
  w.stepOutput({ stepName: "s", stream: "stdout", line: "x" });
  const now = nowNs();
  assert.equal(sessionState({}, { logPath, now }), "running");
  const details = sessionStateDetails({}, { logPath, now: now + 29n * SECOND });
  assert.equal(details.state, "running");
  assert.equal(details.idleLimitSecs, 30, "zig's 10 s when none is declared");
  assert.equal(
    sessionState({}, { logPath, now: now + 31n * SECOND }),
    "abandoned",
  );
  w.close();
});

Deno.test("the log's modification time counts: a writer's clock 2 days behind is still live", () => {
  using tmp = tempDir();
  const w = testWriter(tmp.path, { clock: skewed(-2 * 86_400) });
  const logPath = w.logPath;
  w.stepOutput({ stepName: "s", stream: "stdout", line: "x" });
  assert.equal(sessionState({}, { logPath }), "running");
  // Once the file too has been silent for long, it is abandoned.
  touchedAgo(logPath, 60);
  assert.equal(sessionState({}, { logPath }), "abandoned");
  w.close();
});

Deno.test("a writer's clock ahead proves nothing beyond now: the file's time decides", () => {
  using tmp = tempDir();
  const w = testWriter(tmp.path, { clock: skewed(2 * 86_400) });
  const logPath = w.logPath;
  w.stepOutput({ stepName: "s", stream: "stdout", line: "x" });
  assert.equal(sessionState({}, { logPath }), "running");
  touchedAgo(logPath, 60);
  const now = nowNs();
  assert.equal(
    sessionState({}, { logPath, now: now + 31n * SECOND }),
    "abandoned",
    "a last event dated in 2 days does not keep a dead session running",
  );
  w.close();
});

Deno.test("a log's modification time far ahead of now does not keep a dead session running", () => {
  using tmp = tempDir();
  const w = testWriter(tmp.path);
  const logPath = w.logPath;
  w.stepOutput({ stepName: "s", stream: "stdout", line: "x" });
  w.close();
  const now = nowNs();
  // Its writer died long ago; the file's time says in 2 days (copied with
  // its times from a machine ahead, a file server's clock).
  const future = new Date(Date.now() + 2 * 86_400_000);
  Deno.utimeSync(logPath, future, future);
  assert.equal(
    sessionState({}, { logPath, now: now + 120n * SECOND }),
    "abandoned",
  );
  // Just ahead of now is a write since now was taken: still live.
  const last = {
    type: "step_output",
    ts: formatTimestamp(now - 86_400n * SECOND),
  };
  assert.equal(
    judgeSessionState({ last, modifiedAt: now + 2n * SECOND, now }).state,
    "running",
  );
  assert.equal(
    judgeSessionState({ last, modifiedAt: now + 86_400n * SECOND, now }).state,
    "abandoned",
  );
});

Deno.test("the interval declared by the first heartbeat holds until the end", () => {
  using tmp = tempDir();
  const w = testWriter(tmp.path);
  const logPath = w.logPath;
  w.heartbeat(60); // written at start by a writer beating every minute
  for (let i = 0; i < 100; i++) {
    w.stepOutput({ stepName: "s", stream: "stdout", line: `line ${i}` });
  }
  const now = nowNs();
  assert.equal(
    sessionState({}, { logPath, now: now + 40n * SECOND }),
    "running",
  );
  const late = sessionStateDetails({}, { logPath, now: now + 181n * SECOND });
  assert.equal(late.state, "abandoned");
  assert.equal(late.idleLimitSecs, 180);
  w.close();
});

Deno.test("a shorter interval declared at start makes a dead writer abandoned sooner", () => {
  using tmp = tempDir();
  const w = testWriter(tmp.path);
  const logPath = w.logPath;
  w.heartbeat(2);
  w.stepOutput({ stepName: "s", stream: "stdout", line: "x" });
  const now = nowNs();
  assert.equal(
    sessionState({}, { logPath, now: now + 5n * SECOND }),
    "running",
  );
  assert.equal(
    sessionState({}, { logPath, now: now + 7n * SECOND }),
    "abandoned",
  );
  w.close();
});

Deno.test("a longer interval of a writer attached later is found near the end", () => {
  using tmp = tempDir();
  const w = testWriter(tmp.path, { shared: true });
  const logPath = w.logPath;
  w.heartbeat(10);
  w.close();
  const attached = SessionWriter.attach({ zigHome: tmp.path, logPath });
  attached.heartbeat(60);
  attached.stepOutput({ stepName: "s", stream: "stdout", line: "x" });
  const now = nowNs();
  assert.equal(
    sessionState({}, { logPath, now: now + 40n * SECOND }),
    "running",
  );
  assert.equal(
    sessionState({}, { logPath, now: now + 181n * SECOND }),
    "abandoned",
  );
  attached.close();
});

Deno.test("a missing log is abandoned; an entry's start is the last sign of an empty log", () => {
  using tmp = tempDir();
  const entry = { started_at: formatTimestamp(nowNs()) };
  assert.equal(
    sessionState(entry, { logPath: `${tmp.path}/none.jsonl` }),
    "abandoned",
  );
  const empty = `${tmp.path}/empty.jsonl`;
  Deno.writeTextFileSync(empty, "");
  touchedAgo(empty, 3600);
  assert.equal(sessionState(entry, { logPath: empty }), "running");
  assert.equal(sessionState({}, { logPath: empty }), "abandoned");
});

Deno.test("the rule from facts: the later of the last event and the file's time", () => {
  const now = parseTimestamp("2026-11-23T22:45:00+00:00")!;
  const last = { type: "step_output", ts: "2026-11-23T22:40:00+00:00" };
  assert.equal(judgeSessionState({ last, now }).state, "abandoned");
  assert.equal(
    judgeSessionState({ last, now, modifiedAt: now - 10n * SECOND }).state,
    "running",
  );
  assert.equal(
    judgeSessionState({ last, now, intervalSecs: 100 }).state,
    "running",
    "5 minutes is within 3 intervals of 100 s",
  );
  const beat = { type: "heartbeat", interval_secs: 120, ts: last.ts };
  assert.equal(judgeSessionState({ last: beat, now }).idleLimitSecs, 360);
  const ended = { type: "zig_session_ended", status: "success", ts: last.ts };
  assert.deepEqual(judgeSessionState({ last: ended, now }), {
    state: "success",
    lastActivity: last.ts,
  });
  assert.equal(
    judgeSessionState({ status: "failure", last: ended, now }).state,
    "failure",
    "the entry's known status wins",
  );
  assert.equal(judgeSessionState({ status: 5, now }).state, "abandoned");
});
