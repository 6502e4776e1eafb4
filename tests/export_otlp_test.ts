// lib/_export/otlp.ts: the log request encoders (protobuf with cached
// fragments, OTLP/JSON written as text) decoded with the official OTLP
// definitions, and compared with the plain object form of the same request.
import assert from "node:assert/strict";
import { SessionMapper } from "../lib/_export/mapping.ts";
import {
  encodeLogsJson,
  encodeLogsProtobuf,
  type LogRecordData,
  logsJson,
} from "../lib/_export/otlp.ts";
import { type Decoded, decodeJson, decodeProtobuf } from "./_otlp_receiver.ts";

const SESSION = "0f8fad5b-d9cb-469f-a165-70867728950e";
const OTHER = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

/** Log records of two sessions (two resources), fields of every kind. */
function records(): LogRecordData[] {
  const out: LogRecordData[] = [];
  const sessions = [
    new SessionMapper(SESSION, {
      attributes: { "service.name": "zig", "zig.project": "alpha" },
    }),
    new SessionMapper(OTHER, { attributes: { "service.name": "zig" } }),
  ];
  const lines = [
    "",
    "short",
    "é, 日本語 and 🚀 in one line",
    "x".repeat(127),
    "y".repeat(128),
    "z".repeat(20_000), // a record past 16 KiB: a 3-byte length
    "ü".repeat(9_000), // UTF-8 longer than the string
  ];
  for (const [s, mapper] of sessions.entries()) {
    let seq = 0;
    const ts = (n: number) => `2026-11-20T10:00:0${n % 10}.12345678${s}+00:00`;
    const push = (event: Record<string, unknown>) => {
      seq++;
      out.push(
        mapper.push({
          seq,
          ts: ts(seq),
          zig_session_id: mapper.sessionId,
          ...event,
        } as never).log,
      );
    };
    push({
      type: "zig_session_started",
      workflow_name: "wf",
      prompt: "p".repeat(200),
      tier_count: 2,
    });
    push({
      type: "step_started",
      step_name: "build",
      tier_index: 0,
      model: "sonnet",
    });
    for (const [i, line] of lines.entries()) {
      push({
        type: "step_output",
        step_name: "build",
        stream: i % 2 ? "stderr" : "stdout",
        line,
      });
    }
    push({
      type: "step_completed",
      step_name: "build",
      exit_code: 0,
      duration_ms: 2 ** 40, // an int64 past 32 bits
      saved_vars: ["a", "b"],
      nested: { ok: true, ratio: 0.25, none: null, list: [1, "two", false] },
      negative: -3,
      huge: 2 ** 60, // not a safe integer: a double
      empty: "",
      none: null,
    });
    push({ type: "unknown_kind", note: "n".repeat(65), count: 4_294_967_296 });
    push({ type: "zig_session_ended", status: "failed", duration_ms: 12 });
  }
  return out;
}

Deno.test("encodeLogsProtobuf: decodes with the official definitions to the same request as the JSON object form", () => {
  const list = records();
  const fromProtobuf = decodeProtobuf("logs", encodeLogsProtobuf(list));
  const fromObject = decodeJson("logs", JSON.stringify(logsJson(list)));
  assert.deepEqual(fromProtobuf, fromObject);
  const bodies = fromProtobuf.resourceLogs.flatMap((rl: Decoded) =>
    rl.scopeLogs[0].logRecords.map((r: Decoded) => r.body?.stringValue)
  );
  assert.ok(bodies.includes("z".repeat(20_000)));
  assert.ok(bodies.includes("é, 日本語 and 🚀 in one line"));
  assert.equal(fromProtobuf.resourceLogs.length, 2);
  // Encoded again (fragments now cached): the same bytes.
  assert.deepEqual(encodeLogsProtobuf(list), encodeLogsProtobuf(list));
});

Deno.test("encodeLogsJson: the same request as JSON.stringify of the object form", () => {
  const list = records();
  const text = new TextDecoder().decode(encodeLogsJson(list));
  assert.deepEqual(
    JSON.parse(text),
    JSON.parse(JSON.stringify(logsJson(list))),
  );
  assert.deepEqual(
    decodeJson("logs", text),
    decodeProtobuf("logs", encodeLogsProtobuf(list)),
  );
});

Deno.test("encodeLogsProtobuf and encodeLogsJson stay exact when their caches fill up and empty", () => {
  const mapper = new SessionMapper(SESSION, { attributes: {} });
  const list: LogRecordData[] = [];
  // More distinct short values than the caches hold (10,000): they empty.
  for (let seq = 1; seq <= 12_000; seq++) {
    list.push(
      mapper.push({
        seq,
        ts: "2026-11-20T10:00:00.5+00:00",
        zig_session_id: SESSION,
        type: "step_output",
        step_name: `step-${seq % 3}`,
        stream: "stdout",
        tag: `value-${seq}`,
        line: `line ${seq}`,
      } as never).log,
    );
  }
  const expected = decodeJson("logs", JSON.stringify(logsJson(list)));
  assert.deepEqual(decodeProtobuf("logs", encodeLogsProtobuf(list)), expected);
  const text = new TextDecoder().decode(encodeLogsJson(list));
  assert.deepEqual(decodeJson("logs", text), expected);
  const last = expected.resourceLogs[0].scopeLogs[0].logRecords.at(-1);
  assert.deepEqual(
    last.attributes.find((a: Decoded) => a.key === "zig.tag").value,
    { stringValue: "value-12000" },
  );
});
