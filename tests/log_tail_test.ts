import assert from "node:assert/strict";
import { LinesBackward, tailBytesRead } from "../lib/_log_tail.ts";
import { tempDir } from "./_helpers.ts";

const MB = 1 << 20;
const decoder = new TextDecoder();

/** Every line `LinesBackward` gives, in file order: text, or the range of a long one. */
function backward(path: string) {
  const lines = new LinesBackward(path);
  try {
    const found: Array<string | { start: number; end: number }> = [];
    for (let line = lines.previous(); line; line = lines.previous()) {
      found.unshift(
        line.bytes === undefined
          ? { start: line.start, end: line.end }
          : decoder.decode(line.bytes),
      );
    }
    return { found, torn: lines.torn };
  } finally {
    lines.close();
  }
}

Deno.test("LinesBackward gives every complete line, blank ones too, and tells the torn rest apart", () => {
  using tmp = tempDir();
  const path = `${tmp.path}/log.jsonl`;
  const cases: Array<
    [string, string[], { offset: number; length: number } | undefined]
  > = [
    ["", [], undefined],
    ["\n", [""], undefined],
    ["a\n\nb\n", ["a", "", "b"], undefined],
    ["a\nb", ["a"], { offset: 2, length: 1 }],
    ["no newline at all", [], { offset: 0, length: 17 }],
    ["é€😀\n" + "x".repeat(70_000) + "\n😀", ["é€😀", "x".repeat(70_000)], {
      offset: 10 + 70_001,
      length: 4,
    }],
  ];
  for (const [text, lines, torn] of cases) {
    Deno.writeTextFileSync(path, text);
    const got = backward(path);
    assert.deepEqual(got.found, lines, JSON.stringify(text.slice(0, 40)));
    assert.deepEqual(got.torn, torn);
  }
});

Deno.test("LinesBackward agrees with a forward split on lines of every length around its reads", () => {
  using tmp = tempDir();
  const path = `${tmp.path}/log.jsonl`;
  // Lengths around 64 KiB, the first read, and 1 MiB, the chunk.
  const lengths = [0, 1, 65_535, 65_536, 65_537, 3, 131_071, MB - 1, 7, 0];
  const lines = lengths.map((n, i) =>
    "é".repeat(n >> 1) + String(i).repeat(n & 1)
  );
  Deno.writeTextFileSync(path, lines.join("\n") + "\n");
  assert.deepEqual(backward(path).found, lines);
});

Deno.test("LinesBackward locates a line longer than 1 MiB without holding it, and reads only the end for a short tail", () => {
  using tmp = tempDir();
  const path = `${tmp.path}/log.jsonl`;
  const long = "y".repeat(3 * MB);
  Deno.writeTextFileSync(path, `first\n${long}\nlast\n`);
  const { found } = backward(path);
  assert.deepEqual(found, [
    "first",
    { start: 6, end: 6 + long.length },
    "last",
  ]);

  // A 20 MB log: its last three lines come from its last kilobytes.
  const line = '{"seq":1,"type":"step_output","line":"' + "z".repeat(200) +
    '"}\n';
  Deno.writeTextFileSync(path, line.repeat(20 * MB / line.length));
  const lines = new LinesBackward(path);
  const before = tailBytesRead.count;
  try {
    for (let i = 0; i < 3; i++) {
      assert.equal(decoder.decode(lines.previous()!.bytes) + "\n", line);
    }
  } finally {
    lines.close();
  }
  const read = tailBytesRead.count - before;
  assert.ok(read <= 128 * 1024, `read ${read} bytes`);
});
