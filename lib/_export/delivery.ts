// Sending one OTLP request: gzip, a timeout per attempt, retries with
// exponential backoff and jitter on 429/502/503/504 and connection errors
// (honouring Retry-After), a clear error for what will never succeed.
import { gzipSync } from "node:zlib";
import type { SignalTarget } from "./config.ts";
import { errorMessage, type PartialSuccess, partialSuccess } from "./otlp.ts";

/** The receiver refused the request for good (a 4xx other than 429). */
export class RejectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RejectedError";
  }
}

/** Retries ran out (only when not retrying forever). */
export class UnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnavailableError";
  }
}

/** How to retry. */
export interface RetryPolicy {
  /** Retry without end (following), else give up after `maxRetries`. */
  forever: boolean;
  /** Retries before giving up, when not forever. */
  maxRetries: number;
  /** First backoff, doubled each time up to `maxBackoffMs`. */
  initialBackoffMs: number;
  /** Longest backoff, and the longest Retry-After honoured. */
  maxBackoffMs: number;
  /** Told about each failed attempt that will be retried. */
  onRetry: (message: string) => void;
  /** Stops waiting and sending when aborted. */
  signal?: AbortSignal;
}

const RETRYABLE = new Set([429, 502, 503, 504]);

/** Milliseconds a Retry-After header asks for, if it is valid. */
export function retryAfterMs(value: string | null): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener("abort", abort);
      resolve();
    }
    function abort() {
      clearTimeout(timer);
      reject(signal!.reason);
    }
    signal?.addEventListener("abort", abort, { once: true });
  });
}

/** The body as it goes on the wire. */
export function wireBody(
  target: SignalTarget,
  body: Uint8Array,
): Uint8Array<ArrayBuffer> {
  return new Uint8Array(target.gzip ? gzipSync(body, { level: 1 }) : body);
}

/**
 * Posts one request until the receiver accepts it. Returns what it rejected
 * in an accepted request (partial success), if anything.
 *
 * @throws {RejectedError} when the receiver refuses it for good.
 * @throws {UnavailableError} when retries run out.
 */
export async function deliver(
  target: SignalTarget,
  request: { body: Uint8Array; what: string },
  policy: RetryPolicy,
): Promise<PartialSuccess | undefined> {
  const json = target.protocol === "http/json";
  const headers: Record<string, string> = {
    ...target.headers,
    "content-type": json ? "application/json" : "application/x-protobuf",
    "user-agent": "zig-session-export",
  };
  if (target.gzip) headers["content-encoding"] = "gzip";
  const body = wireBody(target, request.body);
  let backoff = policy.initialBackoffMs;
  for (let attempt = 0;; attempt++) {
    policy.signal?.throwIfAborted();
    let problem: string;
    let wait: number | undefined;
    try {
      const signals = [AbortSignal.timeout(target.timeoutMs)];
      if (policy.signal) signals.push(policy.signal);
      const response = await fetch(target.url, {
        method: "POST",
        headers,
        body,
        signal: AbortSignal.any(signals),
      });
      const answer = new Uint8Array(await response.arrayBuffer());
      if (response.ok) return partialSuccess(answer, json);
      const message = errorMessage(
        answer,
        response.headers.get("content-type") ?? "",
      );
      const said = `${response.status} ${response.statusText}`.trim() +
        (message ? `: ${message}` : "");
      if (!RETRYABLE.has(response.status)) {
        throw new RejectedError(
          `The receiver at ${target.url} refused ${request.what} with ${said}; not retried, as it would fail again`,
        );
      }
      problem = `answered ${said}`;
      wait = retryAfterMs(response.headers.get("retry-after"));
    } catch (error) {
      if (error instanceof RejectedError) throw error;
      if (policy.signal?.aborted) throw policy.signal.reason;
      problem = error instanceof DOMException && error.name === "TimeoutError"
        ? `did not answer within ${target.timeoutMs} ms`
        : `could not be reached (${(error as Error).message})`;
    }
    if (!policy.forever && attempt >= policy.maxRetries) {
      throw new UnavailableError(
        `The receiver at ${target.url} ${problem}; gave up on ${request.what} after ${
          attempt + 1
        } attempts. Nothing is lost: run the export again when it is up`,
      );
    }
    const delay = wait !== undefined
      ? Math.min(wait, policy.maxBackoffMs)
      : Math.round(backoff * (0.5 + Math.random() / 2));
    backoff = Math.min(backoff * 2, policy.maxBackoffMs);
    policy.onRetry(
      `the receiver at ${target.url} ${problem}; retrying ${request.what} in ${
        (delay / 1000).toFixed(1)
      } s`,
    );
    await sleep(delay, policy.signal);
  }
}
