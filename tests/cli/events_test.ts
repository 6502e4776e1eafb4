import assert from "node:assert/strict";
import { SessionWriter } from "../../mod.ts";
import { appendLongEvent, tempDir } from "../_helpers.ts";
import { cliProcess, runCli, workspace } from "./_helpers.ts";

const MB = 1 << 20;
/** A heap far smaller than the line the test writes. */
const CAPPED_HEAP = { DENO_V8_FLAGS: "--max-old-space-size=32" };

function session(root: string) {
  const ws = workspace(root);
  const w = SessionWriter.create({
    zigHome: ws.home,
    projectRoot: ws.repo,
    workflowName: "long-lines",
    workflowPath: "w.zwf",
    tierCount: 1,
  });
  w.close();
  return { ...ws, id: w.sessionId, log: w.logPath };
}

function appendHeartbeat(log: string, seq: number, id: string) {
  Deno.writeTextFileSync(
    log,
    `{"seq":${seq},"ts":"2026-11-23T22:41:46+00:00","zig_session_id":"${id}","type":"heartbeat","interval_secs":10}\n`,
    { append: true },
  );
}

Deno.test("events --count: a line far larger than the heap is counted streaming", async () => {
  using tmp = tempDir();
  const s = session(tmp.path);
  appendLongEvent(s.log, { seq: 2, sessionId: s.id, fill: 128 * MB });
  appendHeartbeat(s.log, 3, s.id);
  const capped = { ...s.opts, env: CAPPED_HEAP };
  const all = await cliProcess(["events", s.id, "--count"], capped);
  assert.equal(all.code, 0, all.stderr);
  assert.equal(all.stdout, "3\n");
  const typed = await cliProcess(
    ["events", s.id, "--count", "--type", "step_output", "--after-seq", "1"],
    capped,
  );
  assert.equal(typed.code, 0, typed.stderr);
  assert.equal(typed.stdout, "1\n");
  // The control: printing the events holds each line whole, which the cap
  // does not allow; so the cap is what the counts above were held to.
  const whole = await cliProcess(
    ["events", s.id, "--type", "heartbeat"],
    capped,
  );
  assert.notEqual(whole.code, 0, "the 128 MB line fit the cap: proves nothing");
});

Deno.test("events --count: long lines filtered, malformed and torn as short ones are", async () => {
  using tmp = tempDir();
  const s = session(tmp.path);
  appendLongEvent(s.log, { seq: 2, sessionId: s.id, fill: 3 * MB });
  // Broken 2 MB in: a bad escape.
  appendLongEvent(s.log, {
    seq: 3,
    sessionId: s.id,
    fill: 2 * MB,
    after: ',"bad":"\\q"',
  });
  appendHeartbeat(s.log, 4, s.id);
  appendLongEvent(s.log, {
    seq: 5,
    sessionId: s.id,
    fill: 2 * MB,
    newline: false,
  });
  const count = async (...args: string[]) => {
    const r = await runCli(["events", s.id, "--count", ...args], s.opts);
    assert.equal(r.code, 0, r.stderr);
    return { n: Number(r.stdout), stderr: r.stderr };
  };
  const all = await count();
  assert.equal(all.n, 3);
  assert.match(all.stderr, /Line 3 of .* is malformed/);
  assert.match(all.stderr, /Line 5 of .* is torn/);
  assert.equal((await count("--type", "step_output")).n, 1);
  assert.equal((await count("--before-seq", "3")).n, 2);
  assert.equal((await count("--after-seq", "2")).n, 1);
  assert.equal((await count("--last", "2")).n, 2);
  // Printing them agrees.
  const printed = await runCli(["events", s.id, "--json"], s.opts);
  assert.deepEqual(
    printed.stdout.trim().split("\n").map((l) => JSON.parse(l).seq),
    [1, 2, 4],
  );
});

Deno.test("events --count: bytes that are not UTF-8 in a long line are reported, characters cut by chunks are not", async () => {
  using tmp = tempDir();
  const s = session(tmp.path);
  // Multibyte characters across the 1 MiB chunk boundaries of a 4 MB line.
  appendLongEvent(s.log, {
    seq: 2,
    sessionId: s.id,
    fill: 10,
    tail: "é€😀x".repeat(400_000),
  });
  const bytes = Deno.readFileSync(s.log);
  assert.ok(
    [1, 2, 3].some((k) => (bytes[k * MB] & 0xc0) === 0x80),
    "a chunk boundary falls inside a character",
  );
  let r = await runCli(["events", s.id, "--count"], s.opts);
  assert.equal(r.stdout, "2\n");
  assert.equal(r.stderr, "");
  bytes[bytes.length - 2_000_000] = 0xff; // inside line 2's value
  Deno.writeFileSync(s.log, bytes);
  r = await runCli(["events", s.id, "--count"], s.opts);
  assert.equal(r.stdout, "2\n", "the event is still counted");
  assert.match(r.stderr, /Line 2 of .* holds bytes that are not UTF-8/);
});
