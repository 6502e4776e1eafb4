import assert from "node:assert/strict";
import { summarizeLog } from "../mod.ts";
import { bytesRead } from "../lib/_log_summary.ts";
import { basename, join } from "node:path";
import {
  appendLongEvent,
  FIXTURE_HOME,
  tempDir,
  testWriter,
} from "./_helpers.ts";

const MB = 1 << 20;

Deno.test("a huge last line is found reading each byte at most twice, its long value left out", () => {
  using tmp = tempDir();
  const w = testWriter(tmp.path);
  w.close();
  appendLongEvent(w.logPath, { seq: 2, sessionId: w.sessionId, fill: 24 * MB });
  const size = Deno.statSync(w.logPath).size;
  const before = bytesRead.count;
  const summary = summarizeLog(w.logPath);
  const read = bytesRead.count - before;
  // Backward once to find where the line starts, forward once to check it:
  // never the growing re-reads (or re-joins) of a quadratic scan.
  assert.ok(read <= 2 * size + 256 * 1024, `read ${read} bytes of ${size}`);
  assert.equal(summary.first?.type, "zig_session_started");
  assert.equal(summary.last?.seq, 2);
  assert.equal(summary.last?.type, "step_output");
  assert.equal(summary.last?.step_name, "s");
  assert.equal(summary.last?.zig_session_id, w.sessionId);
  assert.ok(!("line" in summary.last!), "the 24 MB value is not held");
  assert.equal(summary.complete, true);

  // Behind a short last line, the huge one is not read at all.
  Deno.writeTextFileSync(
    w.logPath,
    `{"seq":3,"ts":"2026-11-23T22:41:46+00:00","zig_session_id":"${w.sessionId}","type":"heartbeat","interval_secs":10}\n`,
    { append: true },
  );
  const again = bytesRead.count;
  assert.equal(summarizeLog(w.logPath).last?.type, "heartbeat");
  assert.ok(bytesRead.count - again < 256 * 1024);
});

Deno.test("a huge first line keeps its short members", () => {
  using tmp = tempDir();
  const w = testWriter(tmp.path, {
    workflowName: "big-prompt",
    prompt: "p".repeat(3 * MB),
  });
  w.close();
  const { first, last } = summarizeLog(w.logPath);
  assert.equal(first?.type, "zig_session_started");
  assert.equal(first?.workflow_name, "big-prompt");
  assert.equal(first?.zig_session_id, w.sessionId);
  assert.equal(first?.tier_count, 1);
  assert.ok(!("prompt" in first!));
  assert.equal(last?.workflow_name, "big-prompt");
});

Deno.test("a huge last line that is malformed or torn is passed over", () => {
  using tmp = tempDir();
  const w = testWriter(tmp.path);
  w.heartbeat();
  w.close();
  // Broken in its middle: a bad escape 2 MB in.
  appendLongEvent(w.logPath, {
    seq: 3,
    sessionId: w.sessionId,
    fill: 2 * MB,
    tail: "x",
    after: ',"bad":"\\q"',
  });
  let summary = summarizeLog(w.logPath);
  assert.equal(summary.last?.type, "heartbeat");
  assert.equal(summary.complete, true);
  // Then a huge torn line: no newline.
  appendLongEvent(w.logPath, {
    seq: 4,
    sessionId: w.sessionId,
    fill: 3 * MB,
    newline: false,
  });
  summary = summarizeLog(w.logPath);
  assert.equal(summary.last?.type, "heartbeat");
  assert.equal(summary.complete, false);
});

Deno.test("short and long lines summarize alike", () => {
  using tmp = tempDir();
  for (const fill of [10, 3 * MB]) {
    const w = testWriter(tmp.path);
    w.close();
    appendLongEvent(w.logPath, {
      seq: 2,
      sessionId: w.sessionId,
      fill,
      ts: "2026-11-23T22:41:46+00:00",
      after: ',"nested":{"a":[1,2.5e3,true,null,"\\u00e9\\n"]},"n":-0.5',
    });
    const { last } = summarizeLog(w.logPath);
    assert.ok(last !== undefined);
    delete last.line;
    assert.deepEqual(last, {
      seq: 2,
      ts: "2026-11-23T22:41:46+00:00",
      zig_session_id: w.sessionId,
      type: "step_output",
      step_name: "s",
      stream: "stdout",
      nested: { a: [1, 2500, true, null, "é\n"] },
      n: -0.5,
    });
  }
});

function fixtureLogs(): string[] {
  const logs: string[] = [];
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) walk(path);
      else if (entry.name.endsWith(".jsonl") && dir.endsWith("sessions")) {
        logs.push(path);
      }
    }
  };
  walk(FIXTURE_HOME);
  return logs.sort();
}

Deno.test("the typed fields of every fixture log say what its first and last lines say", () => {
  const logs = fixtureLogs();
  assert.ok(logs.length >= 4, `fixture logs: ${logs.length}`);
  let endedLogs = 0;
  for (const log of logs) {
    const lines = Deno.readTextFileSync(log).split("\n").filter((l) => l);
    const first = JSON.parse(lines[0]);
    const last = JSON.parse(lines.at(-1)!);
    const s = summarizeLog(log);
    assert.equal(s.firstType, "zig_session_started", log);
    assert.equal(s.sessionId, first.zig_session_id, log);
    assert.equal(s.sessionId, basename(log, ".jsonl"), log);
    assert.equal(s.workflowName, first.workflow_name, log);
    assert.equal(s.workflowPath, first.workflow_path, log);
    assert.equal(s.workspacePath, first.workspace_path, log);
    assert.equal(s.startedAt, first.ts, log);
    assert.equal(s.lastType, last.type, log);
    assert.equal(s.lastSeq, last.seq, log);
    assert.equal(s.lastSeq, lines.length, log);
    assert.equal(s.lastTs, last.ts, log);
    assert.equal(
      s.declaredIntervalSecs,
      last.type === "heartbeat" ? last.interval_secs : undefined,
      log,
    );
    if (last.type === "zig_session_ended") {
      endedLogs++;
      assert.deepEqual(s.ended, {
        status: last.status,
        ts: last.ts,
        durationMs: last.duration_ms,
      }, log);
    } else {
      assert.equal(s.ended, undefined, log);
    }
    // Kept for compatibility.
    assert.deepEqual(s.first, first, log);
    assert.deepEqual(s.last, last, log);
  }
  assert.ok(endedLogs > 0 && endedLogs < logs.length, "ended and open logs");
});

Deno.test("typed fields of the fixtures' success and running sessions", () => {
  const byName = new Map(
    fixtureLogs().map((log) => [summarizeLog(log).workflowName, log]),
  );
  const success = summarizeLog(byName.get("wf-success")!);
  assert.equal(success.sessionId, "94dc5b48-4970-4ccd-be2d-613789b21c13");
  assert.equal(success.startedAt, "2026-11-23T22:41:46.368967612+00:00");
  assert.equal(success.workflowPath, "/work/flows/success.zwf");
  assert.deepEqual(success.ended, {
    status: "success",
    ts: "2026-11-23T22:41:46.369469048+00:00",
    durationMs: 0,
  });
  const running = summarizeLog(byName.get("wf-running")!);
  assert.equal(running.ended, undefined);
  assert.equal(running.lastType, "step_started");
  assert.equal(running.lastSeq, 3);
});

function summaryOf(dir: string, text: string) {
  const path = join(dir, "damaged.jsonl");
  Deno.writeTextFileSync(path, text);
  return summarizeLog(path);
}

const START =
  '{"seq":1,"ts":"2026-11-23T22:41:45+00:00","zig_session_id":"s1","type":"zig_session_started","workflow_name":"w","workflow_path":"w.zwf","workspace_path":"/p","cwd":"/","prompt":null,"tier_count":1}\n';

Deno.test("typed fields of damaged logs are absent rather than wrong", () => {
  using tmp = tempDir();
  // Empty.
  let s = summaryOf(tmp.path, "");
  for (
    const key of [
      "firstType",
      "sessionId",
      "startedAt",
      "lastType",
      "lastSeq",
      "lastTs",
      "ended",
    ] as const
  ) assert.equal(s[key], undefined, key);

  // A torn last line: the last complete line speaks.
  s = summaryOf(
    tmp.path,
    START +
      '{"seq":2,"ts":"2026-11-23T22:41:46+00:00","zig_session_id":"s1","type":"heartbeat","interval_secs":30}\n{"seq":3,"ts":"2026-11-23T22:41:4',
  );
  assert.equal(s.complete, false);
  assert.equal(s.sessionId, "s1");
  assert.equal(s.lastType, "heartbeat");
  assert.equal(s.lastSeq, 2);
  assert.equal(s.lastTs, "2026-11-23T22:41:46+00:00");
  assert.equal(s.declaredIntervalSecs, 30);
  assert.equal(s.ended, undefined);

  // A first line that is not JSON: nothing from the start.
  s = summaryOf(
    tmp.path,
    'garbage\n{"seq":2,"type":"zig_session_ended","status":"success","duration_ms":5,"ts":"t"}\n',
  );
  assert.equal(s.firstType, undefined);
  assert.equal(s.sessionId, undefined);
  assert.equal(s.workflowName, undefined);
  assert.deepEqual(s.ended, { status: "success", ts: "t", durationMs: 5 });

  // A first event of another kind: its id is no session's start.
  s = summaryOf(
    tmp.path,
    '{"seq":1,"ts":"t","zig_session_id":"s1","type":"heartbeat","interval_secs":10}\n',
  );
  assert.equal(s.firstType, "heartbeat");
  assert.equal(s.sessionId, undefined);
  assert.equal(s.startedAt, undefined);
  assert.equal(s.declaredIntervalSecs, 10);

  // Members of the wrong type.
  s = summaryOf(
    tmp.path,
    '{"seq":1,"ts":5,"zig_session_id":7,"type":"zig_session_started","workflow_name":null}\n' +
      '{"seq":2.5,"ts":null,"type":"heartbeat","interval_secs":"10"}\n',
  );
  assert.equal(s.firstType, "zig_session_started");
  assert.equal(s.sessionId, undefined);
  assert.equal(s.startedAt, undefined);
  assert.equal(s.workflowName, undefined);
  assert.equal(s.lastSeq, undefined);
  assert.equal(s.lastTs, undefined);
  assert.equal(s.declaredIntervalSecs, undefined);

  // A heartbeat declaring no usable interval.
  s = summaryOf(
    tmp.path,
    START + '{"seq":2,"type":"heartbeat","interval_secs":0}\n',
  );
  assert.equal(s.declaredIntervalSecs, undefined);

  // An end of unknown status is no end; one without ts or duration is.
  s = summaryOf(
    tmp.path,
    START +
      '{"seq":2,"ts":"t","type":"zig_session_ended","status":"cancelled"}\n',
  );
  assert.equal(s.lastType, "zig_session_ended");
  assert.equal(s.ended, undefined);
  s = summaryOf(
    tmp.path,
    START + '{"seq":2,"type":"zig_session_ended","status":"failure"}\n',
  );
  assert.deepEqual(s.ended, { status: "failure", ts: null, durationMs: null });
});
