// The heartbeat shared by the session coordinator and `record --session`
// (lib/_heartbeat.ts).
import assert from "node:assert/strict";
import { readSessionEvents, SessionWriter } from "../mod.ts";
import { startHeartbeat } from "../lib/_heartbeat.ts";
import { tempDir } from "./_helpers.ts";

function newWriter(home: string): SessionWriter {
  return SessionWriter.create({
    zigHome: home,
    projectRoot: "/src/shop",
    workflowName: "w",
    workflowPath: "w.zwf",
    tierCount: 1,
  });
}

Deno.test("startHeartbeat: one at once declaring the interval, more on the timer, none after stop", async () => {
  using tmp = tempDir();
  const writer = newWriter(tmp.path);
  const heartbeat = startHeartbeat(writer, {
    intervalMs: 20,
    onFailure: (error) => assert.fail(String(error)),
  });
  assert.equal(heartbeat.intervalSecs, 1);
  const beats = async () =>
    (await readSessionEvents(writer.logPath)).filter((e) =>
      e.type === "heartbeat"
    );
  const first = await beats();
  assert.equal(first.length, 1, "the first one at once");
  assert.ok(first[0].type === "heartbeat" && first[0].interval_secs === 1);
  // Generous: a loaded machine delays timers.
  for (let i = 0; i < 200 && (await beats()).length < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.ok((await beats()).length >= 3);
  heartbeat.stop();
  const stopped = (await beats()).length;
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal((await beats()).length, stopped, "none after stop");
  writer.close();
});

Deno.test("startHeartbeat: a failed heartbeat is handed over and the timer goes on", async () => {
  using tmp = tempDir();
  const writer = newWriter(tmp.path);
  const failures: unknown[] = [];
  const heartbeat = startHeartbeat(writer, {
    intervalMs: 10,
    onFailure: (error) => failures.push(error),
  });
  // Every heartbeat fails (as on a full disk); the writer stays open.
  const realHeartbeat = writer.heartbeat.bind(writer);
  let calls = 0;
  writer.heartbeat = (secs: number) => {
    calls++;
    throw new Error(`disk full (${secs}s)`);
  };
  for (let i = 0; i < 200 && failures.length < 2; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  heartbeat.stop();
  writer.heartbeat = realHeartbeat;
  assert.ok(failures.length >= 2, "the timer went on after a failure");
  assert.equal(calls, failures.length);
  assert.match(String(failures[0]), /disk full \(1s\)/);
  writer.close();
});

Deno.test("startHeartbeat: the timer never keeps the process alive", async () => {
  using tmp = tempDir();
  const script = `
    import { SessionWriter } from "./mod.ts";
    import { startHeartbeat } from "./lib/_heartbeat.ts";
    const writer = SessionWriter.create({
      zigHome: ${JSON.stringify(tmp.path)},
      projectRoot: "/src/shop",
      workflowName: "w",
      workflowPath: "w.zwf",
      tierCount: 1,
    });
    startHeartbeat(writer, { intervalMs: 60_000, onFailure: () => {} });
    console.log("started");
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", script],
    cwd: new URL("..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.equal(new TextDecoder().decode(out.stdout), "started\n");
});
