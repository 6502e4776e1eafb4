// `zig-session end`: never while steps still run, unless forced; nothing after the end.
import assert from "node:assert/strict";
import { join } from "node:path";
import { readSessionEvents } from "../../mod.ts";
import { readText, tempDir } from "../_helpers.ts";
import { assertReferenceReads } from "../_reference.ts";
import { cliCommand, ourStderr, runCli, workspace } from "./_helpers.ts";

Deno.test("end refuses while a record --session runs, --force ends it, and the step's later events are refused", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const started = await runCli(["start", "--workflow", "pipeline"], w.opts);
  assert.equal(started.code, 0, started.stderr);
  const id = started.stdout.trim();
  const log = join(w.project, "logs", "sessions", `${id}.jsonl`);
  const go = join(tmp.path, "go");
  const child = cliCommand([
    "record",
    "--session",
    id,
    "--step",
    "slow",
    "--",
    "sh",
    "-c",
    `echo ready; while [ ! -e '${go}' ]; do sleep 0.05; done; echo after`,
  ], w.opts).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream())
    .getReader();
  const seen = await readText(reader, { marker: "ready" });

  const refused = await runCli(["end", id], w.opts);
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /session \S+ has 1 step\(s\) still running: slow \(started [^)]+\); wait for them to finish, or end it anyway with --force/,
  );
  let events = await readSessionEvents(log);
  assert.ok(events.every((e) => e.type !== "zig_session_ended"));

  const forced = await runCli(["end", id, "--force"], w.opts);
  assert.equal(forced.code, 0, forced.stderr);
  Deno.writeTextFileSync(go, "");
  const output = await readText(reader, { seen });
  const status = await child.status;
  const stderr = ourStderr(
    new TextDecoder().decode(await new Response(child.stderr).arrayBuffer()),
  );
  assert.match(output, /after/, "the command ran to its end");
  assert.equal(status.code, 1);
  assert.match(
    stderr,
    /the record of session \S+ is incomplete: \d+ event\(s\) could not be written \(Cannot write to session \S+: it has already ended \(success\)/,
  );
  events = await readSessionEvents(log);
  assert.equal(events.at(-1)?.type, "zig_session_ended");
  assert.equal(events.filter((e) => e.type === "zig_session_ended").length, 1);
  assert.ok(
    !events.some((e) => e.type === "step_completed"),
    "nothing of the step after the end",
  );
  assert.ok(await assertReferenceReads(log) !== 0);
  const verified = await runCli(["verify"], w.opts);
  assert.equal(verified.code, 0, verified.stdout);
});

Deno.test("end after every step finished needs no --force", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const id = (await runCli(["start"], w.opts)).stdout.trim();
  for (const step of ["a", "b"]) {
    const r = await runCli(
      ["record", "--session", id, "--step", step, "--quiet", "--", "true"],
      w.opts,
    );
    assert.equal(r.code, 0, r.stderr);
  }
  const failing = await runCli(
    ["record", "--session", id, "--step", "c", "--quiet", "--", "false"],
    w.opts,
  );
  assert.equal(failing.code, 1);
  const ended = await runCli(["end", id, "--status", "failure"], w.opts);
  assert.equal(ended.code, 0, ended.stderr);
});

Deno.test("end records the session's duration, started_at to the end: the figure list and show tell", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const id = (await runCli(["start", "--workflow", "timed"], w.opts)).stdout
    .trim();
  await new Promise((resolve) => setTimeout(resolve, 30));
  const ended = await runCli(["end", id], w.opts);
  assert.equal(ended.code, 0, ended.stderr);
  const [listed] = JSON.parse(
    (await runCli(["list", "--json"], w.opts)).stdout,
  );
  const events = await readSessionEvents(listed.log_path);
  const end = events.at(-1)!;
  assert.equal(end.type, "zig_session_ended");
  assert.equal(listed.ended_at, end.ts, "the end event's ts is ended_at");
  const ms = end.type === "zig_session_ended" ? end.duration_ms : -1;
  assert.ok(ms >= 30, `${ms}ms`);
  assert.equal(listed.duration_ms, ms);
  const show = JSON.parse(
    (await runCli(["show", id, "--json"], w.opts)).stdout,
  );
  assert.equal(show.duration_ms, ms);
});
