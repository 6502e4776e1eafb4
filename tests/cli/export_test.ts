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
} from "../_helpers.ts";
import {
  decodeJson,
  flatLogs,
  flatSpans,
  otlpReceiver,
  type OtlpRequest,
} from "../_otlp_receiver.ts";
import { runCli } from "./_helpers.ts";

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
