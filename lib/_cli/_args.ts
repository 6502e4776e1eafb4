// Internal to the CLI: command-line mistakes, and the values options take
// (durations, instants, event types).
import {
  isKnownEventType,
  KNOWN_EVENT_TYPES,
  parseTimestamp,
} from "../../mod.ts";

/** A command-line mistake: exit code 2 and a hint to `--help`. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Parses a duration such as `500ms`, `90s`, `5m`, `2h`, `7d` or `1w`. */
export function parseDuration(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(value.trim());
  if (!m) {
    throw new UsageError(
      `Invalid ${flag} "${value}": expected a duration like 90s, 5m, 2h or 7d`,
    );
  }
  return Number(m[1]) * UNITS[m[2]];
}

/** The longest delay a timer takes (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Parses an interval a timer runs at (`--heartbeat 10s`): a duration of at
 * least 1 ms and at most the longest delay a timer takes, about 24 days.
 */
export function parseInterval(value: string, flag: string): number {
  const ms = parseDuration(value, flag);
  if (!(ms >= 1 && ms <= MAX_TIMER_MS)) {
    throw new UsageError(
      `Invalid ${flag} "${value}": expected an interval of at least 1ms and at most 24d`,
    );
  }
  return ms;
}

/**
 * Parses `--since`: a relative duration back from now (`2h`, `7d`) or an ISO
 * date or timestamp. Returns the instant in nanoseconds since the epoch.
 */
export function parseSince(value: string): bigint {
  if (/^\d+(?:\.\d+)?(ms|s|m|h|d|w)$/.test(value)) {
    const ms = Date.now() - parseDuration(value, "--since");
    return BigInt(Math.round(ms)) * 1_000_000n;
  }
  const exact = parseTimestamp(value);
  if (exact !== undefined) return exact;
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(value)
    ? Date.parse(`${value}T00:00:00Z`)
    : Date.parse(value);
  if (Number.isNaN(ms)) {
    throw new UsageError(
      `Invalid --since "${value}": expected a date (2026-11-20), a timestamp, or a duration back from now (2h, 7d)`,
    );
  }
  return BigInt(ms) * 1_000_000n;
}

/**
 * The value of an option that counts (`--keep 3`): a non-negative integer;
 * `undefined` when the option was not given.
 */
export function parseCount(
  value: string | undefined,
  flag: string,
): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) {
    throw new UsageError(
      `Invalid ${flag} "${value}": expected a non-negative integer`,
    );
  }
  return Number(value);
}

/** Checks the event types an option names (`--type T`): each one zig knows. */
export function checkEventTypes(types: string[]): void {
  for (const type of types) {
    if (!isKnownEventType(type)) {
      throw new UsageError(
        `Unknown event type "${type}": expected one of ${
          KNOWN_EVENT_TYPES.join(", ")
        }`,
      );
    }
  }
}
