import assert from "node:assert/strict";
import {
  compareTimestamps,
  formatTimestamp,
  nowTimestamp,
  parseTimestamp,
} from "../mod.ts";

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
