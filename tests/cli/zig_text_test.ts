// zig's listen text (lib/_cli/_zig_text.ts), line by line against
// ../shared/docs/zig-listen-text.md, on the reference's own sessions.
import assert from "node:assert/strict";
import { readSessionEvents } from "../../mod.ts";
import type { SessionLogEvent } from "../../mod.ts";
import {
  eventLine,
  zigEventProblem,
  zigEventText,
  zigListening,
  zigParseError,
} from "../../lib/_cli/_zig_text.ts";
import { visible, type Writer } from "../../lib/_cli/common.ts";
import { FIXTURE_LINES, fixtureLog, SUCCESS_LINES } from "./_zig_lines.ts";

const ESC = "\x1b";

function event(kind: Record<string, unknown>): SessionLogEvent {
  return {
    seq: 1,
    ts: "2026-11-23T22:41:46.369218144+00:00",
    zig_session_id: "s",
    ...kind,
  } as unknown as SessionLogEvent;
}

function writer(color: boolean): Writer {
  return { write() {}, isTerminal: color, color };
}

Deno.test("zig text: every event of the reference's sessions, as zig prints it", async () => {
  for (const [prefix, expected] of Object.entries(FIXTURE_LINES)) {
    const events = await readSessionEvents(fixtureLog(prefix));
    assert.deepEqual(events.map(zigEventText), expected, prefix);
    for (const e of events) assert.equal(zigEventProblem(e), undefined);
  }
});

Deno.test("zig text: tier singular and plural, tiers numbered from 1", () => {
  const started = (n: number) =>
    zigEventText(event({
      type: "zig_session_started",
      workflow_name: "w",
      workflow_path: "w.zwf",
      tier_count: n,
    }));
  assert.equal(started(1), "▶ zig session started: w (1 tier)");
  assert.equal(started(0), "▶ zig session started: w (0 tiers)");
  assert.equal(started(3), "▶ zig session started: w (3 tiers)");
  assert.equal(
    zigEventText(event({
      type: "tier_started",
      tier_index: 9,
      step_names: [],
    })),
    "── tier 10 ()",
  );
});

Deno.test("zig text: the model part only when a model is present, even empty", () => {
  const started = (model?: unknown) =>
    zigEventText(event({
      type: "step_started",
      step_name: "s",
      tier_index: 0,
      zag_session_id: "z",
      zag_command: "exec",
      prompt_preview: "",
      ...(model === undefined ? {} : { model }),
    }));
  assert.equal(started(), "  running step 's' (zag exec, session=z)...");
  assert.equal(started(null), "  running step 's' (zag exec, session=z)...");
  assert.equal(
    started("opus"),
    "  running step 's' (zag exec model=opus, session=z)...",
  );
  // Rust's Some(""): the part is there, empty.
  assert.equal(
    started(""),
    "  running step 's' (zag exec model=, session=z)...",
  );
});

Deno.test("zig text: saved vars only when there are some; both streams alike; Success and Failure", () => {
  const completed = (saved_vars: string[]) =>
    zigEventText(event({
      type: "step_completed",
      step_name: "s",
      exit_code: 0,
      duration_ms: 7,
      saved_vars,
    }));
  assert.equal(completed([]), "  completed 's' in 7ms");
  assert.equal(completed(["a"]), "  completed 's' in 7ms (saved: a)");
  assert.equal(completed(["a", "b"]), "  completed 's' in 7ms (saved: a, b)");
  for (const stream of ["stdout", "stderr"]) {
    assert.equal(
      zigEventText(
        event({ type: "step_output", step_name: "s", stream, line: "x" }),
      ),
      "[s] x",
    );
  }
  const ended = (status: string) =>
    zigEventText(event({ type: "zig_session_ended", status, duration_ms: 12 }));
  assert.equal(ended("success"), "■ zig session ended (Success) in 12ms");
  assert.equal(ended("failure"), "■ zig session ended (Failure) in 12ms");
  assert.equal(
    zigEventText(event({ type: "heartbeat", interval_secs: 10 })),
    undefined,
  );
});

Deno.test("zig text: an event zig could not read has no line, and the reason says why", () => {
  const unknown = event({ type: "agent_thought", text: "hm" });
  assert.equal(zigEventText(unknown), undefined);
  assert.equal(zigEventProblem(unknown), 'unknown event type "agent_thought"');
  const noNames = event({ type: "tier_started", tier_index: 0 });
  assert.equal(zigEventText(noNames), undefined);
  assert.equal(
    zigEventProblem(noNames),
    'field "step_names" of tier_started must be an array of strings, got nothing',
  );
  const badStatus = event({
    type: "zig_session_ended",
    status: "aborted",
    duration_ms: 1,
  });
  assert.equal(
    zigEventProblem(badStatus),
    'field "status" of zig_session_ended must be "success" or "failure", got "aborted"',
  );
  assert.equal(
    zigEventProblem(
      event({ type: "step_failed", step_name: "s", attempt: -1, error: "e" }),
    ),
    'field "attempt" of step_failed must be a non-negative integer, got -1',
  );
});

Deno.test("zig text: a parse error shows the trimmed line's first 80 bytes, then …", () => {
  assert.equal(
    zigParseError("bad", "  {oops}\t"),
    "[parse error] bad: {oops}",
  );
  const exactly80 = "x".repeat(80);
  assert.equal(zigParseError("e", exactly80), `[parse error] e: ${exactly80}`);
  assert.equal(
    zigParseError("e", "y".repeat(81)),
    `[parse error] e: ${"y".repeat(80)}…`,
  );
  // 79 ASCII bytes then a 3-byte character across byte 80: cut before it.
  assert.equal(
    zigParseError("e", `${"a".repeat(79)}日本`),
    `[parse error] e: ${"a".repeat(79)}…`,
  );
  // 78 bytes then the same character: it fits exactly.
  assert.equal(
    zigParseError("e", `${"a".repeat(77)}日本`),
    `[parse error] e: ${"a".repeat(77)}日…`,
  );
  assert.equal(
    zigListening("/z/s.jsonl"),
    "listening to session log: /z/s.jsonl",
  );
});

Deno.test("zig text: colors only where the writer allows them, never changing the text", async () => {
  const events = await readSessionEvents(fixtureLog("94dc5b48"));
  for (const [i, e] of events.entries()) {
    const expected = SUCCESS_LINES[i];
    assert.equal(eventLine(e, { out: writer(false) }), expected);
    const colored = eventLine(e, { out: writer(true) });
    if (expected === undefined) {
      assert.equal(colored, undefined);
      continue;
    }
    // A color writer is a terminal: control characters are shown visibly.
    // deno-lint-ignore no-control-regex
    assert.equal(colored?.replace(/\x1b\[\d+m/g, ""), visible(expected));
    if (e.type !== "step_output" || e.stream === "stderr") {
      assert.ok(colored?.startsWith(ESC), `${e.type} has a color`);
    }
  }
  assert.equal(
    eventLine(events[0], { out: writer(false), timestamps: true }),
    `2026-11-23T22:41:46.368967612+00:00 ${SUCCESS_LINES[0]}`,
  );
});

Deno.test("zig text: with all, a line of our own for what zig prints nothing for", () => {
  const out = writer(false);
  const heartbeat = event({ type: "heartbeat", interval_secs: 10 });
  assert.equal(eventLine(heartbeat, { out }), undefined);
  assert.equal(eventLine(heartbeat, { out, all: true }), "♥ heartbeat");
  assert.equal(
    eventLine(event({ type: "agent_thought", text: "hm" }), { out, all: true }),
    'agent_thought {"text":"hm"}',
  );
  assert.equal(eventLine(42 as never, { out, all: true }), "42");
});
