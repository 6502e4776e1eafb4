import assert from "node:assert/strict";
import { join } from "node:path";
import {
  KNOWN_EVENT_TYPES,
  readSessionEvents,
  SessionWriter,
} from "../../mod.ts";
import { tailBytesRead } from "../../lib/_log_tail.ts";
import {
  appendLongEvent,
  appendMessyLog,
  copyFixtureHome,
  FIXTURE_HOME,
  lines,
  tempDir,
  testWriter,
} from "../_helpers.ts";
import {
  cliProcess,
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

const MB = 1 << 20;
/** A heap far smaller than the line the test writes. */
const CAPPED_HEAP = { DENO_V8_FLAGS: "--max-old-space-size=32" };

function longLineSession(root: string) {
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
  const s = longLineSession(tmp.path);
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
  const s = longLineSession(tmp.path);
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
  const s = longLineSession(tmp.path);
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

/**
 * What `events` prints: every line parsed, then filtered; with types, only
 * lines that hold `"type":"T"` as zig writes it (compact, unescaped) are
 * looked at.
 */
function fullRead(
  lines: string[],
  options: {
    types?: string[];
    after?: number;
    before?: number;
    last?: number;
  },
): string[] {
  const kept: string[] = [];
  for (const text of lines) {
    let event: { type?: unknown; seq?: number } | null;
    try {
      event = JSON.parse(text);
    } catch {
      continue;
    }
    if (
      options.types &&
      (!options.types.includes(event?.type as string) ||
        !text.includes(`"type":"${event?.type}"`))
    ) continue;
    if (options.after !== undefined && !((event?.seq ?? NaN) > options.after)) {
      continue;
    }
    if (
      options.before !== undefined && !((event?.seq ?? NaN) < options.before)
    ) continue;
    kept.push(text);
  }
  return options.last === undefined
    ? kept
    : options.last === 0
    ? []
    : kept.slice(-options.last);
}

function messySession(root: string, count: number) {
  const ws = workspace(root);
  const w = SessionWriter.create({
    zigHome: ws.home,
    projectRoot: ws.repo,
    workflowName: "messy",
    workflowPath: "w.zwf",
    tierCount: 1,
  });
  w.close();
  const log = appendMessyLog(w.logPath, { sessionId: w.sessionId, count });
  return { ...ws, id: w.sessionId, path: w.logPath, log };
}

Deno.test("events: every filter, --count and --last give what parsing every line gives, on a log with escapes, malformed, blank, non-UTF-8 and torn lines", async () => {
  using tmp = tempDir();
  const s = messySession(tmp.path, 3000);
  const cases: Array<[string[], Parameters<typeof fullRead>[1]]> = [
    [[], {}],
    [["--type", "step_output"], { types: ["step_output"] }],
    [["--type", "step_failed"], { types: ["step_failed"] }],
    [["--type", "step_failed", "--type", "heartbeat"], {
      types: ["step_failed", "heartbeat"],
    }],
    [["--after-seq", "2500"], { after: 2500 }],
    [["--before-seq", "100", "--after-seq", "40"], { before: 100, after: 40 }],
    [["--type", "step_output", "--after-seq", "1000"], {
      types: ["step_output"],
      after: 1000,
    }],
  ];
  for (const [args, filters] of cases) {
    for (const last of [undefined, 0, 1, 7, 500, 100_000]) {
      const extra = last === undefined ? [] : ["--last", String(last)];
      const expected = fullRead(s.log.lines, { ...filters, last });
      const printed = await runCli(
        ["events", s.id, "--json", ...args, ...extra],
        s.opts,
      );
      const what = [...args, ...extra].join(" ");
      assert.equal(printed.code, 0, printed.stderr);
      assert.deepEqual(
        printed.stdout === "" ? [] : printed.stdout.slice(0, -1).split("\n"),
        expected,
        what,
      );
      const counted = await runCli(
        ["events", s.id, "--count", ...args, ...extra],
        s.opts,
      );
      assert.equal(counted.stdout, `${expected.length}\n`, what);
      // The torn end is always told.
      assert.match(counted.stderr, /is torn/, what);
    }
  }
  // Text output agrees too.
  const text = await runCli(["events", s.id, "--last", "40"], s.opts);
  const all = await runCli(["events", s.id], s.opts);
  assert.deepEqual(
    text.stdout.split("\n").slice(-41),
    all.stdout.split("\n").slice(-41),
  );
});

Deno.test("events: bad lines are told with their line numbers, or reading backward with their byte offsets", async () => {
  using tmp = tempDir();
  const s = messySession(tmp.path, 400);
  const all = await runCli(["events", s.id, "--count"], s.opts);
  for (const line of s.log.malformed) {
    assert.match(all.stderr, new RegExp(`Line ${line} of .* is malformed`));
  }
  assert.match(all.stderr, /holds bytes that are not UTF-8/);
  assert.match(all.stderr, /Line \d+ of .* is torn/);
  // Backward, the last lines' problems, in file order, by byte offset.
  const last = await runCli(["events", s.id, "--last", "10"], s.opts);
  assert.match(
    last.stderr,
    /The line at byte \d+ of .* holds bytes that are not UTF-8[^]*The last line of .* is torn: it has no newline \(30 bytes from byte \d+/,
  );
  const bytes = Deno.readFileSync(s.path);
  const offset = Number(/torn: .* from byte (\d+)/.exec(last.stderr)![1]);
  assert.equal(bytes.length - offset, 30);
  assert.equal(bytes[offset - 1], 10);
});

/** Runs `fn` counting the calls of JSON.parse it makes. */
async function parses(fn: () => Promise<unknown>): Promise<number> {
  const parse = JSON.parse;
  let calls = 0;
  JSON.parse = (...args: Parameters<typeof parse>) => {
    calls++;
    return parse(...args);
  };
  try {
    await fn();
  } finally {
    JSON.parse = parse;
  }
  return calls;
}

Deno.test("events parses only the lines it must: --type candidates, and for --count none of zig's output lines", async () => {
  using tmp = tempDir();
  const s = messySession(tmp.path, 3000);
  const failed = fullRead(s.log.lines, { types: ["step_failed"] }).length;
  assert.ok(failed > 50);
  let printed = "";
  const calls = await parses(async () => {
    printed = (await runCli(
      ["events", s.id, "--type", "step_failed", "--json"],
      s.opts,
    )).stdout;
  });
  assert.equal(printed.split("\n").length - 1, failed);
  // Each step_failed line, the custom events that mention the type, and a
  // few for the index: not the thousands of other lines.
  assert.ok(calls < failed + 150, `${calls} parses for ${failed} events`);
  const counting = await parses(() =>
    runCli(["events", s.id, "--count"], s.opts)
  );
  const other = s.log.lines.filter((l) => !l.includes('"type":"step_output"'));
  assert.ok(
    counting < other.length + 400 && counting < s.log.lines.length / 2,
    `${counting} parses for ${s.log.lines.length} lines`,
  );
});

Deno.test("events --last reads the log from its end: a few kilobytes of a large log", async () => {
  using tmp = tempDir();
  const s = messySession(tmp.path, 20);
  // Grow the log to 16 MB of output lines, then its messy end.
  const line = JSON.stringify({
    seq: 99,
    ts: "2026-11-23T22:41:46+00:00",
    zig_session_id: s.id,
    type: "step_output",
    step_name: "s",
    stream: "stdout",
    line: "y".repeat(300),
  }) + "\n";
  Deno.writeTextFileSync(s.path, line.repeat((16 << 20) / line.length), {
    append: true,
  });
  const end = appendMessyLog(s.path, {
    sessionId: s.id,
    count: 60,
    seq: 100,
  });
  const before = tailBytesRead.count;
  const r = await runCli(["events", s.id, "--last", "20", "--json"], s.opts);
  const read = tailBytesRead.count - before;
  assert.deepEqual(
    r.stdout.slice(0, -1).split("\n"),
    fullRead(end.lines, { last: 20 }),
  );
  assert.ok(read < 256 * 1024, `read ${read} bytes`);
});

Deno.test("cli events: stored lines exactly with --json, and every filter", async () => {
  using tmp = tempDir();
  const home = copyFixtureHome(tmp.path);
  const opts = { home, cwd: tmp.path };
  const log = join(
    FIXTURE_HOME,
    "projects",
    "home-ada-src-shop",
    "logs",
    "sessions",
    "94dc5b48-4970-4ccd-be2d-613789b21c13.jsonl",
  );
  const raw = await runCli(["events", "94dc5b48", "--global", "--json"], opts);
  assert.equal(raw.code, 0, raw.stderr);
  assert.equal(raw.stdout, Deno.readTextFileSync(log));
  const seqs = async (args: string[]) =>
    (await runCli(["events", "94dc", "--global", "--json", ...args], opts))
      .stdout
      .trim().split("\n").filter((l) => l).map((l) => JSON.parse(l).seq);
  assert.deepEqual(await seqs(["--type", "step_output"]), [4, 5]);
  assert.deepEqual(
    await seqs(["--type", "step_output", "--type", "heartbeat"]),
    [4, 5, 10],
  );
  assert.deepEqual(await seqs(["--after-seq", "9"]), [10, 11, 12]);
  assert.deepEqual(await seqs(["--before-seq", "3"]), [1, 2]);
  assert.deepEqual(await seqs(["--last", "2"]), [11, 12]);
  const count = await runCli([
    "events",
    "94dc",
    "--global",
    "--count",
    "--type",
    "step_completed",
  ], opts);
  assert.equal(count.stdout, "2\n");
  const text = await runCli(["events", "94dc", "--global"], opts);
  assert.match(text.stdout, /^\[plan\] hello\tworld/m);
  assert.match(text.stdout, /^■ zig session ended \(Success\) in 0ms$/m);
});
