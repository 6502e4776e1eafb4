// The values options take: durations, instants, counts (lib/_cli/_args.ts).
import assert from "node:assert/strict";
import {
  parseCount,
  parseDuration,
  parseInterval,
  parseSince,
  UsageError,
} from "../../lib/_cli/_args.ts";

Deno.test("parseDuration: every unit, decimals and surrounding blanks", () => {
  const cases: Array<[string, number]> = [
    ["500ms", 500],
    ["90s", 90_000],
    ["5m", 300_000],
    ["2h", 7_200_000],
    ["7d", 604_800_000],
    ["1w", 604_800_000],
    ["1.5s", 1500],
    [" 3m ", 180_000],
    ["0s", 0],
  ];
  for (const [text, ms] of cases) {
    assert.equal(parseDuration(text, "--timeout"), ms, text);
  }
});

Deno.test("parseDuration: a usage error naming the option and the value, with examples", () => {
  for (const text of ["soon", "5", "-5m", "5 m", "5M", "1y", "", "1e3s"]) {
    assert.throws(
      () => parseDuration(text, "--older-than"),
      (error: unknown) =>
        error instanceof UsageError &&
        error.message ===
          `Invalid --older-than "${text}": expected a duration like 90s, 5m, 2h or 7d`,
      text,
    );
  }
});

Deno.test("parseSince: a duration back from now, a date, a timestamp", () => {
  const before = BigInt(Date.now() - 7_200_000) * 1_000_000n;
  const since = parseSince("2h");
  const after = BigInt(Date.now() - 7_200_000) * 1_000_000n;
  assert.ok(before <= since && since <= after, `${since}`);
  const day = BigInt(Date.parse("2026-11-20T00:00:00Z")) * 1_000_000n;
  assert.equal(parseSince("2026-11-20"), day, "a date is midnight UTC");
  assert.equal(
    parseSince("2026-11-20T10:00:00.123456789+00:00"),
    day + 36_000_123_456_789n,
    "a timestamp keeps its nanoseconds",
  );
  assert.equal(
    parseSince("2026-11-20T12:00:00+02:00"),
    day + 36_000_000_000_000n,
    "an offset is applied",
  );
});

Deno.test("parseSince: what is neither a date nor a duration is a usage error", () => {
  for (const text of ["yesterday", "2026-13-45", "7 days", ""]) {
    assert.throws(
      () => parseSince(text),
      (error: unknown) =>
        error instanceof UsageError &&
        error.message.startsWith(`Invalid --since "${text}": expected a date`),
      text,
    );
  }
});

Deno.test("parseCount: non-negative integers only", () => {
  assert.equal(parseCount(undefined, "--keep"), undefined);
  assert.equal(parseCount("0", "--keep"), 0);
  assert.equal(parseCount("12", "--keep"), 12);
  for (const text of ["-1", "1.5", "ten", "", "+3", "3 "]) {
    assert.throws(
      () => parseCount(text, "--keep"),
      (error: unknown) =>
        error instanceof UsageError &&
        error.message ===
          `Invalid --keep "${text}": expected a non-negative integer`,
      text,
    );
  }
});

Deno.test("parseInterval: 1ms up to the longest timer delay (about 24.8 days); else a usage error", () => {
  assert.equal(parseInterval("1ms", "--heartbeat"), 1);
  assert.equal(parseInterval("10s", "--heartbeat"), 10_000);
  assert.equal(parseInterval("24d", "--heartbeat"), 24 * 86_400_000);
  for (const value of ["0s", "0.5ms", "25d", "30d"]) {
    assert.throws(
      () => parseInterval(value, "--heartbeat"),
      (error: unknown) =>
        error instanceof UsageError &&
        error.message ===
          `Invalid --heartbeat "${value}": expected an interval of at least 1ms and at most 24d`,
      value,
    );
  }
  assert.throws(
    () => parseInterval("often", "--heartbeat"),
    /Invalid --heartbeat "often": expected a duration/,
  );
});
