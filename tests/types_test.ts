import assert from "node:assert/strict";
import { isKnownEventType, KNOWN_EVENT_TYPES } from "../mod.ts";
import type { SessionLogEvent } from "../mod.ts";

Deno.test("the nine kinds of zig are known, others are not", () => {
  const nine = [
    "zig_session_started",
    "tier_started",
    "step_started",
    "step_output",
    "step_completed",
    "step_failed",
    "step_skipped",
    "heartbeat",
    "zig_session_ended",
  ];
  for (const type of nine) assert.ok(isKnownEventType(type), type);
  assert.deepEqual([...KNOWN_EVENT_TYPES], nine);
  assert.ok(Object.isFrozen(KNOWN_EVENT_TYPES));
  assert.ok(!isKnownEventType("agent_thought"));
  assert.ok(!isKnownEventType(""));
});

Deno.test("the event union narrows on type", () => {
  const event = JSON.parse(
    '{"seq":1,"ts":"t","zig_session_id":"a","type":"step_failed","step_name":"s","exit_code":null,"attempt":2,"error":"x"}',
  ) as SessionLogEvent;
  if (event.type !== "step_failed") throw new Error("unexpected type");
  const code: number | null = event.exit_code;
  assert.equal(code, null);
  assert.equal(event.attempt, 2);
});
