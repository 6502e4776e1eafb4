import assert from "node:assert/strict";
import {
  compareTimestamps,
  formatTimestamp,
  nowTimestamp,
  parseTimestamp,
} from "../mod.ts";
import { writeTimestamp } from "../lib/_timestamp_bytes.ts";

Deno.test("formatting keeps the fewest of 0, 3, 6 or 9 fractional digits, like chrono", () => {
  const s = 1795473706n * 1_000_000_000n;
  assert.equal(formatTimestamp(s), "2026-11-23T22:41:46+00:00");
  assert.equal(
    formatTimestamp(s + 500_000_000n),
    "2026-11-23T22:41:46.500+00:00",
  );
  assert.equal(
    formatTimestamp(s + 369_218_000n),
    "2026-11-23T22:41:46.369218+00:00",
  );
  assert.equal(
    formatTimestamp(s + 369_218_144n),
    "2026-11-23T22:41:46.369218144+00:00",
  );
  assert.equal(formatTimestamp(s + 1n), "2026-11-23T22:41:46.000000001+00:00");
});

Deno.test("parsing reads any offset and round-trips the fixtures' stamps", () => {
  for (
    const ts of [
      "2026-11-23T22:41:46.369218144+00:00",
      "2026-11-23T22:41:46.500+00:00",
      "2026-11-23T22:41:46+00:00",
    ]
  ) {
    assert.equal(formatTimestamp(parseTimestamp(ts)!), ts);
  }
  assert.equal(
    parseTimestamp("2026-11-23T23:41:46+01:00"),
    parseTimestamp("2026-11-23T22:41:46Z"),
  );
  assert.equal(
    parseTimestamp("2026-11-23T22:41:46.1234567891+00:00"),
    parseTimestamp("2026-11-23T22:41:46.123456789Z"),
  );
  assert.equal(parseTimestamp("2026-11-23"), undefined);
  assert.equal(parseTimestamp(""), undefined);
});

Deno.test("comparison orders instants, not text", () => {
  const earlier = "2026-11-23T22:41:47Z";
  const later = "2026-11-23T22:41:47.5+00:00";
  assert.ok(later < earlier, "as text the later one sorts first");
  assert.ok(compareTimestamps(later, earlier) > 0);
  assert.ok(
    compareTimestamps(
      "2026-11-23T23:00:00+02:00",
      "2026-11-23T22:00:00+00:00",
    ) < 0,
  );
  assert.equal(compareTimestamps(earlier, earlier), 0);
  assert.ok(compareTimestamps("garbage", earlier) < 0);
});

Deno.test("now is in zig's format and moves forward", () => {
  const a = nowTimestamp();
  assert.match(
    a,
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3}|\.\d{6})?\+00:00$/,
  );
  const b = nowTimestamp();
  assert.ok(compareTimestamps(b, a) >= 0);
  const drift = Number(parseTimestamp(a)! / 1_000_000n) - Date.now();
  assert.ok(Math.abs(drift) < 5_000, `now is ${drift} ms away from Date.now()`);
});

Deno.test("the writer's timestamp bytes: microseconds in the fewest of 0, 3 or 6 digits, as formatTimestamp writes them", () => {
  const second = 1795473706000; // 2026-11-23T22:41:46Z, in ms
  const buffer = new Uint8Array(40);
  const text = (ms: number) =>
    new TextDecoder().decode(buffer.subarray(0, writeTimestamp(buffer, 0, ms)));
  const cases: Array<[number, string]> = [
    [second, '"2026-11-23T22:41:46+00:00"'],
    [second + 500, '"2026-11-23T22:41:46.500+00:00"'],
    [second + 7, '"2026-11-23T22:41:46.007+00:00"'],
    [second + 369.25, '"2026-11-23T22:41:46.369250+00:00"'],
    [second + 0.5, '"2026-11-23T22:41:46.000500+00:00"'],
    [second + 999.9995, '"2026-11-23T22:41:46.999999+00:00"'],
    [second + 1000, '"2026-11-23T22:41:47+00:00"'], // the next second
    [second - 86_400_000 + 1.5, '"2026-11-22T22:41:46.001500+00:00"'],
  ];
  for (const [ms, expected] of cases) assert.equal(text(ms), expected);
  // Every microsecond of two milliseconds, as formatTimestamp writes it.
  for (let micros = 0; micros < 2000; micros++) {
    const written = JSON.parse(text(second + micros / 1000));
    const ns = parseTimestamp(written)!;
    assert.equal(written, formatTimestamp(ns));
    const exact = BigInt(second) * 1_000_000n + BigInt(micros) * 1000n;
    assert.ok(exact - ns >= 0n && exact - ns <= 1000n, `${micros}: ${written}`);
  }
  assert.match(
    nowTimestamp(),
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6})?\+00:00$/,
  );
});
