// `gc`, `reindex` and `verify`: keeping the logs and indexes in order.
import { basename, dirname, join } from "node:path";
import {
  globalIndexPath,
  listSessions,
  loadGlobalIndex,
  loadProjectIndex,
  projectIndexPath,
  rebuildIndex,
  resolveLogPath,
  streamSessionLines,
  summarizeLog,
  updateGlobalIndex,
  updateProjectIndex,
  ZigError,
  zigHome,
} from "../../mod.ts";
import type { AnySessionEntry, SessionProblem } from "../../mod.ts";
import {
  type CommandSpec,
  type Context,
  instant,
  intFlag,
  newestFirst,
  paint,
  parseCommand,
  parseDuration,
  progress,
  scopeOf,
  stateAfter,
  stringFlag,
  warn,
} from "./common.ts";

export const GC: CommandSpec = {
  name: "gc",
  summary: "remove old ended sessions (a dry run unless --force)",
  usage:
    "Usage: zig-session gc [--older-than D] [--keep N] [--force] [--global]",
  details:
    `Removes the logs and index entries of sessions that ended (their log has an
end event) longer ago than --older-than (default 30d), always keeping the N
newest sessions with --keep N. With only --keep, age does not matter. Open
sessions are never touched. Without --force, only says what it would remove.
Index entries are removed under the index lock.`,
  options: {
    "older-than": { type: "string" },
    keep: { type: "string" },
    force: { type: "boolean" },
    global: { type: "boolean" },
  },
};

/** The project index a log belongs to: `<project>/logs/index.json`. */
function indexOfLog(logPath: string): string {
  return join(dirname(dirname(logPath)), "index.json");
}

/** `zig-session gc`. */
export function gc(argv: string[], ctx: Context): number {
  const parsed = parseCommand(GC, { argv, ctx });
  if (!parsed) return 0;
  const keep = intFlag(parsed, "keep");
  const olderFlag = stringFlag(parsed, "older-than") ??
    (keep === undefined ? "30d" : undefined);
  const cutoff = olderFlag === undefined ? undefined : BigInt(
    Math.round(Date.now() - parseDuration(olderFlag, "--older-than")),
  ) * 1_000_000n;
  const scope = scopeOf(ctx, parsed.values.global === true);
  const sessions = newestFirst(listSessions(scope.list));
  const doomed: Array<
    { entry: AnySessionEntry; logPath: string; size: number }
  > = [];
  sessions.forEach((entry, rank) => {
    if (keep !== undefined && rank < keep) return;
    if (!entry.status || !entry.ended_at) return;
    if (cutoff !== undefined && instant(entry.ended_at) >= cutoff) return;
    const logPath = resolveLogPath(entry, { indexPath: scope.indexPath });
    let size = 0;
    try {
      const summary = summarizeLog(logPath);
      // The index says ended; the log must agree, or the session may be open.
      if (summary.last?.type !== "zig_session_ended") return;
      size = summary.size;
    } catch (error) {
      if (!(error instanceof ZigError && error.kind === "not_found")) {
        throw error;
      }
    }
    doomed.push({ entry, logPath, size });
  });
  const bytes = doomed.reduce((sum, d) => sum + d.size, 0);
  const mb = (bytes / 1e6).toFixed(1);
  if (!parsed.values.force) {
    for (const d of doomed) {
      ctx.out.write(
        `would remove ${d.entry.zig_session_id}  ${d.entry.workflow_name}  ended ${d.entry.ended_at}\n`,
      );
    }
    ctx.out.write(
      `${doomed.length} session(s), ${mb} MB: dry run, nothing removed (add --force)\n`,
    );
    return 0;
  }
  const ids = new Set(doomed.map((d) => d.entry.zig_session_id));
  const byIndex = new Map<string, typeof doomed>();
  for (const d of doomed) {
    const index = indexOfLog(d.logPath);
    byIndex.set(index, [...(byIndex.get(index) ?? []), d]);
  }
  const onProblem = warn(ctx);
  for (const [indexPath, group] of byIndex) {
    const mine = new Set(group.map((d) => d.entry.zig_session_id));
    updateProjectIndex(indexPath, {
      onProblem,
      update(index) {
        index.sessions = index.sessions.filter((e) =>
          !mine.has(e.zig_session_id)
        );
        // Under the lock: delete the logs whose entries are going.
        for (const d of group) {
          try {
            Deno.removeSync(d.logPath);
          } catch (error) {
            if (!(error instanceof Deno.errors.NotFound)) throw error;
          }
        }
      },
    });
  }
  updateGlobalIndex(globalIndexPath(scope.home), {
    onProblem,
    update(index) {
      index.sessions = index.sessions.filter((e) => !ids.has(e.zig_session_id));
    },
  });
  ctx.out.write(`removed ${doomed.length} session(s), ${mb} MB\n`);
  return 0;
}

/** Every project index under a zig home, those of sessions outside git included. */
function allProjectIndexes(home: string): string[] {
  const found: string[] = [projectIndexPath(home)];
  try {
    for (const item of Deno.readDirSync(join(home, "projects"))) {
      if (item.isDirectory) {
        found.push(projectIndexPath(join(home, "projects", item.name)));
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return found.filter((path) => {
    try {
      Deno.statSync(join(dirname(path), "sessions"));
      return true;
    } catch {
      return false;
    }
  });
}

export const REINDEX: CommandSpec = {
  name: "reindex",
  summary: "rebuild the indexes from the logs",
  usage: "Usage: zig-session reindex [--global]",
  details:
    `Rebuilds this project's index from its logs; with --global, the global index
and every project's index. Entries then point at where the logs are now.`,
  options: { global: { type: "boolean" } },
};

/** `zig-session reindex`. */
export function reindex(argv: string[], ctx: Context): number {
  const parsed = parseCommand(REINDEX, { argv, ctx });
  if (!parsed) return 0;
  const global = parsed.values.global === true;
  const scope = scopeOf(ctx, false);
  const indexes = global ? allProjectIndexes(scope.home) : [scope.indexPath];
  const bar = progress(ctx, "reindexing");
  for (const [i, path] of indexes.entries()) {
    bar.tick(i, indexes.length);
    const index = rebuildIndex(path);
    bar.done();
    ctx.out.write(`${path}: ${index.sessions.length} session(s)\n`);
  }
  if (global) {
    const path = globalIndexPath(scope.home);
    const index = rebuildIndex(path);
    ctx.out.write(`${path}: ${index.sessions.length} session(s)\n`);
  }
  return 0;
}

export const VERIFY: CommandSpec = {
  name: "verify",
  summary: "check every log and the indexes against the logs",
  usage: "Usage: zig-session verify [--global] [--repair]",
  details:
    `Checks each log: every line parses and is UTF-8, seq runs 1, 2, 3... with no gap, no torn
last line, a zig_session_started first and a zig_session_ended last (unless
the session is still running); and each index against the logs. Exits 1 if
anything is wrong.

With --repair, a torn last line is moved into <log>.torn-<time> beside the log
(never deleted) and the log cut back to its last complete line; then the
indexes are rebuilt from the logs.`,
  options: {
    global: { type: "boolean" },
    repair: { type: "boolean" },
  },
};

interface LogCheck {
  logPath: string;
  problems: string[];
  tornAt?: number;
  sessionId?: string;
  ended?: { status: string; ts: string };
  /** The last event that parsed. */
  last?: Record<string, unknown>;
}

async function checkLog(logPath: string): Promise<LogCheck> {
  const check: LogCheck = { logPath, problems: [] };
  const lineProblems: SessionProblem[] = [];
  let expected = 1;
  let first = true;
  let last: Record<string, unknown> | undefined;
  const fileId = basename(logPath, ".jsonl");
  for await (
    const { text, line } of streamSessionLines(logPath, {
      onProblem: (p) => lineProblems.push(p),
    })
  ) {
    if (text.trim() === "") continue;
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(text);
    } catch {
      check.problems.push(`line ${line}: not JSON`);
      continue;
    }
    if (typeof event?.seq !== "number" || typeof event.type !== "string") {
      check.problems.push(`line ${line}: not an event`);
      continue;
    }
    if (first && event.type !== "zig_session_started") {
      check.problems.push(
        `line ${line}: first event is ${event.type}, not zig_session_started`,
      );
    }
    first = false;
    if (event.seq !== expected) {
      check.problems.push(
        `line ${line}: seq ${event.seq}, expected ${expected}`,
      );
    }
    expected = event.seq + 1;
    if (event.zig_session_id !== fileId) {
      check.problems.push(
        `line ${line}: zig_session_id ${event.zig_session_id} is not the log's ${fileId}`,
      );
    }
    check.sessionId ??= String(event.zig_session_id);
    last = event;
  }
  for (const p of lineProblems) {
    if (p.kind === "torn_line") {
      check.problems.push(
        `line ${p.line}: torn (no newline: a write cut short)`,
      );
      check.tornAt = p.offset;
    } else if (p.kind === "invalid_utf8") {
      check.problems.push(
        `line ${p.line}: bytes that are not UTF-8 (zig cannot read the log)`,
      );
    }
  }
  if (first) check.problems.push("empty log");
  check.last = last;
  if (last?.type === "zig_session_ended") {
    check.ended = { status: String(last.status), ts: String(last.ts) };
  }
  return check;
}

/** Moves a torn tail into a file beside the log and cuts the log back. */
function repairTorn(check: LogCheck, ctx: Context): void {
  const at = check.tornAt!;
  const file = Deno.openSync(check.logPath, { read: true, write: true });
  try {
    file.lockSync(true);
    const size = file.statSync().size;
    const torn = new Uint8Array(size - at);
    file.seekSync(at, Deno.SeekMode.Start);
    let filled = 0;
    while (filled < torn.length) {
      const n = file.readSync(torn.subarray(filled));
      if (n === null) break;
      filled += n;
    }
    const aside = `${check.logPath}.torn-${
      new Date().toISOString().replace(/[-:.]/g, "")
    }`;
    Deno.writeFileSync(aside, torn.subarray(0, filled), { createNew: true });
    file.truncateSync(at);
    ctx.out.write(
      `repaired ${check.logPath}: moved ${filled} torn bytes to ${aside}\n`,
    );
  } finally {
    file.close();
  }
}

/** `zig-session verify`. */
export async function verify(argv: string[], ctx: Context): Promise<number> {
  const parsed = parseCommand(VERIFY, { argv, ctx });
  if (!parsed) return 0;
  const global = parsed.values.global === true;
  const home = zigHome({ zigHome: ctx.zigHome });
  const indexes = global
    ? allProjectIndexes(home)
    : [scopeOf(ctx, false).indexPath];
  const red = paint(ctx.out, "red");
  const green = paint(ctx.out, "green");
  let bad = 0;
  const say = (where: string, problem: string) => {
    bad++;
    ctx.out.write(`${red("✗")} ${where}: ${problem}\n`);
  };
  const bar = progress(ctx, "verifying");
  const repairs: LogCheck[] = [];
  const globalIds = new Set(
    loadGlobalIndex(globalIndexPath(home), { onProblem: warn(ctx) }).sessions
      .map((e) => e.zig_session_id),
  );
  let logs = 0;
  for (const indexPath of indexes) {
    const sessionsDir = join(dirname(indexPath), "sessions");
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
    files.sort();
    const index = loadProjectIndex(indexPath, { onProblem: warn(ctx) });
    const entries = new Map(index.sessions.map((e) => [e.zig_session_id, e]));
    for (const [i, logPath] of files.entries()) {
      bar.tick(i, files.length);
      logs++;
      const check = await checkLog(logPath);
      const id = basename(logPath, ".jsonl");
      const entry = entries.get(id);
      entries.delete(id);
      if (!check.ended && !check.problems.includes("empty log")) {
        const { state, lastTs } = stateAfter(check.last, {
          since: entry?.started_at ?? "",
        });
        if (state !== "running") {
          check.problems.push(
            `no end event, and nothing written since ${
              lastTs ?? "?"
            }: abandoned`,
          );
        }
      }
      if (!entry) {
        check.problems.push(`missing from the project index ${indexPath}`);
      } else if (
        check.ended &&
        (entry.status !== check.ended.status || entry.ended_at === null)
      ) {
        check.problems.push(
          `the project index says ${
            entry.status ?? "running"
          }, the log says ${check.ended.status}`,
        );
      }
      if (!globalIds.has(id)) {
        check.problems.push("missing from the global index");
      }
      bar.done();
      for (const problem of check.problems) say(logPath, problem);
      if (check.tornAt !== undefined) repairs.push(check);
    }
    for (const orphan of entries.values()) {
      say(
        indexPath,
        `session ${orphan.zig_session_id} has no log in ${sessionsDir}`,
      );
    }
  }
  if (parsed.values.repair && bad > 0) {
    for (const check of repairs) repairTorn(check, ctx);
    for (const indexPath of indexes) rebuildIndex(indexPath);
    rebuildIndex(globalIndexPath(home));
    ctx.out.write(
      `rebuilt ${indexes.length + 1} index(es) from the logs; checking again\n`,
    );
    return await verify(argv.filter((a) => a !== "--repair"), ctx);
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
