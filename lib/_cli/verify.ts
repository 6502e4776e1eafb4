// `zig-session verify`: checking the logs and the indexes against them.
import { dirname } from "node:path";
import {
  globalIndexPath,
  loadGlobalIndex,
  projectDir,
  projectIndexPath,
  rebuildIndex,
  zigHome,
} from "../../mod.ts";
import { LogFinder, paint, progress, visible, Warnings } from "./common.ts";
import { type CommandContext, defineCommand } from "./_command.ts";
import { allProjectIndexes, outsideHome } from "./_indexes.ts";
import { checkProject } from "./_check_project.ts";
import { repairTorn } from "./_repair_torn.ts";

/** What `verify` is asked. */
export interface VerifyFlags {
  global: boolean;
  repair: boolean;
}

/** `zig-session verify`. */
export const verify = defineCommand({
  name: "verify",
  summary: "check every log and the indexes against the logs",
  details:
    `Checks each log: every line parses and is UTF-8, seq runs 1, 2, 3... with no gap, no torn
last line, a zig_session_started first and a zig_session_ended last (unless
the session is still running) with nothing after it; and each index against
the logs. Exits 1 if anything is wrong.

With --repair, a torn last line is moved into <log>.torn-<time> beside the log
(never deleted) and the log cut back to its last complete line; then the
indexes are rebuilt from the logs. Index entries and folders that lead out of
the zig home are reported and never followed; --repair cuts only regular
<id>.jsonl files with a single link.`,
  options: {
    global: {
      type: "boolean",
      help: "every project's logs and indexes, not just this project's",
    },
    repair: {
      type: "boolean",
      help: "move torn tails aside, rebuild the indexes, and check again",
    },
  },
  flags: (values): VerifyFlags => ({
    global: values.global,
    repair: values.repair,
  }),
  run,
});

async function run(flags: VerifyFlags, ctx: CommandContext): Promise<number> {
  const { global } = flags;
  const home = zigHome({ zigHome: ctx.zigHome });
  const red = paint(ctx.out, "red");
  const green = paint(ctx.out, "green");
  let bad = 0;
  const say = (where: string, problem: string) => {
    bad++;
    ctx.out.write(`${red("✗")} ${visible(where)}: ${visible(problem)}\n`);
  };
  // A project whose logs lead out of the zig home is reported, never read.
  const indexes =
    (global
      ? allProjectIndexes(home)
      : [projectIndexPath(projectDir({ zigHome: home, cwd: ctx.cwd }))])
      .filter((path) => {
        const escape = outsideHome(path, home);
        if (escape) say(dirname(path), escape);
        return escape === undefined;
      });
  const bar = progress(ctx, "verifying");
  const torn: string[] = [];
  const globalPath = globalIndexPath(home);
  const warnings = new Warnings(ctx);
  const globalEntries =
    loadGlobalIndex(globalPath, { onProblem: warnings.onProblem }).sessions;
  const globalIds = new Set(globalEntries.map((e) => e.zig_session_id));
  const globalLogs = new LogFinder({ home, indexPath: globalPath }, warnings);
  for (const entry of globalEntries) {
    const found = globalLogs.locate(entry);
    if ("refused" in found) say(globalPath, found.refused);
  }
  let logs = 0;
  for (const indexPath of indexes) {
    const project = await checkProject(indexPath, {
      ctx,
      home,
      globalIds,
      say,
      bar,
      warnings,
    });
    logs += project.logs;
    torn.push(...project.torn);
  }
  warnings.summarize();
  if (flags.repair && bad > 0) {
    for (const logPath of torn) repairTorn(logPath, ctx);
    for (const indexPath of indexes) rebuildIndex(indexPath);
    rebuildIndex(globalIndexPath(home));
    ctx.out.write(
      `rebuilt ${indexes.length + 1} index(es) from the logs; checking again\n`,
    );
    return await run({ ...flags, repair: false }, ctx);
  }
  if (bad === 0) {
    ctx.out.write(
      `${green("✓")} ${logs} log(s) and their indexes are consistent\n`,
    );
    return 0;
  }
  ctx.out.write(`${bad} problem(s) in ${logs} log(s)\n`);
  return 1;
}
