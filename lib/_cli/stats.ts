// `zig-session stats`: how workflows and steps fare.
import { streamSessionLines, ZigError } from "../../mod.ts";
import type { SessionLogEvent } from "../../mod.ts";
import {
  type CommandSpec,
  type Context,
  formatDuration,
  instant,
  listFlag,
  LogFinder,
  paint,
  parseCommand,
  parseSince,
  progress,
  scopeOf,
  stringFlag,
  table,
  visible,
  WARNING_KINDS,
  Warnings,
} from "./common.ts";
import { listed } from "./query.ts";

export const STATS: CommandSpec = {
  name: "stats",
  summary:
    "runs, failure rate, median and p95 duration per workflow and per step",
  usage:
    "Usage: zig-session stats [--workflow W]... [--since D] [--global] [--json]",
  details:
    `Workflows are counted from the index; steps from the logs, per workflow
(a step is named workflow/step: steps of different workflows are never
counted together). Attempts that failed count as failures; durations of
completed steps come from step_completed, of failed ones from step_started to
step_failed. A session's duration runs from its started_at to its end, as in
list and show. Running sessions are left out of durations and failure rates.
Sessions whose logs are gone count in the workflows, not in the steps; a few
are named, then how many there were and what fixes it.`,
  options: {
    workflow: { type: "string", multiple: true },
    since: { type: "string" },
    global: { type: "boolean" },
    json: { type: "boolean" },
  },
};

interface Tally {
  runs: number;
  failures: number;
  finished: number;
  durations: number[];
}

function tally(): Tally {
  return { runs: 0, failures: 0, finished: 0, durations: [] };
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

function figures(t: Tally) {
  const sorted = [...t.durations].sort((a, b) => a - b);
  return {
    runs: t.runs,
    failures: t.failures,
    failure_rate: t.finished === 0 ? null : t.failures / t.finished,
    median_ms: percentile(sorted, 50),
    p95_ms: percentile(sorted, 95),
  };
}

/** `zig-session stats`. */
export async function stats(argv: string[], ctx: Context): Promise<number> {
  const parsed = parseCommand(STATS, { argv, ctx });
  if (!parsed) return 0;
  const since = stringFlag(parsed, "since");
  const global = parsed.values.global === true;
  const warnings = new Warnings(ctx);
  const sessions = listed(ctx, {
    global,
    workflows: listFlag(parsed, "workflow"),
    since: since === undefined ? undefined : parseSince(since),
    warnings,
  });
  const workflows = new Map<string, Tally>();
  const steps = new Map<string, Tally & { workflow: string; step: string }>();
  const onProblem = warnings.onProblem;
  const logs = new LogFinder(scopeOf(ctx, global), warnings);
  const bar = progress(ctx, "reading logs");
  for (const [i, s] of sessions.entries()) {
    bar.tick(i, sessions.length);
    const name = s.entry.workflow_name;
    const w = workflows.get(name) ?? tally();
    workflows.set(name, w);
    w.runs++;
    if (s.state !== "running") {
      w.finished++;
      if (s.state !== "success") w.failures++;
      if (s.durationMs !== null) w.durations.push(s.durationMs);
    }
    const started = new Map<string, string>();
    // Only the steps need the log: one that is gone is counted, not read;
    // one that leads out of the zig home is skipped, said so.
    const logPath = logs.find(s.entry, { exists: true });
    if (logPath === undefined) continue;
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
      warnings.add(
        error instanceof ZigError && error.kind === "not_found"
          ? WARNING_KINDS.missingLog
          : WARNING_KINDS.unreadable,
        `skipped ${logPath}: ${(error as Error).message}`,
      );
    }
  }
  bar.done();
  warnings.summarize();
  const workflowRows = [...workflows].map(([workflow, t]) => ({
    workflow,
    ...figures(t),
  }));
  // Each workflow's steps together, in the order of the workflows.
  const order = [...workflows.keys()];
  const stepRows = [...steps.values()]
    .map((t, i) => ({ t, i, w: order.indexOf(t.workflow) }))
    .sort((a, b) => a.w - b.w || a.i - b.i)
    .map(({ t }) => ({ workflow: t.workflow, step: t.step, ...figures(t) }));
  if (parsed.values.json) {
    ctx.out.write(
      JSON.stringify({ workflows: workflowRows, steps: stepRows }, null, 2) +
        "\n",
    );
    return 0;
  }
  if (sessions.length === 0) {
    ctx.err.write("No sessions to count\n");
    return 0;
  }
  const bold = paint(ctx.out, "bold");
  const rate = (
    r: number | null,
  ) => (r === null ? "-" : `${(r * 100).toFixed(1)}%`);
  const ms = (v: number | null) => formatDuration(v ?? undefined);
  const wHeader = ["WORKFLOW", "RUNS", "FAILED", "MEDIAN", "P95"];
  const wRows = workflowRows.map((
    r,
  ) => [
    visible(r.workflow),
    String(r.runs),
    rate(r.failure_rate),
    ms(r.median_ms),
    ms(r.p95_ms),
  ]);
  ctx.out.write(table([wHeader.map(bold), ...wRows], [wHeader, ...wRows]));
  if (stepRows.length > 0) {
    const sHeader = ["WORKFLOW/STEP", "RUNS", "FAILED", "MEDIAN", "P95"];
    const sRows = stepRows.map((
      r,
    ) => [
      visible(`${r.workflow}/${r.step}`),
      String(r.runs),
      rate(r.failure_rate),
      ms(r.median_ms),
      ms(r.p95_ms),
    ]);
    ctx.out.write(
      "\n" + table([sHeader.map(bold), ...sRows], [sHeader, ...sRows]),
    );
  }
  return 0;
}
