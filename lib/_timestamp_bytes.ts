// Internal: timestamps as zig writes them, written as bytes into a buffer:
// the writer's hot path makes no string for them.
const encoder = new TextEncoder();

/** `performance.timeOrigin`, read once: it does not change. */
export const TIME_ORIGIN: number = performance.timeOrigin;

/**
 * Writes a non-negative integer in decimal at `at`, zero-padded to `width`
 * digits; returns where it ends.
 */
export function writeDigits(
  buffer: Uint8Array,
  at: number,
  value: number,
  width = 1,
): number {
  let length = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) length++;
  length = Math.max(length, width);
  for (let i = at + length - 1; i >= at; i--) {
    buffer[i] = 0x30 + value % 10;
    value = Math.floor(value / 10);
  }
  return at + length;
}

let cachedSecond = Number.NaN;
let cachedPrefix = new Uint8Array(0);
const OFFSET = encoder.encode('+00:00"');

/**
 * Writes the instant `epochMs` (milliseconds since the epoch, with their
 * fraction) as a JSON string at `at`: RFC 3339 in UTC with a `+00:00`
 * offset, to the microsecond, in the fewest of 0, 3 or 6 fractional digits.
 * Returns where it ends (at most 35 bytes on). The date and the second are
 * formatted once a second.
 */
export function writeTimestamp(
  buffer: Uint8Array,
  at: number,
  epochMs: number,
): number {
  const second = Math.floor(epochMs / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedPrefix = encoder.encode(
      '"' + new Date(second * 1000).toISOString().slice(0, 19),
    );
  }
  buffer.set(cachedPrefix, at);
  at += cachedPrefix.length;
  const micros = Math.min(
    999_999,
    Math.floor((epochMs - second * 1000) * 1000),
  );
  if (micros !== 0) {
    buffer[at++] = 0x2e; // .
    at = micros % 1000 === 0
      ? writeDigits(buffer, at, micros / 1000, 3)
      : writeDigits(buffer, at, micros, 6);
  }
  buffer.set(OFFSET, at);
  return at + OFFSET.length;
}
