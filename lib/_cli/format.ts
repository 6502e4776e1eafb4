// How events read in a terminal, and the summary of a session's steps.
import type { SessionLogEvent } from "../../mod.ts";
import {
  formatDuration,
  instant,
  palette,
  visible,
  visibleLines,
  type Writer,
} from "./common.ts";

/** A copy of a value whose strings show control characters visibly. */
function shown(value: unknown, key?: string): unknown {
  if (typeof value === "string") {
    return key === "prompt" ? visibleLines(value) : visible(value);
  }
  if (Array.isArray(value)) return value.map((v) => shown(v));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, shown(v, k)]),
    );
  }
  return value;
}

/**
 * Formats one event as a line of text (without its newline). Every field
 * read from the log is shown with its control characters made visible.
 */
export function formatEvent(
  stored: SessionLogEvent,
  options: { out: Writer; timestamps?: boolean },
): string {
  const { out } = options;
  const event = shown(stored) as SessionLogEvent;
  const { dim, bold, red, green, yellow, cyan } = palette(out);
  const prefix = options.timestamps ? dim(`${event.ts} `) : "";
  const step = (name: string) => cyan(`[${name}]`);
  let text: string;
  switch (event.type) {
    case "zig_session_started":
      text = bold(
        `▶ session ${event.zig_session_id} ${event.workflow_name} (${event.tier_count} tier${
          event.tier_count === 1 ? "" : "s"
        })`,
      ) + (event.prompt
        ? `\n  prompt: ${event.prompt.replaceAll("\n", "\n          ")}`
        : "");
      break;
    case "tier_started":
      text = bold(
        `── tier ${event.tier_index}: ${event.step_names.join(", ")}`,
      );
      break;
    case "step_started":
      text = `${step(event.step_name)} started${
        event.model ? ` (${event.model})` : ""
      }: ${dim(event.zag_command)}`;
      break;
    case "step_output":
      text = event.stream === "stderr"
        ? `${step(event.step_name)} ${yellow(event.line)}`
        : `${step(event.step_name)} ${event.line}`;
      break;
    case "step_completed":
      text = `${step(event.step_name)} ${
        green("✓ completed")
      } exit ${event.exit_code} in ${formatDuration(event.duration_ms)}`;
      break;
    case "step_failed":
      text = `${step(event.step_name)} ${
        red("✗ failed")
      } (attempt ${event.attempt}, exit ${
        event.exit_code ?? "none"
      }): ${event.error}`;
      break;
    case "step_skipped":
      text = `${step(event.step_name)} ${dim(`skipped: ${event.reason}`)}`;
      break;
    case "heartbeat":
      text = dim("♥ heartbeat");
      break;
    case "zig_session_ended":
      text = bold(
        `■ session ${
          event.status === "success" ? green("success") : red("failure")
        } in ${formatDuration(event.duration_ms)}`,
      );
      break;
    default: {
      const { seq: _s, ts: _t, zig_session_id: _z, type, ...rest } =
        stored as unknown as Record<string, unknown>;
      text = `${dim(visible(String(type)))} ${visible(JSON.stringify(rest))}`;
    }
  }
  return prefix + text;
}

/** One step as `show` tells it. */
export interface StepSummary {
  step_name: string;
  tier_index: number | null;
  status: "running" | "completed" | "failed" | "skipped";
  attempts: number;
  exit_code: number | null;
  duration_ms: number | null;
  started_at: string | null;
  model: string | null;
  error: string | null;
  reason: string | null;
  output_lines: number;
}

/** One tier as `show` tells it. */
export interface TierSummary {
  tier_index: number;
  step_names: string[];
  started_at: string;
  steps: StepSummary[];
}

/** What `show` derives from a session's events. */
export interface SessionSummary {
  workflow_path: string | null;
  prompt: string | null;
  tier_count: number | null;
  ended: { status: string; duration_ms: number; ts: string } | null;
  tiers: TierSummary[];
  events: number;
  last_ts: string | null;
}

/** Folds events into a summary, one at a time. */
export class SummaryBuilder {
  #summary: SessionSummary = {
    workflow_path: null,
    prompt: null,
    tier_count: null,
    ended: null,
    tiers: [],
    events: 0,
    last_ts: null,
  };
  #steps = new Map<string, StepSummary>();

  add(event: SessionLogEvent): void {
    const s = this.#summary;
    s.events++;
    s.last_ts = event.ts;
    switch (event.type) {
      case "zig_session_started":
        s.workflow_path = event.workflow_path;
        s.prompt = event.prompt;
        s.tier_count = event.tier_count;
        break;
      case "tier_started":
        s.tiers.push({
          tier_index: event.tier_index,
          step_names: event.step_names,
          started_at: event.ts,
          steps: [],
        });
        break;
      case "step_started": {
        const step = this.#step(event.step_name, event.tier_index);
        step.status = "running";
        step.started_at ??= event.ts;
        step.model = event.model;
        step.tier_index = event.tier_index;
        break;
      }
      case "step_output":
        this.#step(event.step_name).output_lines++;
        break;
      case "step_completed": {
        const step = this.#step(event.step_name);
        step.status = "completed";
        step.attempts++;
        step.exit_code = event.exit_code;
        step.duration_ms = event.duration_ms;
        break;
      }
      case "step_failed": {
        const step = this.#step(event.step_name);
        step.status = "failed";
        step.attempts = Math.max(step.attempts + 1, event.attempt);
        step.exit_code = event.exit_code;
        step.error = event.error;
        if (step.started_at) {
          step.duration_ms = Number(
            (instant(event.ts) - instant(step.started_at)) / 1_000_000n,
          );
        }
        break;
      }
      case "step_skipped": {
        const step = this.#step(event.step_name);
        step.status = "skipped";
        step.reason = event.reason;
        break;
      }
      case "zig_session_ended":
        s.ended = {
          status: event.status,
          duration_ms: event.duration_ms,
          ts: event.ts,
        };
        break;
    }
  }

  #step(name: string, tierIndex?: number): StepSummary {
    let step = this.#steps.get(name);
    if (!step) {
      step = {
        step_name: name,
        tier_index: tierIndex ?? null,
        status: "running",
        attempts: 0,
        exit_code: null,
        duration_ms: null,
        started_at: null,
        model: null,
        error: null,
        reason: null,
        output_lines: 0,
      };
      this.#steps.set(name, step);
      const tiers = this.#summary.tiers;
      const tier = tiers.findLast((t) =>
        tierIndex === undefined
          ? t.step_names.includes(name)
          : t.tier_index === tierIndex
      ) ?? tiers[tiers.length - 1];
      if (tier) {
        tier.steps.push(step);
      } else {
        tiers.push({
          tier_index: tierIndex ?? 0,
          step_names: [name],
          started_at: "",
          steps: [step],
        });
      }
    }
    return step;
  }

  get summary(): SessionSummary {
    return this.#summary;
  }
}

/** The `show` timeline as text. */
export function formatTimeline(
  summary: SessionSummary,
  options: { out: Writer; startedAt: string },
): string {
  const { out } = options;
  const { dim, bold, red, green } = palette(out);
  const origin = instant(options.startedAt);
  const offset = (ts: string | null) =>
    ts ? `+${formatDuration(Number((instant(ts) - origin) / 1_000_000n))}` : "";
  const lines: string[] = [];
  for (const tier of summary.tiers) {
    lines.push(
      `  ${bold(`tier ${visible(String(tier.tier_index))}`)}  ${
        dim(offset(tier.started_at))
      }  ${visible(String(tier.step_names.join(", ")))}`,
    );
    const names = tier.steps.map((s) => visible(String(s.step_name)));
    const width = Math.max(0, ...names.map((name) => name.length));
    for (const [i, step] of tier.steps.entries()) {
      const status = step.status === "completed"
        ? green("completed")
        : step.status === "failed"
        ? red("failed")
        : step.status;
      const parts = [
        `    ${names[i].padEnd(width)}`,
        status.padEnd(9 + (status.length - step.status.length)),
      ];
      if (step.status !== "skipped") {
        parts.push(
          `exit ${visible(String(step.exit_code ?? "-"))}`,
          formatDuration(step.duration_ms ?? undefined),
          `${step.attempts} attempt${step.attempts === 1 ? "" : "s"}`,
          dim(`started ${offset(step.started_at) || "-"}`),
        );
        if (step.model) parts.push(dim(visible(String(step.model))));
        if (step.error) parts.push(red(visible(String(step.error))));
      } else if (step.reason) parts.push(dim(visible(String(step.reason))));
      lines.push(parts.join("  "));
    }
  }
  if (lines.length === 0) lines.push(dim("  (no tiers recorded)"));
  return lines.join("\n") + "\n";
}
