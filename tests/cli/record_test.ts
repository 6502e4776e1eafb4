// `zig-session record` (and `start`): the heartbeat interval is declared at
// once, so that a long interval is known before its first beat is due.
import assert from "node:assert/strict";
import { join } from "node:path";
import { readSessionEvents, sessionLogPath } from "../../mod.ts";
import { ageLog, tempDir } from "../_helpers.ts";
import { cliCommand, runCli, workspace } from "./_helpers.ts";

/** Waits until the only log of the project has an event of this type. */
async function logWith(project: string, type: string): Promise<string> {
  const dir = join(project, "logs", "sessions");
  for (let i = 0; i < 600; i++) {
    try {
      for (const item of Deno.readDirSync(dir)) {
        const path = join(dir, item.name);
        const events = await readSessionEvents(path, { onProblem: () => {} });
        if (events.some((e) => e.type === type)) return path;
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`No log with a ${type} event in ${dir}`);
}

async function stateOf(opts: { home: string; cwd: string }, id: string) {
  const listed = JSON.parse((await runCli(["list", "--json"], opts)).stdout);
  return listed.find((s: { zig_session_id: string }) => s.zig_session_id === id)
    ?.state;
}

Deno.test("record --heartbeat 60s: silent for 40 s before its first beat is due, still running", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const child = cliCommand(
    ["record", "--heartbeat", "60s", "--quiet", "--", "sleep", "30"],
    w.opts,
  ).spawn();
  try {
    const logPath = await logWith(w.project, "step_started");
    const id = (await readSessionEvents(logPath))[0].zig_session_id;
    ageLog(logPath, 40); // as if the command had been silent for 40 s
    assert.equal(await stateOf(w.opts, id), "running");
    const events = await readSessionEvents(logPath);
    assert.deepEqual(
      events.slice(0, 2).map((e) => e.type === "heartbeat" ? e : e.type),
      [
        "zig_session_started",
        { ...events[1], type: "heartbeat", interval_secs: 60 },
      ],
      "the interval comes in a heartbeat right after the start",
    );
    ageLog(logPath, 190); // over 3 intervals of 60 s
    assert.equal(await stateOf(w.opts, id), "abandoned");
  } finally {
    child.kill("SIGTERM");
    await child.output();
  }
});

Deno.test("record --session --heartbeat 60s declares its interval when it attaches", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const started = await runCli(["start", "--idle-timeout", "3s"], w.opts);
  assert.equal(started.code, 0, started.stderr);
  const id = started.stdout.trim();
  const logPath = sessionLogPath(w.project, id);
  const first = await readSessionEvents(logPath);
  assert.ok(first[1].type === "heartbeat" && first[1].interval_secs === 1);
  const child = cliCommand(
    [
      "record",
      "--session",
      id,
      "--heartbeat",
      "60s",
      "--quiet",
      "--",
      "sleep",
      "30",
    ],
    w.opts,
  ).spawn();
  try {
    await logWith(w.project, "step_started");
    const events = await readSessionEvents(logPath);
    const beats = events.filter((e) => e.type === "heartbeat");
    assert.deepEqual(
      beats.map((e) => e.type === "heartbeat" && e.interval_secs),
      [1, 60],
    );
    ageLog(logPath, 40);
    assert.equal(await stateOf(w.opts, id), "running");
  } finally {
    child.kill("SIGTERM");
    await child.output();
  }
});
