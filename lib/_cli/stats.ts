// `zig-session stats`: how workflows and steps fare.
import { LogFinder, progress, scopeOf, Warnings } from "./common.ts";
import { parseSince } from "./_args.ts";
import { type CommandContext, defineCommand } from "./_command.ts";
import { SINCE_OPTION, WORKFLOWS_OPTION } from "./_options.ts";
import {
  figures,
  figuresTable,
  type StepTally,
  type Tally,
  tally,
  tallySteps,
} from "./_tally.ts";
import { listed } from "./_listed.ts";

/** What `stats` is asked. */
export interface StatsFlags {
  workflows: string[];
  /** Sessions started since this instant (ns), if given. */
  since?: bigint;
  global: boolean;
  json: boolean;
}

/** `zig-session stats`. */
export const stats = defineCommand({
  name: "stats",
  summary: "runs, failure rate and durations per workflow and step",
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
    workflow: WORKFLOWS_OPTION,
    since: SINCE_OPTION,
    global: {
      type: "boolean",
      help: "every project's sessions, not just this project's",
    },
    json: {
      type: "boolean",
      help:
        "a JSON object: {workflows, steps}, each row with runs, failures,\nfailure_rate, median_ms and p95_ms",
    },
  },
  flags: (values): StatsFlags => ({
    workflows: values.workflow,
    since: values.since === undefined ? undefined : parseSince(values.since),
    global: values.global,
    json: values.json,
  }),
  run,
});

async function run(flags: StatsFlags, ctx: CommandContext): Promise<number> {
  const { global } = flags;
  const warnings = new Warnings(ctx);
  const sessions = listed(ctx, {
    global,
    workflows: flags.workflows,
    since: flags.since,
    warnings,
  });
  const workflows = new Map<string, Tally>();
  const steps = new Map<string, StepTally>();
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
    // Only the steps need the log: one that is gone is counted, not read;
    // one that leads out of the zig home is skipped, said so.
    const logPath = logs.find(s.entry, { exists: true });
    if (logPath === undefined) continue;
    await tallySteps(logPath, { name, steps, warnings });
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
  if (flags.json) {
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
  ctx.out.write(
    figuresTable(ctx.out, {
      header: "WORKFLOW",
      rows: workflowRows.map((r) => ({ name: r.workflow, ...r })),
    }),
  );
  if (stepRows.length > 0) {
    const rows = stepRows.map((r) => ({
      name: `${r.workflow}/${r.step}`,
      ...r,
    }));
    ctx.out.write(
      "\n" + figuresTable(ctx.out, { header: "WORKFLOW/STEP", rows }),
    );
  }
  return 0;
}
