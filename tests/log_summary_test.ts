import assert from "node:assert/strict";
import { summarizeLog } from "../mod.ts";
import { bytesRead } from "../lib/_log_summary.ts";
import { appendLongEvent, tempDir, testWriter } from "./_helpers.ts";

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
