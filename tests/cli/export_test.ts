// `zig-session export`: sessions into an OTLP receiver, checked with the
// official OTLP definitions (tests/_otlp_receiver.ts), not the exporter's own.
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseTimestamp, readSessionEvents } from "../../mod.ts";
import {
  copyFixtureHome,
  FIXTURE_HOME,
  projectFile,
  tempDir,
  testWriter,
} from "../_helpers.ts";
import {
  decodeJson,
  flatLogs,
  flatSpans,
  otlpReceiver,
  type OtlpRequest,
  type Receiver,
  TYPES,
} from "../_otlp_receiver.ts";
import { cliCommand, cliProcess, ourStderr, runCli } from "./_helpers.ts";

/** Every event of the fixture home, by session id. */
async function fixtureEvents() {
  const byId = new Map<string, Array<Record<string, unknown>>>();
  for (
    const dir of [
      join(FIXTURE_HOME, "logs", "sessions"),
      join(FIXTURE_HOME, "projects", "home-ada-src-shop", "logs", "sessions"),
    ]
  ) {
    for (const entry of Deno.readDirSync(dir)) {
      const events = await readSessionEvents(join(dir, entry.name));
      byId.set(
        entry.name.replace(".jsonl", ""),
        events as unknown as Array<Record<string, unknown>>,
      );
    }
  }
  return byId;
}

const SUCCESS = "94dc5b48-4970-4ccd-be2d-613789b21c13";
const FAILURE = "20a9856f-cdbb-4398-8d8e-33a1b4a88819";
const RUNNING = "181f613a-2887-417d-8246-5b15c35d4640";
const OUTSIDE = "b5ac6738-480f-4faf-8c21-2c8136fd6eec";

const hex = (id: string) => id.replaceAll("-", "");

Deno.test("export maps every fixture session to a trace and every event to a log record", async () => {
  using dir = tempDir();
  const home = copyFixtureHome(dir.path);
  const receiver = otlpReceiver();
  try {
    const result = await runCli(
      ["export", "--global", "--endpoint", receiver.url],
      { home },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /exported 36 log records and 14 spans of 5 sessions/,
    );
    for (const r of receiver.requests) {
      assert.equal(r.protocol, "protobuf");
      assert.ok(r.gzip, "requests are gzipped by default");
    }
    const expected = await fixtureEvents();
    const logs = flatLogs(receiver.requests);
    const spans = flatSpans(receiver.requests);
    assert.equal(logs.length, 36);

    // Every event once, as a log record of its session's trace.
    for (const [id, events] of expected) {
      const mine = logs.filter((l) => l.record.traceId === hex(id));
      assert.deepEqual(
        mine.map((l) => l.attributes["zig.seq"]),
        events.map((e) => e.seq),
        `the log records of ${id}`,
      );
      for (const [i, log] of mine.entries()) {
        const event = events[i];
        assert.equal(
          log.record.timeUnixNano,
          String(parseTimestamp(String(event.ts))),
          "nanosecond time from ts",
        );
        assert.equal(log.attributes["zig.type"], event.type);
        assert.equal(log.attributes["zig.session_id"], id);
        assert.equal(log.record.eventName, `zig.${event.type}`);
        for (const [key, value] of Object.entries(event)) {
          if (["seq", "ts", "zig_session_id", "type"].includes(key)) continue;
          if (event.type === "step_output" && key === "line") continue;
          assert.deepEqual(
            log.attributes[`zig.${key}`],
            value === null ? undefined : value,
            `${id} #${event.seq} field ${key}`,
          );
        }
        if (event.type === "step_output") {
          assert.equal(log.record.body.stringValue, event.line);
          assert.equal(
            log.record.severityNumber,
            event.stream === "stderr" ? 13 : 9,
          );
        }
        if (event.type === "step_failed") {
          assert.equal(log.record.severityNumber, 17);
          assert.equal(log.record.severityText, "ERROR");
        }
        if (event.type === "zig_session_ended") {
          assert.equal(
            log.record.severityNumber,
            event.status === "success" ? 9 : 17,
          );
        }
        // The log record points at a span of its trace that was sent.
        assert.ok(
          spans.some((s) =>
            s.span.traceId === hex(id) && s.span.spanId === log.record.spanId
          ),
          `${id} #${event.seq}: span ${log.record.spanId} was sent`,
        );
      }
    }
    // Control characters and non-ASCII survive exactly.
    assert.ok(
      logs.some((l) =>
        l.record.body.stringValue ===
          'hello\tworld \u0001\u001f "quoted" \\ back'
      ),
    );
    assert.ok(
      logs.some((l) => l.record.body.stringValue === "warn: 日本語 🚀"),
    );

    // Resource: service, host, project.
    const hostname = Deno.hostname();
    for (const l of logs) {
      assert.equal(l.resource["service.name"], "zig");
      assert.equal(l.resource["host.name"], hostname);
      assert.equal(
        l.resource["zig.project"],
        l.record.traceId === hex(OUTSIDE) ? undefined : "home-ada-src-shop",
      );
    }

    // The successful session: a root span and one span per step.
    const trace = spans.filter((s) => s.span.traceId === hex(SUCCESS));
    const root = trace.find((s) => !s.span.parentSpanId)!;
    assert.equal(root.span.name, "invoke_workflow wf-success");
    assert.equal(root.span.status.code, 1);
    assert.equal(root.attributes["gen_ai.operation.name"], "invoke_workflow");
    assert.equal(
      root.attributes["zig.prompt"],
      'review the "auth" module\nthen summarize — ünïcödé ✓',
    );
    assert.equal(root.span.startTimeUnixNano, "1795473706368967612");
    assert.equal(root.span.endTimeUnixNano, "1795473706369469048");
    const steps = trace.filter((s) => s.span.parentSpanId);
    assert.deepEqual(steps.map((s) => s.span.name), [
      "invoke_agent plan",
      "invoke_agent lint",
      "invoke_agent apply",
    ]);
    for (const s of steps) {
      assert.equal(s.span.parentSpanId, root.span.spanId);
      assert.equal(s.attributes["gen_ai.operation.name"], "invoke_agent");
    }
    const [plan, lint, apply] = steps;
    assert.equal(plan.attributes["gen_ai.agent.name"], "plan");
    assert.equal(plan.attributes["gen_ai.request.model"], "sonnet");
    assert.equal(plan.attributes["gen_ai.conversation.id"], "zag-1111");
    assert.equal(plan.attributes["zig.tier"], 0);
    assert.equal(plan.attributes["zig.exit_code"], 0);
    assert.equal(plan.attributes["zig.attempt"], 1);
    assert.deepEqual(plan.attributes["zig.saved_vars"], ["plan_out", "files"]);
    assert.equal(plan.span.startTimeUnixNano, "1795473706369213746");
    assert.equal(plan.span.endTimeUnixNano, "1795473706369241608");
    assert.equal(plan.span.status.code, 1);
    assert.equal(
      lint.attributes["zig.skip_reason"],
      "condition `x == 1` was false",
    );
    assert.equal(lint.span.status.code, undefined, "a skipped step: UNSET");
    assert.equal(apply.attributes["gen_ai.request.model"], undefined);
    assert.equal(apply.attributes["zig.tier"], 1);

    // The failed session: one span per attempt, ERROR with the message.
    const failed = spans.filter((s) => s.span.traceId === hex(FAILURE));
    const attempts = failed.filter((s) => s.span.parentSpanId);
    assert.deepEqual(
      attempts.map((s) => [s.span.name, s.attributes["zig.attempt"]]),
      [["invoke_agent build", 1], ["invoke_agent build", 2]],
    );
    assert.equal(attempts[0].attributes["zig.exit_code"], undefined);
    assert.equal(attempts[1].attributes["zig.exit_code"], 137);
    assert.deepEqual(attempts.map((s) => s.span.status), [
      { code: 2, message: "spawn failed: No such file or directory" },
      { code: 2, message: "killed" },
    ]);
    assert.notEqual(attempts[0].span.spanId, attempts[1].span.spanId);
    assert.equal(
      attempts[1].span.startTimeUnixNano,
      attempts[0].span.endTimeUnixNano,
    );
    const failedRoot = failed.find((s) => !s.span.parentSpanId)!;
    assert.equal(failedRoot.span.status.code, 2);

    // The session that never ended (no heartbeat for days): abandoned.
    const running = spans.filter((s) => s.span.traceId === hex(RUNNING));
    assert.deepEqual(running.map((s) => s.span.name).sort(), [
      "invoke_agent long",
      "invoke_workflow wf-running",
    ]);
    for (const s of running) assert.equal(s.span.status.code, 2);
    assert.equal(
      running.find((s) => !s.span.parentSpanId)!.attributes["zig.status"],
      "abandoned",
    );
  } finally {
    await receiver.close();
  }
});

Deno.test("export gives the same span ids when the same session is exported again", async () => {
  using dir = tempDir();
  const home = copyFixtureHome(dir.path);
  const first = otlpReceiver();
  const second = otlpReceiver(); // another endpoint: its own checkpoints
  try {
    for (const r of [first, second]) {
      const result = await runCli(
        ["export", "--session", SUCCESS.slice(0, 8), "--endpoint", r.url],
        { home },
      );
      assert.equal(result.code, 0, result.stderr);
    }
    const ids = (r: typeof first) =>
      flatSpans(r.requests).map((s) => [s.span.name, s.span.spanId]);
    assert.equal(ids(first).length, 4);
    assert.deepEqual(ids(first), ids(second));
  } finally {
    await first.close();
    await second.close();
  }
});

Deno.test("export over http/json carries what http/protobuf carries, valid OTLP/JSON", async () => {
  using dir = tempDir();
  const home = copyFixtureHome(dir.path);
  const pb = otlpReceiver();
  const json = otlpReceiver();
  try {
    for (
      const [r, protocol] of [[pb, "http/protobuf"], [
        json,
        "http/json",
      ]] as const
    ) {
      const result = await runCli(
        ["export", "--global", "--endpoint", r.url, "--protocol", protocol],
        { home },
      );
      assert.equal(result.code, 0, result.stderr);
    }
    assert.ok(json.requests.every((r) => r.protocol === "json"));
    const bodies = (requests: OtlpRequest[]) => requests.map((r) => r.body);
    assert.deepEqual(bodies(json.requests), bodies(pb.requests));
  } finally {
    await pb.close();
    await json.close();
  }
});

Deno.test("export --dry-run prints OTLP/JSON requests, one a line, and sends nothing", async () => {
  using dir = tempDir();
  const home = copyFixtureHome(dir.path);
  const receiver = otlpReceiver();
  try {
    const result = await runCli(
      ["export", "--global", "--dry-run", "--endpoint", receiver.url],
      { home },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(receiver.requests.length, 0);
    const lines = result.stdout.trimEnd().split("\n");
    const requests = lines.map((line) => {
      const signal = line.startsWith('{"resourceLogs"') ? "logs" : "traces";
      return { signal, body: decodeJson(signal, line) } as OtlpRequest;
    });
    assert.equal(flatLogs(requests).length, 36);
    assert.equal(flatSpans(requests).length, 14);
    assert.match(result.stderr, /would export 36 log records and 14 spans/);
    // Nothing was recorded as sent: a real export sends everything.
    assert.equal(
      [...Deno.readDirSync(home)].some((e) => e.name === "export"),
      false,
    );
  } finally {
    await receiver.close();
  }
});

/** What `deno info` says a module pulls in: remote modules and npm packages. */
async function dependenciesOf(path: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    // Without the lockfile, which lists every npm package of the project.
    args: ["info", "--json", "--no-lock", projectFile(path)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout));
  const specifiers: string[] = info.modules.map((m: { specifier: string }) =>
    m.specifier
  );
  return {
    local: specifiers.filter((s) => s.startsWith("file://")),
    remote: specifiers.filter((s) =>
      !s.startsWith("file://") && !s.startsWith("node:")
    ),
    npm: Object.keys(info.npmPackages ?? {}),
  };
}

Deno.test("importing mod.ts fetches no npm package and no remote module", async () => {
  const mod = await dependenciesOf("mod.ts");
  assert.ok(mod.local.some((s) => s.endsWith("/mod.ts")));
  assert.deepEqual(mod.remote, [], "only local files and node: built-ins");
  assert.deepEqual(mod.npm, []);
  // The check sees npm packages where there are some: the tests' receiver.
  const receiver = await dependenciesOf("tests/_otlp_receiver.ts");
  assert.ok(receiver.npm.some((p) => p.startsWith("protobufjs@")));
});

/** A running session of `n` output lines in a fresh zig home. */
function runningSession(home: string, n: number) {
  const writer = testWriter(home, { workflowName: "build" });
  writer.tierStarted(0, ["make"]);
  writer.stepStarted({
    stepName: "make",
    tierIndex: 0,
    zagSessionId: "zag-9",
    zagCommand: "exec",
    model: "opus",
    promptPreview: "make it",
  });
  for (let i = 0; i < n; i++) {
    writer.stepOutput({
      stepName: "make",
      stream: "stdout",
      line: `line ${i}`,
    });
  }
  return writer;
}

/** The (session, seq) of every log record, as "id#seq". */
function logKeys(requests: OtlpRequest[]): string[] {
  return flatLogs(requests).map((l) =>
    `${l.attributes["zig.session_id"]}#${l.attributes["zig.seq"]}`
  );
}

/** The checkpoint folder of the only endpoint exported to. */
function checkpointDir(home: string): string {
  const dirs = [...Deno.readDirSync(join(home, "export"))];
  assert.equal(dirs.length, 1);
  return join(home, "export", dirs[0].name);
}

Deno.test("export sends only what is new: a second run sends nothing, appended events once", async () => {
  using dir = tempDir();
  const home = join(dir.path, "zig");
  const writer = runningSession(home, 3);
  const receiver = otlpReceiver();
  const run = async () => {
    const before = receiver.requests.length;
    const result = await runCli(
      ["export", "--global", "--endpoint", receiver.url],
      { home },
    );
    assert.equal(result.code, 0, result.stderr);
    return receiver.requests.slice(before);
  };
  try {
    let sent = await run();
    assert.deepEqual(logKeys(sent).map((k) => k.split("#")[1]), [
      "1",
      "2",
      "3",
      "4",
      "5",
      "6",
    ]);
    assert.equal(flatSpans(sent).length, 0, "no span has ended yet");
    assert.deepEqual(await run(), [], "nothing new, nothing sent");

    writer.stepCompleted({ stepName: "make", exitCode: 0, durationMs: 40 });
    writer.ended("success", 50);
    sent = await run();
    assert.deepEqual(logKeys(sent).map((k) => k.split("#")[1]), ["7", "8"]);
    assert.deepEqual(flatSpans(sent).map((s) => s.span.name), [
      "invoke_agent make",
      "invoke_workflow build",
    ]);
    assert.deepEqual(await run(), []);

    const checkpoint = JSON.parse(Deno.readTextFileSync(
      join(checkpointDir(home), `${writer.sessionId}.json`),
    ));
    assert.equal(checkpoint.zig_session_id, writer.sessionId);
    assert.equal(checkpoint.logs_seq, 8);
    assert.equal(checkpoint.spans_closed, true);
    assert.equal(checkpoint.log_size, Deno.statSync(writer.logPath).size);
    assert.match(
      checkpointDir(home),
      /\/export\/127\.0\.0\.1_\d+-[0-9a-f]{8}$/,
    );
  } finally {
    await receiver.close();
  }
});

Deno.test("export moves a corrupt checkpoint aside and sends that session again", async () => {
  using dir = tempDir();
  const home = join(dir.path, "zig");
  const writer = runningSession(home, 2);
  writer.ended("failure", 5);
  const receiver = otlpReceiver();
  try {
    const args = ["export", "--global", "--endpoint", receiver.url];
    assert.equal((await runCli(args, { home })).code, 0);
    const path = join(checkpointDir(home), `${writer.sessionId}.json`);
    Deno.writeTextFileSync(path, '{"logs_seq": 3, "spans');
    const before = receiver.requests.length;
    const result = await runCli(args, { home });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /did not parse: moved it to .*\.corrupt-\d+/);
    const aside = [...Deno.readDirSync(checkpointDir(home))]
      .filter((e) => e.name.includes(".corrupt-"));
    assert.equal(aside.length, 1);
    assert.equal(
      Deno.readTextFileSync(join(checkpointDir(home), aside[0].name)),
      '{"logs_seq": 3, "spans',
      "the corrupt file is kept as it was",
    );
    assert.equal(logKeys(receiver.requests.slice(before)).length, 6);
    assert.equal(JSON.parse(Deno.readTextFileSync(path)).logs_seq, 6);
  } finally {
    await receiver.close();
  }
});

Deno.test("export writes checkpoints only inside the zig home: never through a symbolic link", async () => {
  using dir = tempDir();
  const home = join(dir.path, "zig");
  runningSession(home, 2);
  const outside = join(dir.path, "outside");
  Deno.mkdirSync(outside);
  Deno.symlinkSync(outside, join(home, "export"));
  const receiver = otlpReceiver();
  try {
    const result = await runCli(
      ["export", "--global", "--endpoint", receiver.url],
      { home },
    );
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /Refusing to use ".*\/zig\/export" for export checkpoints: it is a symbolic link/,
    );
    assert.deepEqual([...Deno.readDirSync(outside)], []);
    assert.equal(receiver.requests.length, 0, "nothing sent unrecorded");
  } finally {
    await receiver.close();
  }
});

Deno.test("export skips session logs that are symbolic links", async () => {
  using dir = tempDir();
  const home = join(dir.path, "zig");
  const writer = runningSession(home, 1);
  const elsewhere = join(dir.path, "elsewhere.jsonl");
  Deno.copyFileSync(writer.logPath, elsewhere);
  const linked = join(dir.path, "zig", "projects", "p", "logs", "sessions");
  Deno.symlinkSync(elsewhere, join(linked, "0badc0de.jsonl"));
  const receiver = otlpReceiver();
  try {
    const result = await runCli(
      ["export", "--global", "--endpoint", receiver.url],
      { home },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /0badc0de\.jsonl: it is a symbolic link/);
    assert.equal(logKeys(receiver.requests).length, 4);
  } finally {
    await receiver.close();
  }
});

Deno.test("two exporters on one zig home send every event once (two real processes)", async () => {
  using dir = tempDir();
  const home = join(dir.path, "zig");
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const writer = runningSession(home, 40);
    writer.ended("success", 1);
    ids.push(writer.sessionId);
  }
  let release!: () => void;
  const held = new Promise<void>((resolve) => release = resolve);
  let first!: () => void;
  const firstSeen = new Promise<void>((resolve) => first = resolve);
  const receiver = otlpReceiver({
    async respond(_request, index) {
      if (index === 0) {
        first();
        await held; // A holds its lock meanwhile: B starts and waits for it
      }
      return undefined;
    },
  });
  try {
    const exporter = (name: string) =>
      cliCommand([
        "export",
        "--global",
        "--endpoint",
        receiver.url,
        "--batch",
        "7",
        "--header",
        `x-exporter=${name}`,
        // A's first request is held until B waits for the lock, however
        // long a loaded machine takes to start B: it must not time out.
      ], { home, env: { OTEL_EXPORTER_OTLP_TIMEOUT: "120000" } }).spawn();
    const a = exporter("a");
    await untilSent(firstSeen, a);
    const b = exporter("b");
    // B is blocked on the lock A holds once it has the lock file open. Under
    // a loaded parallel test run B may be slow to get there: then A goes on
    // after 20 s, and the run still checks that nothing is sent twice.
    const waited = await untilLockOpen(b, join(home, "export"));
    release();
    const [outA, outB] = await Promise.all([a.output(), b.output()]);
    const text = (o: Deno.CommandOutput) =>
      ourStderr(new TextDecoder().decode(o.stderr));
    assert.equal(outA.code, 0, text(outA));
    assert.equal(outB.code, 0, text(outB));
    const acknowledged = receiver.acknowledged();
    const keys = logKeys(acknowledged);
    assert.equal(keys.length, 3 * 44, "every event");
    assert.equal(new Set(keys).size, keys.length, "none twice");
    const spans = flatSpans(acknowledged).map((s) => s.span.spanId);
    assert.equal(spans.length, 3 * 2);
    assert.equal(new Set(spans).size, spans.length);
    const senders = new Set(
      acknowledged.map((r) => r.headers.get("x-exporter")),
    );
    if (waited) {
      assert.deepEqual([...senders].sort(), ["a", "b"], "both exporters sent");
    } else {
      console.log("export test: B was not seen waiting on the lock in 20 s");
    }
  } finally {
    release();
    await receiver.close();
  }
});

/**
 * Waits until the process has a lock file under `dir` open (Linux's /proc),
 * so that it is known to wait for that lock: true, or false after 20 s or
 * when it ended first.
 */
async function untilLockOpen(
  child: Deno.ChildProcess,
  dir: string,
): Promise<boolean> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try {
      for (const fd of Deno.readDirSync(`/proc/${child.pid}/fd`)) {
        try {
          const target = Deno.readLinkSync(`/proc/${child.pid}/fd/${fd.name}`);
          if (target.startsWith(dir) && target.endsWith(".lock")) return true;
        } catch {
          // Closed meanwhile.
        }
      }
    } catch {
      return false; // gone
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

/** A session that ended, with `n` output lines: n + 5 events, 2 spans. */
function endedSession(home: string, n: number) {
  const writer = runningSession(home, n);
  writer.stepCompleted({ stepName: "make", exitCode: 0, durationMs: 3 });
  writer.ended("success", 4);
  return writer;
}

/** Waits for `sent`, failing if the exporter ends first (it never sent). */
async function untilSent(sent: Promise<void>, exporter: Deno.ChildProcess) {
  const ended = exporter.status.then((s) => s);
  const first = await Promise.race([sent.then(() => undefined), ended]);
  if (first !== undefined) {
    throw new Error(`The exporter ended (code ${first.code}) before sending`);
  }
}

/** Every event sent exactly once among the acknowledged requests. */
function assertExactlyOnce(receiver: Receiver, events: number, spans: number) {
  const acknowledged = receiver.acknowledged();
  const keys = logKeys(acknowledged);
  assert.equal(new Set(keys).size, keys.length, "no event twice");
  assert.equal(keys.length, events, "every event");
  const spanIds = flatSpans(acknowledged).map((s) => s.span.spanId);
  assert.equal(new Set(spanIds).size, spanIds.length, "no span twice");
  assert.equal(spanIds.length, spans, "every span");
}

Deno.test("export retries a receiver that answers 503, then 200", async () => {
  using dir = tempDir();
  const home = join(dir.path, "zig");
  endedSession(home, 3);
  const receiver = otlpReceiver({
    respond: (_r, index) =>
      index === 0
        ? new Response("overloaded, come back later", { status: 503 })
        : undefined,
  });
  try {
    const result = await runCli(
      ["export", "--global", "--endpoint", receiver.url],
      { home },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stderr,
      /answered 503 Service Unavailable: overloaded, come back later; retrying 2 spans in \d\.\d s/,
    );
    assert.equal(receiver.requests.length, 3, "traces twice, logs once");
    assertExactlyOnce(receiver, 8, 2);
  } finally {
    await receiver.close();
  }
});

Deno.test("export waits as long as a 429's Retry-After says", async () => {
  using dir = tempDir();
  const home = join(dir.path, "zig");
  endedSession(home, 1);
  const receiver = otlpReceiver({
    respond: (_r, index) =>
      index === 0
        ? new Response("slow down", {
          status: 429,
          headers: { "retry-after": "2" },
        })
        : undefined,
  });
  try {
    const result = await runCli(
      ["export", "--global", "--endpoint", receiver.url],
      { home },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stderr,
      /answered 429 Too Many Requests: slow down; retrying 2 spans in 2\.0 s/,
    );
    const [refused, retried] = receiver.requests;
    assert.ok(
      retried.at - refused.at >= 1900,
      `retried after ${retried.at - refused.at} ms, not 2 s`,
    );
    assertExactlyOnce(receiver, 6, 2);
  } finally {
    await receiver.close();
  }
});

Deno.test("export reports a 400 with the receiver's message, does not retry it, records nothing", async () => {
  using dir = tempDir();
  const home = join(dir.path, "zig");
  endedSession(home, 1);
  const receiver = otlpReceiver({
    respond: () =>
      Response.json({ code: 3, message: "resource attribute too long" }, {
        status: 400,
      }),
  });
  try {
    const args = [
      "export",
      "--global",
      "--endpoint",
      receiver.url,
      "--protocol",
      "http/json",
    ];
    const result = await runCli(args, { home });
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /The receiver at http:\/\/127\.0\.0\.1:\d+\/v1\/traces refused 2 spans with 400 Bad Request: resource attribute too long; not retried/,
    );
    assert.equal(receiver.requests.length, 1, "not retried");
    assert.deepEqual(
      [...Deno.readDirSync(checkpointDir(home))].map((e) => e.name),
      [".lock"],
      "nothing recorded as sent",
    );
    // Run again: tried again, once.
    assert.equal((await runCli(args, { home })).code, 1);
    assert.equal(receiver.requests.length, 2);
  } finally {
    await receiver.close();
  }
});

Deno.test("export reports what an accepting receiver rejected (partial success)", async () => {
  using dir = tempDir();
  const home = join(dir.path, "zig");
  endedSession(home, 2);
  const receiver = otlpReceiver({
    respond: (request) => {
      if (request.signal !== "logs") return undefined;
      const type = TYPES.logsResponse;
      const body = type.encode(type.fromObject({
        partialSuccess: { rejectedLogRecords: 2, errorMessage: "too old" },
      })).finish();
      return new Response(new Uint8Array(body), {
        headers: { "content-type": "application/x-protobuf" },
      });
    },
  });
  try {
    const result = await runCli(
      ["export", "--global", "--endpoint", receiver.url],
      { home },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stderr,
      /accepted the request but rejected 2 log records: too old \(not retried/,
    );
    assert.match(result.stdout, /\(the receiver rejected 2\)/);
    assert.equal(receiver.requests.length, 2, "not retried");
  } finally {
    await receiver.close();
  }
});

Deno.test("export retries a receiver that refuses connections until it is up", async () => {
  using dir = tempDir();
  const home = join(dir.path, "zig");
  endedSession(home, 2);
  const probe = otlpReceiver();
  const port = probe.port;
  await probe.close(); // nothing listens there now
  let receiver: Receiver | undefined;
  const up = setTimeout(() => receiver = otlpReceiver({ port }), 1200);
  try {
    const result = await runCli(
      ["export", "--global", "--endpoint", `http://127.0.0.1:${port}`],
      { home },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /could not be reached \(.*\); retrying/);
    assertExactlyOnce(receiver!, 7, 2);
  } finally {
    clearTimeout(up);
    await receiver?.close();
  }
});

Deno.test("export gives up on an unreachable receiver after --max-retries, and says nothing is lost", async () => {
  using dir = tempDir();
  const home = join(dir.path, "zig");
  endedSession(home, 1);
  const probe = otlpReceiver();
  await probe.close();
  // A short timeout keeps the test short; the retries are what is tested.
  const result = await cliProcess(
    ["export", "--global", "--endpoint", probe.url, "--max-retries", "2"],
    { home, env: { OTEL_EXPORTER_OTLP_TIMEOUT: "200" } },
  );
  assert.equal(result.code, 1);
  assert.equal(result.stderr.match(/retrying 2 spans/g)?.length, 2);
  assert.match(
    result.stderr,
    /gave up on 2 spans after 3 attempts\. Nothing is lost: run the export again when it is up/,
  );
});

Deno.test("export killed (SIGKILL) mid-batch and started again: every event once among acknowledged requests", async () => {
  using dir = tempDir();
  const home = join(dir.path, "zig");
  for (let i = 0; i < 2; i++) endedSession(home, 30);
  let killed!: () => void;
  const kill = new Promise<void>((resolve) => killed = resolve);
  let holding = true;
  const receiver = otlpReceiver({
    async respond(_request, index) {
      if (holding && index === 4) {
        holding = false;
        killed();
        await kill.then(() => new Promise((r) => setTimeout(r, 100)));
        // The exporter is dead: it never saw an answer to this one.
        return new Response("gone", { status: 503 });
      }
      return undefined;
    },
  });
  try {
    const args = [
      "export",
      "--global",
      "--endpoint",
      receiver.url,
      "--batch",
      "8",
    ];
    const child = cliCommand(args, { home }).spawn();
    await untilSent(kill, child);
    child.kill("SIGKILL");
    const status = await child.status;
    assert.equal(status.signal, "SIGKILL");
    await child.stdout.cancel();
    await child.stderr.cancel();
    const before = receiver.acknowledged().length;
    assert.equal(before, 4, "four requests acknowledged before the kill");
    const again = await cliProcess(args, { home });
    assert.equal(again.code, 0, again.stderr);
    assertExactlyOnce(receiver, 2 * 35, 2 * 2);
  } finally {
    await receiver.close();
  }
});

/** Waits until `check` holds (polling), failing after `ms`. */
async function eventually(check: () => boolean, what: string, ms = 15_000) {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`Timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

Deno.test("export --follow sends a session's events while it is being recorded, and new sessions", async () => {
  using dir = tempDir();
  const home = join(dir.path, "zig");
  Deno.mkdirSync(home);
  const stop = join(dir.path, "stop");
  const receiver = otlpReceiver();
  const exporter = cliCommand(
    ["export", "--follow", "--global", "--endpoint", receiver.url],
    { home },
  ).spawn();
  // A real recording: `record` runs a command that waits for a file.
  const recorder = cliCommand([
    "record",
    "--workflow",
    "build",
    "--step",
    "make",
    "--",
    "sh",
    "-c",
    `echo first; while [ ! -e '${stop}' ]; do sleep 0.05; done; echo second >&2`,
  ], { home }).spawn();
  const bodies = () =>
    flatLogs(receiver.acknowledged()).map((l) => l.record.body.stringValue);
  try {
    await eventually(
      () => bodies().includes("first"),
      "the first line while the command runs",
    );
    assert.equal(bodies().includes("second"), false);
    assert.deepEqual(flatSpans(receiver.requests), [], "nothing has ended yet");
    Deno.writeTextFileSync(stop, "");
    const recorded = await recorder.output();
    assert.equal(recorded.code, 0);
    await eventually(
      () =>
        flatSpans(receiver.requests).length === 2 &&
        bodies().includes("second"),
      "the last line, the step and workflow spans once the session ended",
    );
    const second = flatLogs(receiver.requests).find((l) =>
      l.record.body.stringValue === "second"
    )!;
    assert.equal(second.record.severityNumber, 13, "stderr: WARN");

    const later = endedSession(home, 1);
    await eventually(
      () => logKeys(receiver.acknowledged()).includes(`${later.sessionId}#6`),
      "a session that started after the exporter",
    );
    // Stop it when it is idle: every span in, and no request for 500 ms (a
    // request answered while SIGTERM lands is acknowledged here but not
    // counted there, the documented at-least-once window).
    let seen = -1;
    let quietSince = performance.now();
    await eventually(() => {
      const n = receiver.requests.length;
      if (n !== seen) [seen, quietSince] = [n, performance.now()];
      return flatSpans(receiver.acknowledged()).length === 4 &&
        performance.now() - quietSince > 500;
    }, "the exporter idle, every span sent");
    exporter.kill("SIGTERM");
    const out = await exporter.output();
    assert.equal(out.code, 0, ourStderr(new TextDecoder().decode(out.stderr)));
    const events = flatLogs(receiver.acknowledged()).length;
    assert.match(
      new TextDecoder().decode(out.stdout),
      new RegExp(`exported ${events} log records and 4 spans of 2 sessions`),
    );
    assertExactlyOnce(receiver, events, 4);
  } finally {
    for (const child of [exporter, recorder]) {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already ended.
      }
    }
    await receiver.close();
  }
});

Deno.test("export reads the standard OTEL_* variables under the executable's permissions; flags win", async () => {
  using dir = tempDir();
  const home = join(dir.path, "zig");
  endedSession(home, 1);
  const base = otlpReceiver();
  const logs = otlpReceiver();
  try {
    const env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: base.url,
      OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `${logs.url}/v1/logs`,
      OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20s3cret,x-team=ci",
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_COMPRESSION: "none",
      OTEL_SERVICE_NAME: "agents",
      OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=ci,team=core",
    };
    const result = await cliProcess(["export", "--global"], { home, env });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "");
    assert.deepEqual(base.requests.map((r) => r.signal), ["traces"]);
    assert.deepEqual(logs.requests.map((r) => r.signal), ["logs"]);
    for (const r of [...base.requests, ...logs.requests]) {
      assert.equal(r.protocol, "json");
      assert.equal(r.gzip, false);
      assert.equal(r.headers.get("authorization"), "Bearer s3cret");
      assert.equal(r.headers.get("x-team"), "ci");
    }
    const [log] = flatLogs(logs.requests);
    assert.equal(log.resource["service.name"], "agents");
    assert.equal(log.resource["deployment.environment"], "ci");
    assert.equal(log.resource["team"], "core");
    assert.equal(log.resource["host.name"], Deno.hostname());

    // Flags win: --endpoint over both variables, --protocol, --header.
    const flagged = otlpReceiver();
    try {
      const again = await cliProcess([
        "export",
        "--global",
        "--endpoint",
        flagged.url,
        "--protocol",
        "http/protobuf",
        "--header",
        "x-team=night",
      ], { home: join(dir.path, "zig"), env });
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(flagged.requests.map((r) => r.signal), [
        "traces",
        "logs",
      ]);
      for (const r of flagged.requests) {
        assert.equal(r.protocol, "protobuf");
        assert.equal(r.headers.get("x-team"), "night");
      }
    } finally {
      await flagged.close();
    }
  } finally {
    await base.close();
    await logs.close();
  }
});

Deno.test("export says what is wrong with a bad endpoint, protocol or header", async () => {
  using dir = tempDir();
  const cases: Array<[string[], RegExp]> = [
    [
      ["--endpoint", "collector:4318"],
      /Invalid --endpoint "collector:4318": expected an http:\/\/ or https:\/\/ URL like http:\/\/collector:4318/,
    ],
    [
      ["--endpoint", "grpc://c:4317"],
      /Invalid --endpoint "grpc:\/\/c:4317": .*\(OTLP\/gRPC is not supported\)/,
    ],
    [
      ["--protocol", "grpc"],
      /Invalid --protocol "grpc": expected http\/protobuf or http\/json \(OTLP\/gRPC is not supported; use port 4318\)/,
    ],
    [["--header", "novalue"], /Invalid --header "novalue": expected K=V/],
    [["--batch", "0"], /Invalid --batch 0/],
  ];
  for (const [args, message] of cases) {
    const result = await runCli(["export", ...args], { home: dir.path });
    assert.equal(result.code, 2, args.join(" "));
    assert.match(result.stderr, message);
    assert.match(result.stderr, /Run 'zig-session export --help' for usage/);
  }
  const help = await runCli(["export", "--help"], { home: dir.path });
  assert.equal(help.code, 0);
  assert.match(help.stdout, /OTEL_EXPORTER_OTLP_ENDPOINT/);
});

Deno.test("export carries event kinds it does not know, and sessions whose id is not a UUID", async () => {
  using dir = tempDir();
  const home = join(dir.path, "zig");
  const writer = testWriter(home, { createId: () => "build-42" });
  writer.emit({
    type: "agent_thought",
    text: "try the cache",
    tokens: { in: 3, out: 5 },
    tags: ["a", null],
    score: 0.5,
    gone: null,
  });
  writer.ended("success", 2);
  const receiver = otlpReceiver();
  try {
    const result = await runCli(
      ["export", "--global", "--endpoint", receiver.url],
      { home },
    );
    assert.equal(result.code, 0, result.stderr);
    const logs = flatLogs(receiver.requests);
    const thought = logs.find((l) =>
      l.attributes["zig.type"] === "agent_thought"
    )!;
    assert.equal(thought.record.eventName, "zig.agent_thought");
    assert.equal(thought.record.severityNumber, 9);
    assert.equal(thought.attributes["zig.text"], "try the cache");
    assert.deepEqual(thought.attributes["zig.tokens"], { in: 3, out: 5 });
    assert.deepEqual(thought.attributes["zig.tags"], ["a", undefined]);
    assert.equal(thought.attributes["zig.score"], 0.5);
    assert.equal("zig.gone" in thought.attributes, false, "null is left out");
    // Not a UUID: the trace id is derived, the same for every record.
    const traceIds = new Set(logs.map((l) => l.record.traceId));
    assert.equal(traceIds.size, 1);
    assert.match([...traceIds][0], /^[0-9a-f]{32}$/);
    const [root] = flatSpans(receiver.requests);
    assert.equal(root.span.traceId, [...traceIds][0]);
    assert.equal(root.attributes["zig.session.id"], "build-42");
  } finally {
    await receiver.close();
  }
});
