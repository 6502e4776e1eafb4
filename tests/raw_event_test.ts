import assert from "node:assert/strict";
import {
  isOutputLine,
  OUTPUT_RUN,
  OutputEvents,
  outputRunOf,
} from "../lib/_raw_event.ts";

/** Strings that JSON writes with and without escapes. */
const VALUES = [
  "",
  "plain output",
  "x".repeat(5000),
  'a "quoted" word',
  "back\\slash",
  "tab\there",
  "line\nbreak",
  "\u0000nul",
  "\u001b[31mred\u001b[0m",
  "\u007fdel",
  "é€😀 unicode",
  "\u2028\u2029 separators",
  "braces } { and ] [",
  '"type":"step_failed" inside a value',
  '{"seq":5,"ts":"x"}',
  "\uFFFD replacement",
];

function outputLine(
  fields: { seq: number; step: string; stream: string; line: string },
): string {
  return JSON.stringify({
    seq: fields.seq,
    ts: "2026-11-23T22:41:46.369218144+00:00",
    zig_session_id: "94dc5b48-4970-4ccd-be2d-613789b21c13",
    type: "step_output",
    step_name: fields.step,
    stream: fields.stream,
    line: fields.line,
  });
}

Deno.test("OutputEvents builds exactly what JSON.parse makes of zig's step_output lines, and nothing from lines with escapes", () => {
  const events = new OutputEvents();
  let built = 0;
  for (const line of VALUES) {
    for (const step of ["build", 'st"ep', "s"]) {
      for (const stream of ["stdout", "stderr", "other"]) {
        for (const seq of [0, 7, 123456789012345]) {
          const text = outputLine({ seq, step, stream, line });
          // Inside a longer text, as in a block of lines.
          const block = `{"seq":1}\n${text}\n`;
          const event = events.build(block, 10);
          if (text.includes("\\")) {
            assert.equal(event, undefined, text);
            assert.equal(isOutputLine(block, 10), false);
            continue;
          }
          built++;
          assert.ok(event, text);
          // Same keys, same order, same values.
          assert.equal(JSON.stringify(event), text);
          assert.deepEqual(event, JSON.parse(text));
          assert.equal(isOutputLine(block, 10), true);
        }
      }
    }
  }
  assert.ok(built > 100, `built ${built}`);
});

Deno.test("OutputEvents leaves every other shape to the parse", () => {
  const good = outputLine({ seq: 3, step: "s", stream: "stdout", line: "hi" });
  const variants = [
    good.replace('{"seq":3', '{"seq":03'), // not JSON
    good.replace('{"seq":3', '{"seq":-3'),
    good.replace('{"seq":3', '{"seq":3.0'),
    good.replace('{"seq":3', '{"seq":1234567890123456'), // not exact
    good.replace('{"seq":3', '{ "seq":3'),
    good.replace('"ts":', '"ts" :'),
    good.replace('"stdout"', '"stdout","extra":1'),
    good.replace('"step_output"', '"step_failed"'),
    good.slice(0, -1) + ',"line":"again"}', // a duplicate key
    good.slice(0, -2), // cut short
    good + " ", // trailing space
    good + "x",
    good.replace("hi", "h\u0001i"), // a raw control character
  ];
  const events = new OutputEvents();
  for (const text of variants) {
    assert.equal(events.build(text + "\n", 0), undefined, text);
    assert.equal(isOutputLine(text + "\n", 0), false, text);
  }
  assert.ok(events.build(good + "\n", 0));
});

Deno.test("OUTPUT_RUN covers a run of zig's output lines and stops at the first other line; outputRunOf, at another step's", () => {
  const a = outputLine({ seq: 1, step: "a.b+c", stream: "stdout", line: "1" });
  const b = outputLine({ seq: 2, step: "a.b+c", stream: "stderr", line: "2" });
  const other = outputLine({
    seq: 3,
    step: "axb+c",
    stream: "stdout",
    line: "",
  });
  const escaped = outputLine({
    seq: 4,
    step: "a",
    stream: "stdout",
    line: '"',
  });
  const text = `${a}\n${b}\n${other}\n${escaped}\n${a}\n`;
  OUTPUT_RUN.lastIndex = 0;
  assert.ok(OUTPUT_RUN.test(text));
  assert.equal(OUTPUT_RUN.lastIndex, a.length + b.length + other.length + 3);
  const run = outputRunOf("a.b+c"); // "." and "+" are no patterns
  run.lastIndex = 0;
  run.test(text);
  assert.equal(run.lastIndex, a.length + b.length + 2);
  // A line without its newline is not part of a run.
  OUTPUT_RUN.lastIndex = 0;
  OUTPUT_RUN.test(a);
  assert.equal(OUTPUT_RUN.lastIndex, 0);
});
