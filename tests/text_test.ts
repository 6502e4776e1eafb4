import assert from "node:assert/strict";
import { truncateText } from "../mod.ts";

Deno.test("truncateText counts characters and never splits a surrogate pair", () => {
  const emoji = "😀"; // two UTF-16 units
  assert.equal(
    truncateText(`${"a".repeat(199)}${emoji} tail`, 200),
    `${"a".repeat(199)}${emoji}`,
  );
  assert.equal(truncateText(`${emoji}${emoji}${emoji}`, 2), `${emoji}${emoji}`);
  assert.equal(truncateText(`ab${emoji}`, 3), `ab${emoji}`);
  assert.equal(truncateText(`ab${emoji}c`, 2), "ab");
  assert.equal(truncateText("abc", 0), "");
  const short = "short";
  assert.equal(truncateText(short, 200), short);
  // Every cut of a text of pairs stays well-formed.
  const text = `a${emoji}b${emoji}${emoji}c`;
  for (let n = 0; n <= 8; n++) {
    const cut = truncateText(text, n);
    assert.ok(cut.isWellFormed(), `${n}: ${JSON.stringify(cut)}`);
    assert.equal([...cut].length, Math.min(n, [...text].length));
    assert.ok(text.startsWith(cut));
  }
  // A lone surrogate counts as one character and is kept as it is.
  assert.equal(truncateText("\ud83dab", 2), "\ud83da");
});
