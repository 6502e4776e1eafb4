import assert from "node:assert/strict";
import { KNOWN_EVENT_TYPES } from "../../mod.ts";
import { copyFixtureHome, tempDir, testWriter } from "../_helpers.ts";
import { runCli, workspace } from "./_helpers.ts";
import { FIXTURE_LINES, SUCCESS_LINES } from "./_zig_lines.ts";

function session(root: string) {
  const w = workspace(root);
  const writer = testWriter(w.home, { projectRoot: w.repo });
  writer.ended("success", 1);
  return { ...w, id: writer.sessionId };
}

Deno.test("events ID --latest is a usage error, not a silent choice", async () => {
  using tmp = tempDir();
  const w = session(tmp.path);
  const r = await runCli(["events", w.id.slice(0, 4), "--latest"], w.opts);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.match(
    r.stderr,
    /^zig-session: Give a session id or --latest, not both/,
  );
});

Deno.test("events --type of an unknown type: usage error naming the known types", async () => {
  using tmp = tempDir();
  const w = session(tmp.path);
  const r = await runCli(["events", w.id, "--type", "nonsense"], w.opts);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.equal(
    r.stderr,
    `zig-session: Unknown event type "nonsense": expected one of ${
      KNOWN_EVENT_TYPES.join(", ")
    }\nRun 'zig-session events --help' for usage\n`,
  );
  const known = await runCli([
    "events",
    w.id,
    "--type",
    "zig_session_ended",
    "--json",
  ], w.opts);
  assert.equal(known.code, 0);
  assert.equal(JSON.parse(known.stdout).type, "zig_session_ended");
});

Deno.test("events --last -1: a clear message, not the parser's", async () => {
  using tmp = tempDir();
  const w = session(tmp.path);
  for (const args of [["--last", "-1"], ["--last=-1"]]) {
    const r = await runCli(["events", w.id, ...args], w.opts);
    assert.equal(r.code, 2);
    assert.equal(
      r.stderr,
      `zig-session: Invalid --last "-1": expected a non-negative integer\nRun 'zig-session events --help' for usage\n`,
    );
  }
});

Deno.test("events: zig's listen lines for the reference's sessions, exactly; heartbeats in a line of our own", async () => {
  using tmp = tempDir();
  const home = copyFixtureHome(tmp.path);
  const opts = { home, cwd: tmp.path };
  for (const [prefix, lines] of Object.entries(FIXTURE_LINES)) {
    const r = await runCli(["events", prefix, "--global"], opts);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.equal(
      r.stdout,
      lines.map((l) => `${l ?? "♥ heartbeat"}\n`).join(""),
      prefix,
    );
  }
  const stamped = await runCli([
    "events",
    "94dc",
    "--global",
    "--timestamps",
    "--type",
    "step_output",
  ], opts);
  assert.equal(
    stamped.stdout,
    `2026-11-23T22:41:46.369218144+00:00 ${SUCCESS_LINES[3]}\n` +
      `2026-11-23T22:41:46.369237641+00:00 ${SUCCESS_LINES[4]}\n`,
  );
});
