import assert from "node:assert/strict";
import { join } from "node:path";
import {
  IndexBackward,
  indexBytesRead,
  Instant,
  parseIndexBlock,
} from "../lib/_index_tail.ts";
import { parseTimestamp } from "../mod.ts";
import { tempDir } from "./_helpers.ts";

const decoder = new TextDecoder();

Deno.test("Instant reads every timestamp as parseTimestamp does, in zig's form without BigInt", () => {
  const samples = [
    "2026-11-23T22:41:46.369218144+00:00",
    "2026-11-23T22:41:46+00:00",
    "2026-11-23T22:41:46Z",
    "2026-11-23T22:41:46z", // the slow way
    "2026-11-23 22:41:46+00:00",
    "2026-11-23T22:41:46.1-05:30",
    "2026-11-23T22:41:46.123456789123+14:00",
    "1969-12-31T23:59:59.5+00:00",
    "1970-01-01T00:00:00+00:00",
    "0050-06-01T00:00:00+00:00", // Date.UTC's years 0 to 99
    "2026-02-30T00:00:00+00:00", // rolls over as Date.UTC does
    "2026-13-01T00:00:00+00:00",
    "2026-11-23T24:00:00+00:00",
    "2026-11-23T23:59:60+00:00",
    "2026-11-00T00:00:00+00:00",
    "2026-11-23T22:41:46.+00:00",
    "2026-11-23T22:41:46+0000",
    "2026-11-23T22:41:46",
    "garbage",
    "",
  ];
  // And many of zig's own, across years, days and offsets.
  for (let i = 0; i < 2000; i++) {
    const ms = Date.UTC(1971, 0, 1) + Math.floor(Math.random() * 2e12);
    const iso = new Date(ms).toISOString().slice(0, 19);
    const fraction = [
      "",
      ".5",
      "." + String(i).padStart(9, "0"),
      "." + String(ms % 1000).padStart(3, "0"),
    ][i % 4];
    const offset = ["+00:00", "Z", "-07:00", "+05:45"][i % 4];
    samples.push(iso + fraction + offset);
  }
  const instant = new Instant();
  for (const text of samples) {
    const ns = parseTimestamp(text);
    // Inside a longer text, as in an index.
    const ok = instant.read(`"x": "${text}"`, 6, 6 + text.length);
    assert.equal(ok, ns !== undefined, text);
    if (ns === undefined) continue;
    assert.equal(
      BigInt(instant.seconds) * 1_000_000_000n + BigInt(instant.nanos),
      ns,
      text,
    );
    assert.ok(instant.nanos >= 0 && instant.nanos < 1e9);
  }
  assert.equal(instant.read(undefined), false);
  assert.equal(instant.read(null), false);
});

function entry(i: number, extra: Record<string, unknown> = {}) {
  return {
    zig_session_id: `id-${i}`,
    workflow_name: `wf ${i} é`,
    workflow_path: "/w.zwf",
    log_path: `/h/logs/sessions/id-${i}.jsonl`,
    started_at: `2026-01-01T00:00:${String(i % 60).padStart(2, "0")}+00:00`,
    ended_at: i % 3 === 0 ? null : "2026-01-01T01:00:00+00:00",
    status: i % 3 === 0 ? null : "success",
    workspace_path: "/h",
    ...extra,
  };
}

/** A zig home holding a project index with these entries, as zig writes it. */
function indexOf(dir: string, sessions: unknown[], text?: string): string {
  const logs = join(dir, "projects", "p", "logs");
  Deno.mkdirSync(logs, { recursive: true });
  const path = join(logs, "index.json");
  Deno.writeTextFileSync(
    path,
    text ?? JSON.stringify({ sessions }, null, 2),
  );
  return path;
}

/** Every block IndexBackward gives, in file order; null when it gave up. */
function blocks(path: string): string[] | null {
  const reader = new IndexBackward(path);
  try {
    const found: string[] = [];
    for (let block; (block = reader.previous()) !== undefined;) {
      if (block === null) return null;
      found.unshift(block);
    }
    return found;
  } finally {
    reader.close();
  }
}

/** The blocks of a window: separated by ",\n    " between "}" and "{". */
function split(window: string): string[] {
  const pieces = window.split("\n    },\n    {");
  return pieces.map((piece, i) =>
    (i > 0 ? "{" : "") + piece + (i < pieces.length - 1 ? "\n    }" : "")
  );
}

/** The same through windows, then through windows of bytes. */
function windows(path: string): { text: string[] | null; bytes: string[] } {
  const reader = new IndexBackward(path);
  try {
    let text: string[] | null = [];
    for (let window; (window = reader.previousWindow()) !== undefined;) {
      if (window === null) {
        text = null;
        break;
      }
      text.unshift(...split(window));
    }
    const bytes: string[] = [];
    const whole = reader.eachWindowBytes((data, from, to) => {
      bytes.unshift(...split(decoder.decode(data.subarray(from, to + 1))));
    });
    assert.ok(whole || text === null);
    return { text, bytes };
  } finally {
    reader.close();
  }
}

Deno.test("IndexBackward gives every block of an index as zig writes it, block by block and by windows", () => {
  using tmp = tempDir();
  for (const count of [0, 1, 2, 150, 3000]) {
    const sessions = Array.from(
      { length: count },
      (_, i) =>
        entry(
          i,
          i % 7 === 0 ? { workflow_name: 'quote " and \\ and \u0001' } : {},
        ),
    );
    const path = indexOf(tmp.path, sessions);
    const expected = sessions.map((s) =>
      JSON.stringify(s, null, 2).replaceAll("\n", "\n    ")
    );
    assert.deepEqual(blocks(path), expected, `${count} sessions`);
    const { text, bytes } = windows(path);
    assert.deepEqual(text, expected);
    assert.deepEqual(bytes, expected);
    for (const [i, block] of expected.entries()) {
      const parsed = parseIndexBlock(block, "project");
      assert.deepEqual(parsed?.entry, sessions[i]);
      // Exact (printable from its text) unless a value needs escapes.
      assert.equal(parsed?.exact, !block.includes("\\"));
    }
  }
  // A missing index has no blocks.
  assert.deepEqual(
    blocks(join(tmp.path, "projects", "q", "logs", "index.json")),
    [],
  );
});

Deno.test("IndexBackward gives up on text that is not in zig's layout, so that the full read decides", () => {
  using tmp = tempDir();
  const sessions = [entry(1), entry(2)];
  const pretty = JSON.stringify({ sessions }, null, 2);
  const variants = [
    JSON.stringify({ sessions }), // compact
    JSON.stringify({ sessions, version: 2 }, null, 2), // "sessions" not last
    JSON.stringify({ version: 2, sessions }, null, 2), // another key first
    JSON.stringify({ sessions }, null, 4),
    pretty.slice(0, -20), // cut short
    "x" + pretty, // garbage before
    pretty.replace("},\n    {", "}\n    {"), // a separator lost
    pretty.replace('"id-2",', '"id-2",\n    },\n    {'), // a block cut in two
  ];
  for (const text of variants) {
    const path = indexOf(tmp.path, [], text);
    const got = blocks(path);
    // Either it gives up, or a block it gives does not parse as an entry.
    assert.ok(
      got === null ||
        got.some((b) => parseIndexBlock(b, "project") === undefined),
      text.slice(0, 60),
    );
    const { text: pieces } = windows(path);
    assert.ok(
      pieces === null ||
        pieces.some((b) => parseIndexBlock(b, "project") === undefined),
      text.slice(0, 60),
    );
  }
  // Trailing whitespace is fine.
  const path = indexOf(tmp.path, [], pretty + "\n\n");
  assert.equal(blocks(path)?.length, 2);
  // An entry without a required field is no entry.
  assert.equal(
    parseIndexBlock(JSON.stringify({ zig_session_id: "a" }), "project"),
    undefined,
  );
});

Deno.test("IndexBackward reads only the end of a large index for its last blocks", () => {
  using tmp = tempDir();
  const sessions = Array.from({ length: 20_000 }, (_, i) => entry(i));
  const path = indexOf(tmp.path, sessions);
  const size = Deno.statSync(path).size;
  const reader = new IndexBackward(path);
  const before = indexBytesRead.count;
  try {
    for (let i = 0; i < 100; i++) {
      const block = reader.previous();
      assert.equal(typeof block, "string");
      assert.equal(
        parseIndexBlock(block!, "project")?.entry.zig_session_id,
        `id-${20_000 - 1 - i}`,
      );
    }
  } finally {
    reader.close();
  }
  const read = indexBytesRead.count - before;
  assert.ok(read <= 128 * 1024 && read < size / 20, `read ${read} of ${size}`);
});
