// The CLI, run as a real subprocess with exactly the permissions the compile
// task bakes in (CLI_FLAGS of tests/cli/_helpers.ts).
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  globalIndexPath,
  loadGlobalIndex,
  loadProjectIndex,
  projectIndexPath,
  readSessionEvents,
} from "../mod.ts";
import type { SessionLogEvent } from "../mod.ts";
import {
  cliCommand,
  cliProcess,
  ourStderr,
  workspace,
} from "./cli/_helpers.ts";
import type { CliResult } from "./cli/_helpers.ts";
import { readText, tempDir } from "./_helpers.ts";

const cli = cliProcess;

function idFrom(stderr: string): string {
  const m = /session ([0-9a-f-]{36})/.exec(stderr);
  assert.ok(m, `no session id in: ${stderr}`);
  return m[1];
}

async function eventsOf(
  project: string,
  id: string,
): Promise<SessionLogEvent[]> {
  return await readSessionEvents(
    join(project, "logs", "sessions", `${id}.jsonl`),
  );
}

// ---------------------------------------------------------------- record

Deno.test("cli record: output lines by stream, a last line without newline, success", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const r = await cli([
    "record",
    "--workflow",
    "wf",
    "--step",
    "greet",
    "--model",
    "m1",
    "--prompt",
    "say hi",
    "--",
    "sh",
    "-c",
    "echo out; echo err >&2; printf 'no newline'",
  ], w.opts);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "out\nno newline", "output passes through");
  const id = idFrom(r.stderr);
  const events = await eventsOf(w.project, id);
  assert.deepEqual(events.map((e) => e.type), [
    "zig_session_started",
    "heartbeat", // at once, with the interval
    "tier_started",
    "step_started",
    ...Array(3).fill("step_output"),
    "step_completed",
    "zig_session_ended",
  ]);
  const started = events[3];
  assert.ok(started.type === "step_started");
  assert.equal(
    started.zag_command,
    `sh -c 'echo out; echo err >&2; printf '\\''no newline'\\'''`,
  );
  assert.equal(started.model, "m1");
  const outputs = events.filter((e) => e.type === "step_output").map((e) =>
    e.type === "step_output" && [e.stream, e.line]
  );
  assert.deepEqual(outputs.sort(), [
    ["stderr", "err"],
    ["stdout", "no newline"],
    ["stdout", "out"],
  ]);
  const end = events.at(-1)!;
  assert.ok(end.type === "zig_session_ended" && end.status === "success");
  const entry = loadProjectIndex(projectIndexPath(w.project)).sessions[0];
  assert.equal(entry.status, "success");
  assert.equal(entry.workflow_name, "wf");
});

Deno.test("cli record: exit codes of failure, a command that cannot start, and a signal", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const [fail, missing, killed] = await Promise.all([
    cli(["record", "--quiet", "--", "sh", "-c", "exit 3"], w.opts),
    cli(["record", "--quiet", "--", "no-such-command-zz"], w.opts),
    cli(["record", "--quiet", "--", "sh", "-c", "kill -9 $$"], w.opts),
  ]);
  assert.equal(fail.code, 3);
  assert.equal(missing.code, 127);
  assert.match(missing.stderr, /command not found: no-such-command-zz\n/);
  assert.equal(killed.code, 137);
  const expected: Array<[CliResult, number | null, RegExp]> = [
    [fail, 3, /exited with code 3/],
    [missing, null, /^spawn failed: /],
    [killed, null, /killed by SIGKILL/],
  ];
  for (const [r, code, error] of expected) {
    const events = await eventsOf(w.project, idFrom(r.stderr));
    const failed = events.find((e) => e.type === "step_failed");
    assert.ok(failed?.type === "step_failed");
    assert.equal(failed.exit_code, code);
    assert.match(failed.error, error);
    const end = events.at(-1)!;
    assert.ok(end.type === "zig_session_ended" && end.status === "failure");
  }
});

Deno.test("cli record: invalid UTF-8 becomes U+FFFD; a line over 1 MiB is split", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const r = await cli([
    "record",
    "--quiet",
    "--",
    "sh",
    "-c",
    "printf 'a\\377b\\n'; head -c 2500000 /dev/zero | tr '\\0' 'x'; printf '\\n'",
  ], w.opts);
  assert.equal(r.code, 0, r.stderr);
  const outputs = (await eventsOf(w.project, idFrom(r.stderr))).flatMap((e) =>
    e.type === "step_output" ? [e.line] : []
  );
  assert.equal(outputs[0], "a\ufffdb");
  const long = outputs.slice(1);
  assert.equal(long.length, 3);
  assert.ok(long.every((l) => new TextEncoder().encode(l).length <= 1 << 20));
  assert.equal(long.join(""), "x".repeat(2_500_000));
});

for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
  Deno.test(`cli record: ${signal} is forwarded to the command and the session ends as failure`, async () => {
    using tmp = tempDir();
    const w = workspace(tmp.path);
    const script = `trap "echo got-it; exit 7" ${
      signal.slice(3)
    }; echo ready; while :; do sleep 0.05; done`;
    const child = cliCommand(["record", "--", "sh", "-c", script], w.opts)
      .spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    const ready = await readText(reader, { marker: "ready" });
    child.kill(signal);
    const seen = await readText(reader, { seen: ready });
    const status = await child.status;
    const stderr = ourStderr(
      new TextDecoder().decode(await new Response(child.stderr).arrayBuffer()),
    );
    assert.equal(status.code, 7);
    assert.match(seen, /got-it/);
    const events = await eventsOf(w.project, idFrom(stderr));
    const failed = events.find((e) => e.type === "step_failed");
    assert.ok(failed?.type === "step_failed");
    assert.match(
      failed.error,
      new RegExp(`interrupted by ${signal}, exited with code 7`),
    );
    assert.ok(
      events.some((e) => e.type === "step_output" && e.line === "got-it"),
    );
    const end = events.at(-1)!;
    assert.ok(end.type === "zig_session_ended" && end.status === "failure");
  });
}

Deno.test("cli record: a second signal kills a command that ignores the first", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const child = cliCommand([
    "record",
    "--",
    "sh",
    "-c",
    'trap "echo ignored" TERM; echo ready; while :; do sleep 0.05; done',
  ], w.opts).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  await readText(reader, { marker: "ready" });
  child.kill("SIGTERM");
  await readText(reader, { marker: "ignored" });
  child.kill("SIGTERM");
  await readText(reader);
  const status = await child.status;
  const stderr = ourStderr(
    new TextDecoder().decode(await new Response(child.stderr).arrayBuffer()),
  );
  assert.equal(status.code, 137);
  const events = await eventsOf(w.project, idFrom(stderr));
  const failed = events.find((e) => e.type === "step_failed");
  assert.ok(failed?.type === "step_failed");
  assert.equal(failed.error, "killed by SIGKILL");
  assert.equal(events.at(-1)?.type, "zig_session_ended");
});

Deno.test("cli record: heartbeats while the command runs", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const r = await cli([
    "record",
    "--heartbeat",
    "100ms",
    "--quiet",
    "--",
    "sleep",
    "0.45",
  ], w.opts);
  assert.equal(r.code, 0, r.stderr);
  const events = await eventsOf(w.project, idFrom(r.stderr));
  const beats = events.filter((e) => e.type === "heartbeat");
  assert.ok(beats.length >= 2, `${beats.length} heartbeats`);
  const started = events.findIndex((e) => e.type === "step_started");
  const done = events.findIndex((e) => e.type === "step_completed");
  assert.ok(events.slice(started, done).some((e) => e.type === "heartbeat"));
});

Deno.test("cli start, record --session from parallel processes, end: one gapless session", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const started = await cli(
    ["start", "--workflow", "pipeline", "--tiers", "2"],
    w.opts,
  );
  assert.equal(started.code, 0, started.stderr);
  const id = started.stdout.trim();
  assert.match(id, /^[0-9a-f-]{36}$/);
  const steps = await Promise.all(
    ["a", "b", "c", "d"].map((step) =>
      cli([
        "record",
        "--session",
        id.slice(0, 8),
        "--step",
        step,
        "--tier",
        "1",
        "--quiet",
        "--",
        "sh",
        "-c",
        `for i in 1 2 3 4 5 6 7 8 9 10; do echo ${step}$i; done`,
      ], w.opts)
    ),
  );
  for (const s of steps) assert.equal(s.code, 0, s.stderr);
  const ended = await cli(
    ["end", id.slice(0, 8), "--status", "success"],
    w.opts,
  );
  assert.equal(ended.code, 0, ended.stderr);
  const events = await eventsOf(w.project, id);
  assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1));
  assert.equal(events.filter((e) => e.type === "step_output").length, 40);
  assert.equal(events.filter((e) => e.type === "step_completed").length, 4);
  assert.equal(events.at(-1)?.type, "zig_session_ended");
  assert.equal(
    loadGlobalIndex(globalIndexPath(w.home)).sessions[0].status,
    "success",
  );
  const again = await cli(["end", id], w.opts);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /has already ended \(success\)/);
  const late = await cli(["record", "--session", id, "--", "true"], w.opts);
  assert.equal(late.code, 1);
  assert.match(late.stderr, /has already ended/);
});
