/**
 * Timestamps as zig writes them: RFC 3339, UTC, a `+00:00` offset and 0, 3,
 * 6 or 9 fractional digits (the fewest that keep the value exact).
 *
 * @module
 */
import { TIME_ORIGIN, writeTimestamp } from "./_timestamp_bytes.ts";

const TIMESTAMP_RE =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9})\d*)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

const NS_PER_SECOND = 1_000_000_000n;

function fraction(nanos: number): string {
  if (nanos === 0) return "";
  if (nanos % 1_000_000 === 0) {
    return "." + String(nanos / 1_000_000).padStart(3, "0");
  }
  if (nanos % 1_000 === 0) return "." + String(nanos / 1_000).padStart(6, "0");
  return "." + String(nanos).padStart(9, "0");
}

function secondsPrefix(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().slice(0, 19);
}

/**
 * Formats an instant as zig does.
 *
 * @example Usage
 * ```ts
 * import { formatTimestamp } from "./timestamp.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   formatTimestamp(1795473706369218144n),
 *   "2026-11-23T22:41:46.369218144+00:00",
 * );
 * assert.equal(formatTimestamp(1795473706000000000n), "2026-11-23T22:41:46+00:00");
 * ```
 *
 * @param epochNanoseconds Nanoseconds since the Unix epoch.
 * @returns The RFC 3339 timestamp.
 */
export function formatTimestamp(epochNanoseconds: bigint): string {
  let seconds = epochNanoseconds / NS_PER_SECOND;
  let nanos = epochNanoseconds % NS_PER_SECOND;
  if (nanos < 0n) {
    nanos += NS_PER_SECOND;
    seconds -= 1n;
  }
  return secondsPrefix(Number(seconds)) + fraction(Number(nanos)) + "+00:00";
}

const scratch = new Uint8Array(64);
const decoder = new TextDecoder();

/**
 * The current time as zig writes it, with microsecond precision. Cheap enough
 * to call for every event.
 *
 * @example Usage
 * ```ts
 * import { nowTimestamp } from "./timestamp.ts";
 * import assert from "node:assert/strict";
 *
 * assert.match(nowTimestamp(), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+00:00$/);
 * ```
 *
 * @returns The RFC 3339 timestamp of now.
 */
export function nowTimestamp(): string {
  // Formatted as the writer writes it into its buffer, without the quotes.
  const end = writeTimestamp(scratch, 0, TIME_ORIGIN + performance.now());
  return decoder.decode(scratch.subarray(1, end - 1));
}

/**
 * Parses an RFC 3339 timestamp, with any offset and up to nine fractional
 * digits, into nanoseconds since the Unix epoch.
 *
 * @example Usage
 * ```ts
 * import { parseTimestamp } from "./timestamp.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   parseTimestamp("2026-11-23T23:41:46.5+01:00"),
 *   parseTimestamp("2026-11-23T22:41:46.500Z"),
 * );
 * assert.equal(parseTimestamp("yesterday"), undefined);
 * ```
 *
 * @param timestamp The timestamp.
 * @returns Nanoseconds since the epoch, or `undefined` if it is not RFC 3339.
 */
export function parseTimestamp(timestamp: string): bigint | undefined {
  const m = TIMESTAMP_RE.exec(timestamp);
  if (!m) return undefined;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  if (Number.isNaN(ms)) return undefined;
  let offsetMinutes = 0;
  if (!m[8] && m[9]) {
    offsetMinutes = (+m[10] * 60 + +m[11]) * (m[9] === "-" ? -1 : 1);
  }
  const seconds = BigInt(ms / 1000 - offsetMinutes * 60);
  const nanos = BigInt((m[7] ?? "").padEnd(9, "0"));
  return seconds * NS_PER_SECOND + nanos;
}

/**
 * Orders two timestamps by the instants they name, not by their text. A
 * timestamp that does not parse sorts before every valid one.
 *
 * @example Usage
 * ```ts
 * import { compareTimestamps } from "./timestamp.ts";
 * import assert from "node:assert/strict";
 *
 * // As text "…47Z" sorts after "…47.5+00:00", since "Z" > ".".
 * assert.ok(compareTimestamps("2026-11-23T22:41:47Z", "2026-11-23T22:41:47.5+00:00") < 0);
 * ```
 *
 * @param a A timestamp.
 * @param b Another timestamp.
 * @returns A negative number if `a` is earlier, positive if later, 0 if equal.
 */
export function compareTimestamps(a: string, b: string): number {
  const x = parseTimestamp(a);
  const y = parseTimestamp(b);
  if (x === undefined || y === undefined) {
    return (x === undefined ? 0 : 1) - (y === undefined ? 0 : 1);
  }
  return x < y ? -1 : x > y ? 1 : 0;
}
