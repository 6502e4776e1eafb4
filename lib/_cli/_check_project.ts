// Internal to the CLI: checking one project's logs against its index and
// the global index (what verify does for each project).
import { basename, dirname, join } from "node:path";
import { checkSessionLog, loadProjectIndex } from "../../mod.ts";
import { type Context, LogFinder, visible, type Warnings } from "./common.ts";

/** Where a project's check reports. */
export interface ProjectCheck {
  ctx: Context;
  home: string;
  /** The ids the global index holds. */
  globalIds: Set<string>;
  /** Reports one problem of a file. */
  say(where: string, problem: string): void;
  /** Progress over the project's logs. */
  bar: { tick(done: number, total: number): void; done(): void };
  warnings: Warnings;
}

/** A project's session logs (`<id>.jsonl`), sorted. */
function logsOf(sessionsDir: string): string[] {
  const files: string[] = [];
  try {
    for (const item of Deno.readDirSync(sessionsDir)) {
      if (item.isFile && item.name.endsWith(".jsonl")) {
        files.push(join(sessionsDir, item.name));
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return files.sort();
}

/**
 * Checks each log of a project ({@linkcode checkSessionLog}) and its index
 * against the logs: entries that lead out of the zig home, logs missing from
 * an index or told ended differently, entries without a log. Returns how
 * many logs were checked and the logs whose torn tails a repair may cut.
 */
export async function checkProject(
  indexPath: string,
  check: ProjectCheck,
): Promise<{ logs: number; torn: string[] }> {
  const { ctx, say, bar, warnings } = check;
  const sessionsDir = join(dirname(indexPath), "sessions");
  const files = logsOf(sessionsDir);
  const index = loadProjectIndex(indexPath, { onProblem: warnings.onProblem });
  const entries = new Map(index.sessions.map((e) => [e.zig_session_id, e]));
  const projectLogs = new LogFinder({ home: check.home, indexPath }, warnings);
  for (const entry of index.sessions) {
    const found = projectLogs.locate(entry);
    if (!("refused" in found)) continue;
    say(indexPath, found.refused);
    entries.delete(entry.zig_session_id);
  }
  const torn: string[] = [];
  for (const [i, logPath] of files.entries()) {
    bar.tick(i, files.length);
    const id = basename(logPath, ".jsonl");
    const entry = entries.get(id);
    entries.delete(id);
    const log = await checkSessionLog(logPath, {
      startedAt: entry?.started_at,
    });
    const problems = log.problems.map((p) => p.message);
    if (log.unfinishedAt !== undefined) {
      // Never cut while the session is live.
      ctx.out.write(
        `note: ${
          visible(logPath)
        }: its last line is unfinished, and its session is running (a write in progress?): left alone\n`,
      );
    }
    if (!entry) {
      problems.push(`missing from the project index ${indexPath}`);
    } else if (
      log.ended &&
      (entry.status !== log.ended.status || entry.ended_at === null)
    ) {
      problems.push(
        `the project index says ${
          entry.status ?? "running"
        }, the log says ${log.ended.status}`,
      );
    }
    if (!check.globalIds.has(id)) {
      problems.push("missing from the global index");
    }
    bar.done();
    for (const problem of problems) say(logPath, problem);
    if (log.tornAt !== undefined) torn.push(logPath);
  }
  for (const orphan of entries.values()) {
    say(
      indexPath,
      `session ${orphan.zig_session_id} has no log in ${sessionsDir}`,
    );
  }
  return { logs: files.length, torn };
}
