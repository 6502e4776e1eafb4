import assert from "node:assert/strict";
import { visible } from "../../lib/_cli/common.ts";
import { join, relative } from "node:path";
import { main } from "../../cli.ts";
import {
  copyFixtureHome,
  FIXTURE_HOME,
  readText,
  tempDir,
  testWriter,
} from "../_helpers.ts";
import {
  cliCommand,
  cliProcess,
  controlsIn,
  runCli,
  workspace,
} from "./_helpers.ts";
import { FIXTURE_LINES, fixtureLog, SUCCESS_LINES } from "./_zig_lines.ts";
import { formatTimestamp, SessionWriter } from "../../mod.ts";
Deno.test("listen: an unknown --filter type and ID with --latest are usage errors", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const writer = testWriter(w.home, { projectRoot: w.repo });
  writer.ended("success", 1);
  const filter = await runCli(["listen", "--filter", "nonsense"], w.opts);
  assert.equal(filter.code, 2);
  assert.match(
    filter.stderr,
    /^zig-session: Unknown event type "nonsense": expected one of zig_session_started, .*, zig_session_ended\n/,
  );
  const both = await runCli(["listen", writer.sessionId, "--latest"], w.opts);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /Give a session id or --latest, not both/);
  assert.equal(filter.stdout + both.stdout, "");
});

/** A clock `days` behind this machine's. */
function behind(days: number): () => string {
  return () =>
    formatTimestamp(BigInt(Date.now() - days * 86_400_000) * 1_000_000n);
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("listen: a writer whose clock is 2 days behind is followed to its end, never called abandoned", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const writer = SessionWriter.create({
    zigHome: w.home,
    cwd: w.repo,
    workflowName: "late-clock",
    workflowPath: "w",
    tierCount: 1,
    clock: behind(2),
  });
  // Both follow until the end: --active finds the session as running.
  const active = runCli(["listen", "--active", "--json"], w.opts);
  const listening = runCli(["listen", writer.sessionId, "--json"], w.opts);
  for (let i = 0; i < 20; i++) {
    writer.stepOutput({ stepName: "s", stream: "stdout", line: `line ${i}` });
    await pause(125); // 2.5 s in all: the abandon watchdog looks every second
  }
  writer.ended("success", 2500);
  const [byId, byActive] = await Promise.all([listening, active]);
  assert.equal(byId.code, 0, byId.stderr);
  const lines = byId.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.filter((e) => e.type === "step_output").length, 20);
  assert.equal(lines.at(-1).type, "zig_session_ended");
  assert.equal(byActive.code, 0, byActive.stderr);
  assert.match(byActive.stdout, /"line 19"/);
});

Deno.test("listen: on a terminal, control characters in events are shown visibly; --json keeps them", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const writer = SessionWriter.create({
    zigHome: w.home,
    cwd: w.repo,
    workflowName: "wf\x1b[31m",
    workflowPath: "w",
    prompt: "two\nlines \x1b]0;title\x07",
    tierCount: 1,
  });
  writer.stepOutput({
    stepName: "st\x1bep",
    stream: "stderr",
    line: "\x1b[2J\x1b[Hgone\u009b",
  });
  writer.emit({ type: "agent_thought", text: "\x7f\x1b[8m" });
  writer.ended("success", 1);
  const human = await runCli(["listen", writer.sessionId], {
    ...w.opts,
    terminal: true,
  });
  assert.equal(human.code, 0, human.stderr);
  assert.deepEqual(controlsIn(human.stdout), [], human.stdout);
  assert.match(human.stdout, /wf\\x1b\[31m/);
  assert.ok(
    human.stdout.includes("[st\\x1bep] \\x1b[2J\\x1b[Hgone\\x9b"),
    human.stdout,
  );
  // Kinds zig does not know go to stderr as zig's parse errors, visibly.
  assert.deepEqual(controlsIn(human.stderr), [], human.stderr);
  assert.ok(
    human.stderr.includes(
      '[parse error] unknown event type "agent_thought": {"seq":3,',
    ),
    human.stderr,
  );
  const json = await runCli(["listen", writer.sessionId, "--json"], w.opts);
  const output = json.stdout.trim().split("\n").map((l) => JSON.parse(l))
    .find((e) => e.type === "step_output");
  assert.equal(output.line, "\x1b[2J\x1b[Hgone\u009b");
});

// ------------------------------------------------- zig's text, byte for byte

/** Where the copy of the fixtures holds a fixture session's log. */
function copiedLog(home: string, prefix: string): string {
  return join(home, relative(FIXTURE_HOME, fixtureLog(prefix)));
}

/** What stdout holds after these lines (undefined: nothing printed). */
function printed(lines: Array<string | undefined>): string {
  return lines.filter((l) => l !== undefined).map((l) => `${l}\n`).join("");
}

Deno.test("listen: zig's lines for each of the reference's sessions, exactly; stderr names the log", async () => {
  using tmp = tempDir();
  const home = copyFixtureHome(tmp.path);
  const opts = { home, cwd: tmp.path };
  for (const [prefix, lines] of Object.entries(FIXTURE_LINES)) {
    const r = await runCli(["listen", prefix, "--global"], opts);
    assert.equal(r.stdout, printed(lines), prefix);
    const listening = `listening to session log: ${copiedLog(home, prefix)}\n`;
    if (prefix === "181f613a") {
      // Never ended, its process long gone: printed whole, then abandoned.
      assert.equal(r.code, 1);
      assert.ok(r.stderr.startsWith(listening), r.stderr);
      assert.match(r.stderr, /was abandoned/);
    } else {
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, listening);
    }
  }
});

Deno.test("listen with no argument is listen --latest, as in zig", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const sessions = ["first", "second"].map((name) => {
    const writer = testWriter(w.home, {
      projectRoot: w.repo,
      workflowName: name,
      tierCount: 1,
    });
    writer.ended("success", 3);
    return writer;
  });
  const bare = await runCli(["listen"], w.opts);
  const latest = await runCli(["listen", "--latest"], w.opts);
  const expected = {
    code: 0,
    stdout: "▶ zig session started: second (1 tier)\n" +
      "■ zig session ended (Success) in 3ms\n",
    stderr: `listening to session log: ${sessions[1].logPath}\n`,
  };
  assert.deepEqual(bare, expected);
  assert.deepEqual(latest, expected);
});

Deno.test("listen: a line that does not parse gets zig's [parse error] line on stderr, and listening goes on", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const writer = testWriter(w.home, { projectRoot: w.repo, tierCount: 2 });
  const short = "not json";
  const long =
    `{"seq":2,"ts":"2026-11-23T22:41:46.369218144+00:00","type":"step_output","line":"cut short`;
  Deno.writeTextFileSync(writer.logPath, `${short}\n  ${long}\n`, {
    append: true,
  });
  writer.emit({ type: "agent_thought", text: "a later zig's event" });
  writer.ended("failure", 12);
  const reason = (text: string) => {
    try {
      JSON.parse(text);
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error(`${text} parses`);
  };
  const stored = Deno.readTextFileSync(writer.logPath).split("\n");
  const unknown = stored.find((l) => l.includes("agent_thought"))!;
  const r = await runCli(["listen", writer.sessionId.slice(0, 8)], w.opts);
  assert.equal(r.code, 0);
  assert.equal(
    r.stdout,
    "▶ zig session started: w (2 tiers)\n" +
      "■ zig session ended (Failure) in 12ms\n",
  );
  assert.equal(
    r.stderr,
    `listening to session log: ${writer.logPath}\n` +
      `[parse error] ${reason(short)}: not json\n` +
      // Trimmed, then its first 80 bytes and an ellipsis.
      `[parse error] ${reason(`  ${long}`)}: ${long.slice(0, 80)}…\n` +
      `[parse error] unknown event type "agent_thought": ${
        unknown.slice(0, 80)
      }…\n`,
  );
});

Deno.test("listen: --timestamps and --filter over zig's lines; colors only where the writer allows them", async () => {
  using tmp = tempDir();
  const home = copyFixtureHome(tmp.path);
  const opts = { home, cwd: tmp.path };
  const r = await runCli(
    ["listen", "20a9", "--global", "--timestamps", "--filter", "step_failed"],
    opts,
  );
  assert.equal(r.code, 0);
  assert.equal(
    r.stdout,
    "2026-11-23T22:41:46.404935480+00:00   step 'build' failed (attempt 1): spawn failed: No such file or directory\n" +
      "2026-11-23T22:41:46.404940269+00:00   step 'build' failed (attempt 2): killed\n",
  );
  let colored = "";
  const code = await main(["listen", "94dc", "--global"], {
    zigHome: home,
    cwd: tmp.path,
    out: {
      write: (text) => void (colored += text),
      isTerminal: true,
      color: true,
    },
    err: { write() {}, isTerminal: true, color: true },
  });
  assert.equal(code, 0);
  assert.ok(colored.includes("\x1b["), colored);
  // On a terminal, control characters of the log are shown visibly.
  assert.equal(
    // deno-lint-ignore no-control-regex
    colored.replace(/\x1b\[\d+m/g, ""),
    printed(SUCCESS_LINES.map((l) => l === undefined ? l : visible(l))),
  );
});

Deno.test("cli listen: prints a live session's events as they come, exits at its end", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const id = (await cliProcess(["start", "--workflow", "live"], w.opts)).stdout
    .trim();
  const listener = cliCommand(
    ["listen", id.slice(0, 8), "--timestamps"],
    w.opts,
  ).spawn();
  const reader = listener.stdout.pipeThrough(new TextDecoderStream())
    .getReader();
  let seen = await readText(reader, { marker: "▶ zig session started" });
  const rec = await cliProcess([
    "record",
    "--session",
    id,
    "--step",
    "talk",
    "--quiet",
    "--",
    "sh",
    "-c",
    "echo hello live",
  ], w.opts);
  assert.equal(rec.code, 0, rec.stderr);
  seen = await readText(reader, { marker: "hello live", seen });
  await cliProcess(["end", id], w.opts);
  seen = await readText(reader, { seen });
  assert.equal((await listener.status).code, 0);
  const stderr = await new Response(listener.stderr).text();
  assert.match(
    stderr,
    new RegExp(`^listening to session log: \\S+/${id}\\.jsonl\n`),
  );
  assert.match(
    seen,
    /^\d{4}-\d\d-\d\dT\S+ ▶ zig session started: live \(1 tier\)$/m,
  );
  assert.match(seen, /^\S+ \[talk\] hello live$/m);
  assert.match(seen, /^\S+ ■ zig session ended \(Success\) in \d+ms$/m);
});

Deno.test("cli listen: an ended session prints whole and exits; --json and --filter", async () => {
  using tmp = tempDir();
  const home = copyFixtureHome(tmp.path);
  const opts = { home, cwd: tmp.path };
  const r = await runCli([
    "listen",
    "20a9",
    "--global",
    "--json",
    "--filter",
    "step_failed",
  ], opts);
  assert.equal(r.code, 0, r.stderr);
  const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(events.map((e) => [e.type, e.attempt]), [
    ["step_failed", 1],
    ["step_failed", 2],
  ]);
  const latest = await runCli(["listen", "--global"], opts);
  assert.match(
    latest.stdout,
    /^▶ zig session started: wf-success \(2 tiers\)$/m,
  );
  assert.match(
    latest.stderr,
    /listening to session log: \S+\/b5ac6738-\S+\.jsonl/,
  );
});

Deno.test("cli listen --active and an abandoned session", async () => {
  using tmp = tempDir();
  const home = copyFixtureHome(tmp.path);
  const opts = { home, cwd: tmp.path };
  const none = await runCli(["listen", "--active", "--global"], opts);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no session is running/);
  const abandoned = await runCli(["listen", "181f", "--global"], opts);
  assert.equal(abandoned.code, 1);
  assert.ok(
    abandoned.stdout.includes(
      "\n  running step 'long' (zag exec, session=zag-4444)...\n",
    ),
    abandoned.stdout,
  );
  assert.match(abandoned.stderr, /was abandoned/);
});
