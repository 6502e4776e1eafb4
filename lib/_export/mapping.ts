// A session as OpenTelemetry data: the session is a trace, the workflow its
// root span, each step attempt a child span, every event a log record.
import { createHash } from "node:crypto";
import { parseTimestamp } from "../../mod.ts";
import {
  type Attributes,
  type AttributeValue,
  type LogRecordData,
  type OtlpId,
  type OtlpResource,
  SEVERITY,
  type SpanData,
  STATUS,
} from "./otlp.ts";

/** A span and the event that finished it. */
export interface MappedSpan {
  span: SpanData;
  /** The seq of the event that ended the span; absent for closing spans. */
  endSeq?: number;
}

/** What one event becomes. */
export interface MappedEvent {
  log: LogRecordData;
  spans: MappedSpan[];
}

function id(hex: string): OtlpId {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) {
    bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  }
  return { hex, bytes };
}

function digest(parts: string[], length: number): string {
  const hex = createHash("sha256").update(parts.join("\0")).digest("hex")
    .slice(0, length * 2);
  // An all-zero id is invalid in OTLP; one in 2^64 chance, but never send it.
  return /^0+$/.test(hex) ? "1".padStart(length * 2, "0") : hex;
}

/**
 * The trace id of a session: the 32 hex digits of its UUID, or (for an id
 * that is not a UUID) the first 16 bytes of its SHA-256.
 */
export function traceIdOf(sessionId: string): string {
  const hex = sessionId.replaceAll("-", "").toLowerCase();
  if (/^[0-9a-f]{32}$/.test(hex) && !/^0+$/.test(hex)) return hex;
  return digest(["zig-trace", sessionId], 16);
}

/** The span id of the workflow's root span. */
export function rootSpanIdOf(sessionId: string): string {
  return digest(["zig-span", sessionId, "workflow"], 8);
}

/** The span id of the `n`th span (from 1) of a step. */
export function stepSpanIdOf(
  sessionId: string,
  step: { name: string; n: number },
): string {
  return digest(["zig-span", sessionId, "step", step.name, String(step.n)], 8);
}

/** A field value as an attribute value: null left out, objects nested. */
function attributeValue(value: unknown): AttributeValue {
  if (value === null || value === undefined) return undefined;
  if (
    typeof value === "string" || typeof value === "number" ||
    typeof value === "boolean"
  ) return value;
  if (Array.isArray(value)) return value.map(attributeValue);
  if (typeof value === "object") {
    const out: Attributes = {};
    for (const [k, v] of Object.entries(value)) out[k] = attributeValue(v);
    return out;
  }
  return String(value);
}

interface StepInfo {
  tier?: number;
  zagSessionId?: string;
  zagCommand?: string;
  model?: string;
  promptPreview?: string;
}

interface StepState {
  /** Spans of this step already finished. */
  done: number;
  /** The id of its current (or next) span: the (done + 1)th. */
  spanId?: OtlpId;
  /** The running attempt: when it started and what step_started said. */
  open?: { start: bigint; info: StepInfo };
  /** After a failure, a retry starts then unless step_started says later. */
  retryFrom?: { start: bigint; info: StepInfo };
  /** Failed attempts since the last success. */
  failures: number;
}

type Event = Record<string, unknown> & {
  seq: number;
  ts: string;
  type: string;
};

/**
 * Maps the events of one session, in order, to log records and spans. Span
 * ids derive from the session id, the step name and how many spans of that
 * step came before, so exporting the same log again gives the same ids.
 */
export class SessionMapper {
  readonly sessionId: string;
  readonly resource: OtlpResource;
  readonly traceId: OtlpId;
  readonly rootSpanId: OtlpId;
  #root?: { start: bigint; attributes: Attributes; workflow: string };
  #steps = new Map<string, StepState>();
  #lastNs = 0n;
  #lastSeq = 0;
  /** Whether the root span was emitted: no span follows it. */
  closed = false;

  constructor(sessionId: string, resource: OtlpResource) {
    this.sessionId = sessionId;
    this.resource = resource;
    this.traceId = id(traceIdOf(sessionId));
    this.rootSpanId = id(rootSpanIdOf(sessionId));
  }

  /** The seq of the last event pushed. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  #step(name: string): StepState {
    let state = this.#steps.get(name);
    if (!state) this.#steps.set(name, state = { done: 0, failures: 0 });
    return state;
  }

  /** The id of the step's current (or next) span. */
  #stepSpanId(name: string, state: StepState): OtlpId {
    return state.spanId ??= id(
      stepSpanIdOf(this.sessionId, { name, n: state.done + 1 }),
    );
  }

  /** Maps one event. Events must come in log order. */
  push(event: Event): MappedEvent {
    const ns = timeOf(event.ts) ?? this.#lastNs;
    this.#lastNs = ns;
    this.#lastSeq = event.seq;
    const spans: MappedSpan[] = [];
    const type = event.type;
    const stepName = typeof event.step_name === "string"
      ? event.step_name
      : undefined;
    const step = stepName === undefined ? undefined : this.#step(stepName);
    const spanId = step && stepName !== undefined
      ? this.#stepSpanId(stepName, step)
      : this.rootSpanId;
    let severity: number = SEVERITY.INFO;
    let body: string = type;
    switch (type) {
      case "zig_session_started": {
        const workflow = String(event.workflow_name ?? "");
        body = `workflow ${workflow} started`;
        this.#root ??= {
          start: ns,
          workflow,
          attributes: {
            "gen_ai.operation.name": "invoke_workflow",
            "zig.session.id": this.sessionId,
            "zig.workflow_name": workflow,
            "zig.workflow_path": attributeValue(event.workflow_path),
            "zig.prompt": attributeValue(event.prompt),
            "zig.tier_count": attributeValue(event.tier_count),
            "zig.cwd": attributeValue(event.cwd),
            "zig.workspace_path": attributeValue(event.workspace_path),
          },
        };
        break;
      }
      case "tier_started":
        body = `tier ${event.tier_index} started: ${
          Array.isArray(event.step_names) ? event.step_names.join(", ") : ""
        }`;
        break;
      case "step_started": {
        body = `step ${stepName} started`;
        const info: StepInfo = {
          tier: num(event.tier_index),
          zagSessionId: str(event.zag_session_id),
          zagCommand: str(event.zag_command),
          model: str(event.model),
          promptPreview: str(event.prompt_preview),
        };
        if (step) {
          if (step.open) step.open.info = info;
          else step.open = { start: ns, info };
          step.retryFrom = undefined;
        }
        break;
      }
      case "step_output":
        severity = event.stream === "stderr" ? SEVERITY.WARN : SEVERITY.INFO;
        body = typeof event.line === "string" ? event.line : "";
        break;
      case "step_completed":
        body = `step ${stepName} completed (exit ${event.exit_code})`;
        if (step && stepName !== undefined) {
          spans.push({
            endSeq: event.seq,
            span: this.#endStep(stepName, step, {
              end: ns,
              durationMs: num(event.duration_ms),
              attributes: {
                "zig.attempt": step.failures + 1,
                "zig.exit_code": attributeValue(event.exit_code),
                "zig.duration_ms": attributeValue(event.duration_ms),
                "zig.saved_vars": attributeValue(event.saved_vars),
              },
              status: { code: STATUS.OK },
            }),
          });
          step.failures = 0;
          step.retryFrom = undefined;
        }
        break;
      case "step_failed": {
        severity = SEVERITY.ERROR;
        const error = String(event.error ?? "");
        body = `step ${stepName} failed (attempt ${event.attempt}): ${error}`;
        if (step && stepName !== undefined) {
          const info = (step.open ?? step.retryFrom)?.info;
          spans.push({
            endSeq: event.seq,
            span: this.#endStep(stepName, step, {
              end: ns,
              attributes: {
                "zig.attempt": attributeValue(event.attempt) ??
                  step.failures + 1,
                "zig.exit_code": attributeValue(event.exit_code),
                "zig.error": error,
              },
              status: { code: STATUS.ERROR, message: error },
            }),
          });
          step.failures++;
          step.retryFrom = { start: ns, info: info ?? {} };
        }
        break;
      }
      case "step_skipped": {
        const reason = String(event.reason ?? "");
        body = `step ${stepName} skipped: ${reason}`;
        if (step && stepName !== undefined) {
          spans.push({
            endSeq: event.seq,
            span: this.#endStep(stepName, step, {
              end: ns,
              attributes: { "zig.skip_reason": reason },
              status: { code: STATUS.UNSET },
            }),
          });
        }
        break;
      }
      case "heartbeat":
        severity = SEVERITY.DEBUG;
        body = "heartbeat";
        break;
      case "zig_session_ended": {
        const failed = event.status !== "success";
        severity = failed ? SEVERITY.ERROR : SEVERITY.INFO;
        body = `workflow ${this.#root?.workflow ?? ""} ended: ${event.status}`;
        for (
          const span of this.#finish(ns, {
            status: failed
              ? { code: STATUS.ERROR, message: "workflow failed" }
              : { code: STATUS.OK },
            attributes: {
              "zig.status": attributeValue(event.status),
              "zig.duration_ms": attributeValue(event.duration_ms),
            },
          })
        ) spans.push({ span, endSeq: event.seq });
        break;
      }
    }
    return {
      log: {
        resource: this.resource,
        timeUnixNano: ns,
        severityNumber: severity,
        severityText: SEVERITY_TEXT[severity],
        body,
        traceId: this.traceId,
        spanId,
        sessionId: this.sessionId,
        seq: event.seq,
        type,
        event,
      },
      spans,
    };
  }

  #endStep(
    name: string,
    step: StepState,
    end: {
      end: bigint;
      durationMs?: number;
      attributes: Attributes;
      status: SpanData["status"];
    },
  ): SpanData {
    const from = step.open ?? step.retryFrom;
    let start = from?.start ?? end.end;
    if (!from && end.durationMs !== undefined) {
      start = end.end - BigInt(Math.round(end.durationMs)) * 1_000_000n;
    }
    const info = from?.info ?? {};
    const span: SpanData = {
      resource: this.resource,
      traceId: this.traceId,
      spanId: this.#stepSpanId(name, step),
      parentSpanId: this.rootSpanId,
      name: `invoke_agent ${name}`,
      startTimeUnixNano: start,
      endTimeUnixNano: end.end,
      attributes: {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": name,
        "gen_ai.request.model": info.model,
        "gen_ai.conversation.id": info.zagSessionId,
        "zig.session.id": this.sessionId,
        "zig.tier": info.tier,
        "zig.zag_command": info.zagCommand,
        "zig.prompt_preview": info.promptPreview,
        ...end.attributes,
      },
      status: end.status,
    };
    step.done++;
    step.spanId = undefined;
    step.open = undefined;
    return span;
  }

  /** Ends running attempts and the root span; nothing is emitted after. */
  #finish(
    end: bigint,
    root: { status: SpanData["status"]; attributes: Attributes },
  ): SpanData[] {
    if (this.closed) return [];
    const spans: SpanData[] = [];
    for (const [name, step] of this.#steps) {
      if (!step.open) continue;
      spans.push(this.#endStep(name, step, {
        end,
        attributes: {
          "zig.attempt": step.failures + 1,
          "zig.unfinished": true,
        },
        status: {
          code: STATUS.ERROR,
          message: "unfinished: the session ended before the step",
        },
      }));
    }
    spans.push({
      resource: this.resource,
      traceId: this.traceId,
      spanId: this.rootSpanId,
      name: `invoke_workflow ${this.#root?.workflow ?? ""}`.trimEnd(),
      startTimeUnixNano: this.#root?.start ?? end,
      endTimeUnixNano: end,
      attributes: {
        ...(this.#root?.attributes ?? {
          "gen_ai.operation.name": "invoke_workflow",
          "zig.session.id": this.sessionId,
        }),
        ...root.attributes,
      },
      status: root.status,
    });
    this.closed = true;
    this.#steps.clear();
    return spans;
  }

  /**
   * Closes a session that will not end (abandoned: no end event, no
   * heartbeat for 3 intervals): running attempts and the root span end at
   * the last event, with status ERROR.
   */
  abandon(): MappedSpan[] {
    return this.#finish(this.#lastNs, {
      status: {
        code: STATUS.ERROR,
        message: "abandoned: no end event and no heartbeat for 3 intervals",
      },
      attributes: { "zig.status": "abandoned" },
    }).map((span) => ({ span }));
  }
}

const SEVERITY_TEXT: Record<number, string> = {
  [SEVERITY.DEBUG]: "DEBUG",
  [SEVERITY.INFO]: "INFO",
  [SEVERITY.WARN]: "WARN",
  [SEVERITY.ERROR]: "ERROR",
};

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === "number" ? v : undefined;
}

let cachedPrefix = "";
let cachedSeconds = 0n;

/**
 * Nanoseconds since the epoch of a timestamp. The common form (UTC,
 * `+00:00`, a fraction) is parsed with the seconds cached, as consecutive
 * events share them; anything else goes through {@linkcode parseTimestamp}.
 */
export function timeOf(ts: string): bigint | undefined {
  const n = ts.length;
  if (
    n > 26 && n <= 35 && ts.charCodeAt(19) === 46 && ts.endsWith("+00:00")
  ) {
    let nanos = 0;
    let digits = 0;
    for (let i = 20; i < n - 6; i++) {
      const c = ts.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return parseTimestamp(ts);
      nanos = nanos * 10 + c;
      digits++;
    }
    if (!ts.startsWith(cachedPrefix) || cachedPrefix === "") {
      const seconds = parseTimestamp(ts.slice(0, 19) + "+00:00");
      if (seconds === undefined) return undefined;
      cachedPrefix = ts.slice(0, 19);
      cachedSeconds = seconds;
    }
    return cachedSeconds + BigInt(nanos * 10 ** (9 - digits));
  }
  return parseTimestamp(ts);
}
