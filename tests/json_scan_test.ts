// The scanner that reads lines too long to hold must judge every text as
// JSON.parse does, whatever pieces the text comes in.
import assert from "node:assert/strict";
import {
  type CutValue,
  JsonScanner,
  type StringVisitor,
} from "../lib/_json_scan.ts";

/** A seeded generator, so that a failure can be replayed. */
function random(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s % n;
  };
}

const STRINGS = [
  "",
  "plain",
  'quote " and backslash \\',
  "tab\tnew\nline\r",
  "\u0001\u001f control",
  "é 日本語 🚀",
  "\ud83d", // a lone surrogate, escaped by JSON.stringify
  "/slash/",
  "x".repeat(300),
];
const NUMBERS = ["0", "-0", "12", "-3.25", "1e9", "2E-3", "6.02e+23", "-0.0"];

function value(rand: (n: number) => number, depth: number): string {
  switch (rand(depth > 3 ? 4 : 6)) {
    case 0:
      return JSON.stringify(STRINGS[rand(STRINGS.length)]);
    case 1:
      return NUMBERS[rand(NUMBERS.length)];
    case 2:
      return ["true", "false", "null"][rand(3)];
    case 3: // a string written with \u escapes
      return '"\\u00e9\\uD83D\\uDE80\\u0041"';
    case 4: {
      const items = Array.from(
        { length: rand(4) },
        () => value(rand, depth + 1),
      );
      return `[${items.join(space(rand) + "," + space(rand))}]`;
    }
    default:
      return object(rand, depth + 1);
  }
}

function space(rand: (n: number) => number): string {
  return ["", "", " ", "\t", "\r", "  "][rand(6)];
}

function object(rand: (n: number) => number, depth: number): string {
  const keys = ["seq", "type", "line", "a", "é", "__proto__", "k\\"];
  const members = Array.from(
    { length: rand(5) },
    () =>
      `${JSON.stringify(keys[rand(keys.length)])}${space(rand)}:${space(rand)}${
        value(rand, depth)
      }`,
  );
  return `{${space(rand)}${members.join("," + space(rand))}${space(rand)}}`;
}

/** Breaks a text the way bytes on a disk break: a character changed, added or lost. */
function damage(rand: (n: number) => number, text: string): string {
  const at = rand(text.length + 1);
  const noise = [
    '"',
    "\\",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "x",
    "1",
    "-",
    "\u0001",
    "u",
    "e",
    ".",
  ];
  const c = noise[rand(noise.length)];
  switch (rand(3)) {
    case 0:
      return text.slice(0, at) + c + text.slice(at + 1);
    case 1:
      return text.slice(0, at) + c + text.slice(at);
    default:
      return text.slice(0, at) + text.slice(at + 1);
  }
}

function scan(
  rand: (n: number) => number,
  text: string,
  options: { keep: number; strings?: StringVisitor },
) {
  const scanner = new JsonScanner(options);
  for (let i = 0; i < text.length;) {
    const next = i + 1 + rand(rand(2) === 0 ? 4 : 40);
    scanner.push(text.slice(i, next));
    i = next;
  }
  return { result: scanner.end(), error: scanner.error };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

Deno.test("the scanner accepts exactly the objects JSON.parse accepts, in any pieces", () => {
  const rand = random(20261123);
  let valid = 0;
  for (let round = 0; round < 4000; round++) {
    let text = object(rand, 0);
    if (round % 2 === 1) text = damage(rand, text);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const { result, error } = scan(rand, text, { keep: 1 << 16 });
    if (!isObject(parsed)) {
      assert.equal(result, undefined, `accepted ${JSON.stringify(text)}`);
      assert.ok(error, "says why");
      continue;
    }
    valid++;
    assert.ok(result, `refused ${JSON.stringify(text)}: ${error}`);
    assert.deepEqual(result.members, parsed, JSON.stringify(text));
    assert.deepEqual(result.cut, {});
  }
  assert.ok(valid > 1500, `only ${valid} valid texts`);
});

Deno.test("the scanner cuts long members, previews long strings, and shows every string", () => {
  const rand = random(7);
  for (let round = 0; round < 2000; round++) {
    const text = object(rand, 0);
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const seen: string[] = [];
    let current = "";
    let key: string | undefined;
    const strings: StringVisitor = {
      open(k) {
        key = k;
        current = "";
      },
      piece(p) {
        current += p;
      },
      close() {
        seen.push(`${key}=${current}`);
      },
    };
    const keep = 8 + rand(40);
    const { result } = scan(rand, text, { keep, strings });
    assert.ok(result, text);
    for (const [k, v] of Object.entries(parsed)) {
      const stored = JSON.stringify(k).length;
      if (Object.hasOwn(result.members, k)) {
        assert.deepEqual(result.members[k], v);
      } else if (stored <= keep) {
        // JSON.stringify may write a value shorter than it was stored.
        const cut: CutValue | undefined = result.cut[k];
        assert.ok(cut, `${k} neither kept nor cut in ${text}`);
        if (typeof v === "string") {
          assert.equal(cut.length, v.length);
          assert.ok(v.startsWith(cut.preview!), `preview of ${k}`);
        }
      }
    }
    // Every string value under the members JSON.parse kept (the last of
    // duplicate keys) was shown whole.
    const want: string[] = [];
    const walk = (k: string, v: unknown) => {
      if (typeof v === "string") want.push(`${k}=${v}`);
      else if (v !== null && typeof v === "object") {
        for (const x of Object.values(v)) walk(k, x);
      }
    };
    for (const [k, v] of Object.entries(parsed)) {
      if (JSON.stringify(k).length <= keep) walk(k, v);
    }
    for (const s of want) assert.ok(seen.includes(s), `${s} not seen`);
  }
});

Deno.test("an escape cut by the end of a piece is read whole", () => {
  const text = '{"line":"a\\u00e9\\\\\\"\\n\\ud83d\\ude80b"}';
  const parsed = JSON.parse(text);
  for (let cut = 1; cut < text.length; cut++) {
    let shown = "";
    const scanner = new JsonScanner({
      keep: 8,
      strings: {
        open() {},
        piece: (p) => shown += p,
        close() {},
      },
    });
    scanner.push(text.slice(0, cut));
    scanner.push(text.slice(cut));
    const result = scanner.end();
    assert.ok(result, `cut at ${cut}: ${scanner.error}`);
    assert.equal(shown, parsed.line, `cut at ${cut}`);
    assert.equal(result.cut.line.length, parsed.line.length);
  }
});
