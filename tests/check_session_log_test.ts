import assert from "node:assert/strict";
import { join } from "node:path";
import { checkSessionLog } from "../mod.ts";
import type { LogProblemKind, SessionLogCheck } from "../mod.ts";
import { tempDir, testWriter } from "./_helpers.ts";

const ID = "6b3f1c2e-1111-4222-8333-444455556666";
const TS = "2026-11-23T22:41:46+00:00";
/** An hour from now: a log just written is abandoned by then. */
const LATER = BigInt(Date.now() + 3_600_000) * 1_000_000n;

function event(seq: number, type: string, more: object = {}): string {
  return JSON.stringify({ seq, ts: TS, zig_session_id: ID, type, ...more });
}

const STARTED = (seq = 1) => event(seq, "zig_session_started");
const OUTPUT = (seq: number) =>
  event(seq, "step_output", { step_name: "s", stream: "stdout", line: "x" });
const ENDED = (seq: number) =>
  event(seq, "zig_session_ended", { status: "success", duration_ms: 5 });

/** A log named after its session, holding exactly these bytes. */
function logOf(dir: string, content: string | Uint8Array): string {
  const path = join(dir, `${ID}.jsonl`);
  if (typeof content === "string") Deno.writeTextFileSync(path, content);
  else Deno.writeFileSync(path, content);
  return path;
}

function kinds(check: SessionLogCheck): Array<[LogProblemKind, number?]> {
  return check.problems.map((p) => [p.kind, p.line]);
}

Deno.test("checkSessionLog: a log the writer wrote and ended has no problem", async () => {
  using tmp = tempDir();
  const writer = testWriter(tmp.path);
  writer.tierStarted(0, ["s"]);
  writer.stepOutput({ stepName: "s", stream: "stdout", line: "hi" });
  writer.ended("failure", 3);
  const check = await checkSessionLog(writer.logPath);
  assert.deepEqual(check.problems, []);
  assert.equal(check.state, "failure");
  assert.equal(check.sessionId, writer.sessionId);
  assert.equal(check.ended?.status, "failure");
  assert.equal(check.last?.type, "zig_session_ended");
  assert.equal(check.tornAt, undefined);
});

Deno.test("checkSessionLog: each problem of a line, with its kind, line and verify's message", async () => {
  using tmp = tempDir();
  const lines = [
    event(1, "step_output", { step_name: "s", stream: "stdout", line: "a" }),
    "{not json",
    '{"seq":"2","type":"x"}',
    event(3, "heartbeat", { interval_secs: 10 }),
    event(3, "step_output", {
      step_name: "\ud800",
      stream: "stdout",
      line: "b",
    }),
    JSON.stringify({
      seq: 4,
      ts: TS,
      zig_session_id: "other",
      type: "heartbeat",
    }),
    ENDED(5),
    OUTPUT(6),
    OUTPUT(7),
  ];
  const check = await checkSessionLog(logOf(tmp.path, lines.join("\n") + "\n"));
  assert.deepEqual(kinds(check), [
    ["first_not_started", 1],
    ["not_json", 2],
    ["not_event", 3],
    ["seq_out_of_order", 4],
    ["lone_surrogate", 5],
    ["seq_out_of_order", 5],
    ["foreign_event", 6],
    ["after_end", 8],
  ]);
  assert.deepEqual(check.problems.map((p) => p.message), [
    "line 1: first event is step_output, not zig_session_started",
    "line 2: not JSON",
    "line 3: not an event",
    "line 4: seq 3, expected 2",
    "line 5: a lone surrogate (half of a character), which zig cannot read (the log is rejected whole)",
    "line 5: seq 3, expected 4",
    `line 6: zig_session_id other is not the log's ${ID}`,
    "line 8: 2 event(s) written after the session ended at line 7",
  ]);
  // The last event that parsed, and the end it had.
  assert.equal(check.ended, undefined);
  assert.equal(check.last?.seq, 7);
});

Deno.test("checkSessionLog: a well-formed escaped pair is no lone surrogate", async () => {
  using tmp = tempDir();
  const emoji = event(2, "step_output", {
    step_name: "s",
    stream: "stdout",
    line: "x",
  })
    .replace('"x"', '"\\ud83d\\ude00"');
  const path = logOf(tmp.path, [STARTED(), emoji, ENDED(3)].join("\n") + "\n");
  assert.deepEqual((await checkSessionLog(path)).problems, []);
});

Deno.test("checkSessionLog: bytes that are not UTF-8", async () => {
  using tmp = tempDir();
  const enc = new TextEncoder();
  const bytes = [
    ...enc.encode(STARTED() + "\n"),
    ...enc.encode(OUTPUT(2)).map((b, i, all) =>
      i === all.length - 3 ? 0xff : b
    ),
    ...enc.encode("\n" + ENDED(3) + "\n"),
  ];
  const check = await checkSessionLog(logOf(tmp.path, new Uint8Array(bytes)));
  assert.deepEqual(kinds(check), [["invalid_utf8", 2]]);
  assert.equal(
    check.problems[0].message,
    "line 2: bytes that are not UTF-8 (zig cannot read the log)",
  );
});

Deno.test("checkSessionLog: an empty log", async () => {
  using tmp = tempDir();
  const check = await checkSessionLog(logOf(tmp.path, ""), { now: LATER });
  assert.deepEqual(check.problems, [{ kind: "empty", message: "empty log" }]);
});

Deno.test("checkSessionLog: a torn tail is a problem once the session is abandoned, a write in progress while it runs", async () => {
  using tmp = tempDir();
  const complete = [STARTED(), OUTPUT(2)].join("\n") + "\n";
  const path = logOf(tmp.path, complete + '{"seq":3,"ts":"2026');
  const abandoned = await checkSessionLog(path, { now: LATER });
  assert.equal(abandoned.state, "abandoned");
  assert.deepEqual(kinds(abandoned), [["torn_line", 3], [
    "abandoned",
    undefined,
  ]]);
  assert.equal(
    abandoned.problems[0].message,
    "line 3: torn (no newline: a write cut short)",
  );
  assert.match(
    abandoned.problems[1].message,
    /^no end event, and nothing written since \S+: abandoned$/,
  );
  assert.equal(abandoned.tornAt, new TextEncoder().encode(complete).length);
  assert.equal(abandoned.unfinishedAt, undefined);

  const running = await checkSessionLog(path);
  assert.equal(running.state, "running");
  assert.deepEqual(running.problems, []);
  assert.equal(running.tornAt, undefined);
  assert.equal(running.unfinishedAt, new TextEncoder().encode(complete).length);
});

Deno.test("checkSessionLog: a torn line after the end is a problem even now", async () => {
  using tmp = tempDir();
  const complete = [STARTED(), ENDED(2)].join("\n") + "\n";
  const check = await checkSessionLog(logOf(tmp.path, complete + '{"seq":3'));
  assert.equal(check.state, "success");
  assert.deepEqual(kinds(check), [["torn_line", 3]]);
  assert.equal(check.tornAt, new TextEncoder().encode(complete).length);
});

Deno.test("checkSessionLog: a log that does not exist throws a ZigError naming it", async () => {
  using tmp = tempDir();
  const path = join(tmp.path, `${ID}.jsonl`);
  await assert.rejects(
    () => checkSessionLog(path),
    (error: Error) => error.name === "ZigError" && error.message.includes(path),
  );
});
