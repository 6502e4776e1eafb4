// Internal to the CLI: counting runs, failures and durations (what stats
// tells per workflow and per step).
import { streamSessionLines } from "../../mod.ts";
import type { SessionLogEvent } from "../../mod.ts";
import {
  formatDuration,
  instant,
  paint,
  table,
  visible,
  type Warnings,
  type Writer,
} from "./common.ts";

/** Runs, failures and durations of a workflow or a step. */
export interface Tally {
  runs: number;
  failures: number;
  finished: number;
  durations: number[];
}

/** A step's tally, with the workflow it belongs to. */
export type StepTally = Tally & { workflow: string; step: string };

/** An empty tally. */
export function tally(): Tally {
  return { runs: 0, failures: 0, finished: 0, durations: [] };
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

/** What a tally comes to. */
export interface Figures {
  runs: number;
  failures: number;
  /** Failures among the finished runs; `null` when none finished. */
  failure_rate: number | null;
  median_ms: number | null;
  p95_ms: number | null;
}

/** What a tally comes to: failure rate, median and p95 duration. */
export function figures(t: Tally): Figures {
  const sorted = [...t.durations].sort((a, b) => a - b);
  return {
    runs: t.runs,
    failures: t.failures,
    failure_rate: t.finished === 0 ? null : t.failures / t.finished,
    median_ms: percentile(sorted, 50),
    p95_ms: percentile(sorted, 95),
  };
}

/**
 * Counts the steps of one session's log into `steps` (keyed by workflow and
 * step): attempts, failures, and durations (of failed attempts, from
 * step_started to step_failed). A log that cannot be read is counted in the
 * warnings and skipped.
 */
export async function tallySteps(
  logPath: string,
  into: { name: string; steps: Map<string, StepTally>; warnings: Warnings },
): Promise<void> {
  const { name, steps, warnings } = into;
  const onProblem = warnings.onProblem;
  const started = new Map<string, string>();
  try {
    for await (
      const { text } of streamSessionLines(logPath, { onProblem })
    ) {
      if (!text.includes('"type":"step_')) continue;
      if (text.includes('"type":"step_output"')) continue;
      let event: SessionLogEvent;
      try {
        event = JSON.parse(text);
      } catch {
        continue;
      }
      if (!("step_name" in event)) continue;
      const key = `${name}\u0000${event.step_name}`;
      let t = steps.get(key);
      if (!t) {
        t = { ...tally(), workflow: name, step: event.step_name };
        steps.set(key, t);
      }
      if (event.type === "step_started") {
        t.runs++;
        started.set(event.step_name, event.ts);
      } else if (event.type === "step_completed") {
        t.finished++;
        t.durations.push(event.duration_ms);
      } else if (event.type === "step_failed") {
        t.finished++;
        t.failures++;
        const from = started.get(event.step_name);
        if (from) {
          t.durations.push(
            Number((instant(event.ts) - instant(from)) / 1_000_000n),
          );
        }
      }
    }
  } catch (error) {
    warnings.skippedLog(logPath, error);
  }
}

/** Figures as an aligned table, one row each, under a bold header. */
export function figuresTable(
  out: Writer,
  what: { header: string; rows: Array<Figures & { name: string }> },
): string {
  const bold = paint(out, "bold");
  const rate = (r: number | null) =>
    r === null ? "-" : `${(r * 100).toFixed(1)}%`;
  const ms = (v: number | null) => formatDuration(v ?? undefined);
  const header = [what.header, "RUNS", "FAILED", "MEDIAN", "P95"];
  const rows = what.rows.map((r) => [
    visible(r.name),
    String(r.runs),
    rate(r.failure_rate),
    ms(r.median_ms),
    ms(r.p95_ms),
  ]);
  return table([header.map(bold), ...rows], [header, ...rows]);
}
