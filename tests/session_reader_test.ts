import assert from "node:assert/strict";
import { join } from "node:path";
import {
  readSessionEvents,
  type SessionLogEvent,
  type SessionProblem,
  streamSessionEvents,
  ZigError,
} from "../mod.ts";
import {
  appendMessyLog,
  FIXTURE_HOME,
  FIXTURE_PROJECT,
  lines,
  projectFile,
  runDeno,
  tempDir,
} from "./_helpers.ts";
/** The reference's wf-failure log: six events. */
const FAILURE_LOG = join(
  FIXTURE_PROJECT,
  "logs",
  "sessions",
  "20a9856f-cdbb-4398-8d8e-33a1b4a88819.jsonl",
);

function fixtureLogs(): string[] {
  const dirs = [
    join(FIXTURE_PROJECT, "logs", "sessions"),
    join(FIXTURE_HOME, "logs", "sessions"),
  ];
  return dirs.flatMap((d) =>
    [...Deno.readDirSync(d)].map((e) => join(d, e.name))
  );
}

Deno.test("every fixture log reads without error, every field intact", async () => {
  const logs = fixtureLogs();
  assert.equal(logs.length, 5);
  for (const log of logs) {
    const problems: SessionProblem[] = [];
    const events = await readSessionEvents(log, {
      onProblem: (p) => problems.push(p),
    });
    assert.deepEqual(problems, []);
    // Serializing what was read gives the file back: nothing lost or reordered.
    assert.deepEqual(events.map((e) => JSON.stringify(e)), lines(log));
  }
  const success = await readSessionEvents(
    join(
      FIXTURE_PROJECT,
      "logs",
      "sessions",
      "94dc5b48-4970-4ccd-be2d-613789b21c13.jsonl",
    ),
  );
  const out = success[3];
  assert.ok(out.type === "step_output");
  assert.equal(out.line, 'hello\tworld \u0001\u001f "quoted" \\ back');
  const started = success[0];
  assert.ok(started.type === "zig_session_started");
  assert.equal(
    started.prompt,
    'review the "auth" module\nthen summarize — ünïcödé ✓',
  );
});

Deno.test("a torn last line is reported; every complete event before it is returned", async () => {
  using tmp = tempDir();
  const path = join(tmp.path, "s.jsonl");
  const good = lines(FAILURE_LOG);
  Deno.writeTextFileSync(
    path,
    good.slice(0, 4).join("\n") + "\n" + good[4].slice(0, 40),
  );
  const problems: SessionProblem[] = [];
  const events = await readSessionEvents(path, {
    onProblem: (p) => problems.push(p),
  });
  assert.deepEqual(events.map((e) => e.seq), [1, 2, 3, 4]);
  assert.equal(problems.length, 1);
  assert.equal(problems[0].kind, "torn_line");
  assert.equal(problems[0].line, 5);
  const complete = new TextEncoder().encode(good.slice(0, 4).join("\n") + "\n");
  assert.equal(
    problems[0].offset,
    complete.length,
    "where the torn line starts",
  );
  // A complete JSON line that lost only its newline is torn too.
  Deno.writeTextFileSync(path, good.slice(0, 5).join("\n"));
  const again: SessionProblem[] = [];
  assert.equal(
    (await readSessionEvents(path, { onProblem: (p) => again.push(p) })).length,
    4,
  );
  assert.deepEqual(again.map((p) => [p.kind, p.line]), [["torn_line", 5]]);
});

Deno.test("a malformed line is reported with its number and the rest is read", async () => {
  using tmp = tempDir();
  const path = join(tmp.path, "s.jsonl");
  const good = lines(FAILURE_LOG);
  Deno.writeTextFileSync(
    path,
    [good[0], "{not json", good[1], "", "[1,2]", good[2]].join("\n") + "\n",
  );
  const problems: SessionProblem[] = [];
  const events: SessionLogEvent[] = [];
  for await (
    const e of streamSessionEvents(path, { onProblem: (p) => problems.push(p) })
  ) events.push(e);
  assert.deepEqual(events.map((e) => e.seq), [1, 2, 3]);
  assert.deepEqual(problems.map((p) => [p.kind, p.line]), [[
    "malformed_line",
    2,
  ], ["malformed_line", 5]]);
  assert.match(
    problems[0].message,
    /Line 2 of .* is malformed: it is not JSON/,
  );
  // The line itself and the parser's reason, for a caller's own report.
  assert.deepEqual(problems.map((p) => [p.text, p.reason]), [
    ["{not json", errorOf(() => JSON.parse("{not json"))],
    ["[1,2]", 'not an event object with "seq" and "type"'],
  ]);
});

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("It did not throw");
}

Deno.test("without a handler, problems go to stderr rather than vanish", async () => {
  using tmp = tempDir();
  const path = join(tmp.path, "s.jsonl");
  Deno.writeTextFileSync(
    path,
    '{"seq":1,"ts":"t","zig_session_id":"a","type":"heartbeat","interval_secs":10}\n{"seq":2',
  );
  const r = await runDeno([
    "run",
    "--allow-read",
    projectFile("tests/workers/read_log.ts"),
    path,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "1");
  assert.match(r.stderr, /zig-session: Line 2 of .* is torn/);
});

Deno.test("invalid UTF-8 becomes U+FFFD instead of failing the read, and is reported", async () => {
  using tmp = tempDir();
  const path = join(tmp.path, "s.jsonl");
  const encode = (text: string) => new TextEncoder().encode(text);
  const event = (seq: number, line: string) =>
    `{"seq":${seq},"ts":"t","zig_session_id":"a","type":"step_output","step_name":"s","stream":"stdout","line":"${line}"}\n`;
  Deno.writeFileSync(
    path,
    new Uint8Array([
      ...encode(event(1, "a real \ufffd, written as such")),
      ...encode(event(2, "a").slice(0, -3)),
      0xff,
      0xfe,
      ...encode('b"}\n'),
      ...encode(event(3, "fine")),
    ]),
  );
  const problems: SessionProblem[] = [];
  const events = await readSessionEvents(path, {
    onProblem: (p) => problems.push(p),
  });
  assert.deepEqual(events.map((e) => e.seq), [1, 2, 3]);
  const second = events[1];
  assert.ok(second.type === "step_output");
  assert.equal(second.line, "a\ufffd\ufffdb");
  assert.deepEqual(problems.map((p) => [p.kind, p.line]), [[
    "invalid_utf8",
    2,
  ]]);
  assert.match(problems[0].message, /Line 2 of .* not UTF-8/);
});

Deno.test("UTF-8 is judged per line, whatever the chunks the file is read in", async () => {
  using tmp = tempDir();
  const path = join(tmp.path, "s.jsonl");
  const MB = 1 << 20;
  const file = Deno.openSync(path, { create: true, write: true });
  const head = new TextEncoder().encode(
    '{"seq":1,"ts":"t","zig_session_id":"a","type":"step_output","step_name":"s","stream":"stdout","line":"',
  );
  file.writeSync(head);
  // "é" across the 1 MiB boundary of the reader's chunks: valid.
  const fill = new Uint8Array(MB - head.length - 1).fill(0x78);
  file.writeSync(fill);
  file.writeSync(new Uint8Array([0xc3, 0xa9, 0x22, 0x7d, 0x0a]));
  // Line 2 spans two chunks and holds a lone continuation byte: invalid.
  file.writeSync(head);
  file.writeSync(new Uint8Array(MB).fill(0x79));
  file.writeSync(new Uint8Array([0xa9, 0x22, 0x7d, 0x0a]));
  file.close();
  const problems: SessionProblem[] = [];
  const events = await readSessionEvents(path, {
    onProblem: (p) => problems.push(p),
  });
  assert.equal(events.length, 2);
  const [first, second] = events;
  assert.ok(first.type === "step_output" && second.type === "step_output");
  assert.ok(first.line.endsWith("xé"));
  assert.ok(second.line.endsWith("y\ufffd"));
  assert.deepEqual(problems.map((p) => [p.kind, p.line]), [[
    "invalid_utf8",
    2,
  ]]);
});

Deno.test("a missing log is a not_found error naming it", async () => {
  await assert.rejects(
    () => readSessionEvents("/nonexistent/x.jsonl"),
    (e: unknown) =>
      e instanceof ZigError && e.kind === "not_found" &&
      e.message.includes("/nonexistent/x.jsonl"),
  );
});

Deno.test("streaming a large log keeps memory bounded", async () => {
  using tmp = tempDir();
  const path = join(tmp.path, "big.jsonl");
  const file = Deno.openSync(path, { create: true, write: true });
  const enc = new TextEncoder();
  const pad = "x".repeat(1000);
  let chunk = "";
  for (let i = 1; i <= 150_000; i++) {
    chunk +=
      `{"seq":${i},"ts":"2026-11-23T22:41:46+00:00","zig_session_id":"a","type":"step_output","step_name":"s","stream":"stdout","line":"${pad}"}\n`;
    if (chunk.length > 1 << 20) {
      file.writeSync(enc.encode(chunk));
      chunk = "";
    }
  }
  file.writeSync(enc.encode(chunk));
  file.close();
  const size = Deno.statSync(path).size;
  assert.ok(size > 150_000_000);
  // In a fresh process whose heap is capped far below the file's size: the
  // stream finishes; reading the file whole, as a control, cannot.
  const cap = "--v8-flags=--max-old-space-size=48";
  const worker = projectFile("tests/workers/stream_log.ts");
  const r = await runDeno(["run", "--allow-read", cap, worker, path]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(Number(r.stdout.trim()), 150_000);
  const whole = await runDeno([
    "run",
    "--allow-read",
    cap,
    worker,
    path,
    "whole",
  ]);
  assert.notEqual(
    whole.code,
    0,
    "reading the whole file fit the cap: the test proves nothing",
  );
});

Deno.test("a line longer than any string (a sparse 540 MB line) is reported and skipped, the events around it read", async () => {
  using tmp = tempDir();
  const path = join(tmp.path, "long.jsonl");
  const event = (seq: number, type: string) =>
    JSON.stringify({
      seq,
      ts: "2026-11-23T22:41:46+00:00",
      zig_session_id: "a",
      type,
      ...(type === "zig_session_ended"
        ? { status: "success", duration_ms: 5 }
        : {}),
    }) + "\n";
  const head = event(1, "heartbeat") + '{"seq":2,"line":"';
  const longLength = 540_000_000; // over V8's longest string, 536,870,888
  const file = Deno.openSync(path, { write: true, create: true });
  file.writeSync(new TextEncoder().encode(head));
  file.truncateSync(longLength); // the rest of the line: a hole of zeros
  file.seekSync(0, Deno.SeekMode.End);
  file.writeSync(
    new TextEncoder().encode("\n" + event(3, "zig_session_ended")),
  );
  file.close();
  const problems: SessionProblem[] = [];
  const events = await readSessionEvents(path, {
    onProblem: (p) => problems.push(p),
  });
  // Before: an uncaught TypeError ("buffer exceeds maximum length").
  assert.deepEqual(events.map((e) => e.seq), [1, 3]);
  assert.equal(problems.length, 1);
  assert.equal(problems[0].kind, "malformed_line");
  assert.equal(problems[0].line, 2);
  assert.match(problems[0].message, /cannot be read: it is \d+ bytes long/);
});

Deno.test("readSessionEvents builds zig's output lines from their text: the same events, problems and order as parsing every line", async () => {
  using tmp = tempDir();
  const path = join(tmp.path, "messy.jsonl");
  Deno.writeTextFileSync(path, "");
  const log = appendMessyLog(path, { sessionId: "s-1", count: 5000 });
  const problems = (list: SessionProblem[]) => (p: SessionProblem) =>
    list.push(p);
  const parsedProblems: SessionProblem[] = [];
  const parsed: SessionLogEvent[] = [];
  for await (
    const event of streamSessionEvents(path, {
      onProblem: problems(parsedProblems),
    })
  ) parsed.push(event);
  const builtProblems: SessionProblem[] = [];
  const parse = JSON.parse;
  let calls = 0;
  JSON.parse = (...args: Parameters<typeof parse>) => {
    calls++;
    return parse(...args);
  };
  let built: SessionLogEvent[];
  try {
    built = await readSessionEvents(path, {
      onProblem: problems(builtProblems),
    });
  } finally {
    JSON.parse = parse;
  }
  // Same keys in the same order, same values: the same JSON.
  assert.deepEqual(
    built.map((e) => JSON.stringify(e)),
    parsed.map((e) => JSON.stringify(e)),
  );
  assert.deepEqual(builtProblems, parsedProblems);
  assert.ok(parsedProblems.length >= log.malformed.length + 2); // + UTF-8, torn
  const outputs =
    log.lines.filter((l) =>
      l.includes('"type":"step_output"') && !l.includes("\\")
    ).length;
  // The other lines, and the zig-shaped ones that are malformed further on.
  assert.ok(
    calls <= log.lines.length - outputs + 100,
    `${calls} parses for ${log.lines.length} lines, ${outputs} zig's output lines`,
  );
});
