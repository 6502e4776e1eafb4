import assert from "node:assert/strict";
import { KNOWN_EVENT_TYPES, readSessionEvents } from "../../mod.ts";
import { copyFixtureHome, lines, tempDir, testWriter } from "../_helpers.ts";
import {
  controlsIn,
  HOSTILE,
  hostileSession,
  runCli,
  workspace,
} from "./_helpers.ts";
import { FIXTURE_LINES, SUCCESS_LINES } from "./_zig_lines.ts";
import { hostileHome, snapshot } from "./_hostile.ts";
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

Deno.test("events refuses an index entry whose log_path or id leads out of the zig home, and prints none of its bytes", async () => {
  using tmp = tempDir();
  const h = hostileHome(tmp.path);
  const before = snapshot(h.outside);
  for (const id of Object.values(h.ids)) {
    for (const args of [["events", id], ["events", id, "--json"]]) {
      const r = await runCli(args, h.opts);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /is not followed/);
      assert.ok(r.stderr.includes(id), r.stderr);
      assert.ok(!r.stderr.includes("SECRET"), r.stderr);
    }
  }
  // The real session still reads.
  const ok = await runCli(["events", h.realId, "--count"], h.opts);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout.trim(), "2");
  assert.deepEqual(snapshot(h.outside), before);
});

Deno.test("search skips an entry that leads out of the zig home, and says so", async () => {
  using tmp = tempDir();
  const h = hostileHome(tmp.path);
  const r = await runCli(["search", "real.zwf"], h.opts);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.includes(h.realId), r.stdout);
  assert.equal(r.stderr.match(/skipped: .*is not followed/g)?.length, 3);
  assert.ok(!(r.stdout + r.stderr).includes("SECRET"));
});

Deno.test("events: on a terminal, control characters in every field are shown visibly; --json keeps the stored bytes", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const writer = hostileSession(w);
  for (const extra of [[], ["--timestamps"]]) {
    const human = await runCli(["events", writer.sessionId, ...extra], {
      ...w.opts,
      terminal: true,
    });
    assert.equal(human.code, 0, human.stderr);
    assert.deepEqual(controlsIn(human.stdout), [], human.stdout);
    for (
      const shown of [
        "wf\\x1b]0;pwned\\x07",
        "[st\\x1b[8mep] \\x1b[H\\x1b[2Jconnection refused\\r",
        "(zag cmd \\x1b[1m model=m\\x9b31m, session=z)",
        "bad\\x1b[5m",
        "skip\\x7f",
      ]
    ) {
      assert.ok(human.stdout.includes(shown), `${shown} in\n${human.stdout}`);
    }
  }
  const json = await runCli(["events", writer.sessionId, "--json"], w.opts);
  assert.deepEqual(json.stdout.trim().split("\n"), lines(writer.logPath));
  const output = (await readSessionEvents(writer.logPath)).find((e) =>
    e.type === "step_output"
  );
  assert.ok(output?.type === "step_output" && output.line === HOSTILE.line);
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
