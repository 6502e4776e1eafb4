import assert from "node:assert/strict";
import { followSessionEvents, followSessionLines } from "../mod.ts";
import type { SessionLogEvent } from "../mod.ts";
import { projectFile, RUN_WORKER, tempDir, testWriter } from "./_helpers.ts";

Deno.test("following yields what is there, then each append, and stops at the end event", async () => {
  using tmp = tempDir();
  const w = testWriter(tmp.path);
  w.tierStarted(0, ["a"]);
  const seen: SessionLogEvent[] = [];
  // A slow poll: only the change notification can make this quick.
  const follow = (async () => {
    for await (const e of followSessionEvents(w.logPath, { pollMs: 60_000 })) {
      seen.push(e);
      if (e.type === "tier_started") {
        w.stepOutput({ stepName: "a", stream: "stdout", line: "one" });
      } else if (e.type === "step_output") {
        w.ended("success", 1);
      }
    }
  })();
  await follow;
  assert.deepEqual(seen.map((e) => e.type), [
    "zig_session_started",
    "tier_started",
    "step_output",
    "zig_session_ended",
  ]);
});

Deno.test("following sees events another process appends, a half-written line waited for", async () => {
  using tmp = tempDir();
  const w = testWriter(tmp.path, { shared: true });
  const seen: number[] = [];
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      ...RUN_WORKER,
      projectFile("tests/workers/append_slowly.ts"),
      tmp.path,
      w.logPath,
    ],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  for await (const e of followSessionEvents(w.logPath, { pollMs: 60_000 })) {
    seen.push(e.seq);
  }
  assert.equal((await child.status).code, 0);
  assert.deepEqual(seen, Array.from({ length: 22 }, (_, i) => i + 1));
  w.close();
});

Deno.test("aborting the signal ends the iteration of a session that never ends", async () => {
  using tmp = tempDir();
  const w = testWriter(tmp.path);
  const controller = new AbortController();
  const seen: string[] = [];
  setTimeout(() => controller.abort(), 100);
  for await (
    const e of followSessionEvents(w.logPath, {
      signal: controller.signal,
      pollMs: 60_000,
    })
  ) seen.push(e.type);
  assert.deepEqual(seen, ["zig_session_started"]);
  w.close();
});

Deno.test("following stops reading when aborted, even in the middle of a long log (wait --timeout was not kept)", async () => {
  using tmp = tempDir();
  const path = `${tmp.path}/long.jsonl`;
  const first = JSON.stringify({
    seq: 1,
    ts: "2026-11-23T22:41:46+00:00",
    zig_session_id: "a",
    type: "heartbeat",
    interval_secs: 10,
  });
  // The first read (64 KiB) holds the first event; what follows it is read
  // only if following goes on after the abort.
  Deno.writeTextFileSync(path, first + "\n".repeat(200_000) + "not json\n");
  const controller = new AbortController();
  const problems: string[] = [];
  const seen: number[] = [];
  for await (
    const event of followSessionEvents(path, {
      signal: controller.signal,
      onProblem: (p) => problems.push(p.kind),
    })
  ) {
    seen.push(event.seq);
    controller.abort();
  }
  assert.deepEqual(seen, [1]);
  assert.deepEqual(problems, [], "read on after the abort");
});

Deno.test("following lines yields them raw with their numbers, malformed and blank ones too, until the end event", async () => {
  using tmp = tempDir();
  const w = testWriter(tmp.path);
  // An output line that mentions the end event's type does not end it.
  w.stepOutput({
    stepName: "a",
    stream: "stdout",
    line: '"zig_session_ended"',
  });
  Deno.writeTextFileSync(w.logPath, "not json\n\n", { append: true });
  const seen: Array<[number, string]> = [];
  for await (
    const { line, text } of followSessionLines(w.logPath, { pollMs: 60_000 })
  ) {
    seen.push([line, text]);
    if (line === 4) w.ended("failure", 3);
  }
  const stored = Deno.readTextFileSync(w.logPath).split("\n").slice(0, -1);
  assert.equal(stored.length, 5);
  assert.deepEqual(seen, stored.map((text, i) => [i + 1, text]));
  assert.equal(seen[2][1], "not json");
  assert.equal(seen[3][1], "");
});

Deno.test("following lines after N skips the first N and still stops at an end event among them", async () => {
  using tmp = tempDir();
  const w = testWriter(tmp.path);
  w.stepOutput({ stepName: "a", stream: "stdout", line: "one" });
  w.stepOutput({ stepName: "a", stream: "stdout", line: "two" });
  const seen: number[] = [];
  const follow = (async () => {
    for await (
      const { line } of followSessionLines(w.logPath, {
        after: 2,
        pollMs: 60_000,
      })
    ) {
      seen.push(line);
      if (line === 3) w.ended("success", 1);
    }
  })();
  await follow;
  assert.deepEqual(seen, [3, 4]);
  // All of it already read: nothing to yield, and it does not wait.
  const again: number[] = [];
  for await (
    const { line } of followSessionLines(w.logPath, {
      after: 4,
      pollMs: 60_000,
    })
  ) again.push(line);
  assert.deepEqual(again, []);
});
