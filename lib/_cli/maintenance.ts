// `gc`, `reindex` and `verify`: keeping the logs and indexes in order.
import { basename, dirname, join } from "node:path";
import {
  globalIndexPath,
  listSessions,
  loadGlobalIndex,
  loadProjectIndex,
  projectDir,
  projectIndexPath,
  rebuildIndex,
  sessionStateDetails,
  streamSessionLines,
  summarizeLog,
  updateGlobalIndex,
  updateProjectIndex,
  ZigError,
  zigHome,
} from "../../mod.ts";
import type {
  AnySessionEntry,
  ProblemHandler,
  SessionLogIndex,
  SessionProblem,
} from "../../mod.ts";
import {
  type CommandSpec,
  type Context,
  instant,
  intFlag,
  LogFinder,
  newestFirst,
  paint,
  parseCommand,
  parseDuration,
  progress,
  projectLabel,
  scopeOf,
  shortTime,
  stringFlag,
  table,
  visible,
  warn,
  WARNING_KINDS,
  Warnings,
} from "./common.ts";
// Internal to the package: confinement to the zig home.
import { assertInsideHome, escapeOf, isSessionId } from "../_confine.ts";

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
Index entries are removed under the index lock. An entry whose id or log_path
leads out of the zig home is skipped, with a warning: nothing outside the zig
home is ever deleted.`,
  options: {
    "older-than": { type: "string" },
    keep: { type: "string" },
    force: { type: "boolean" },
    global: { type: "boolean" },
  },
};

/**
 * The project index of a log where the layout puts it (from
 * `resolveLogPath`, never an entry's `log_path`): `<project>/logs/index.json`.
 */
function indexOfLayoutLog(logPath: string): string {
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
  const global = parsed.values.global === true;
  const scope = scopeOf(ctx, global);
  const warnings = new Warnings(ctx);
  const sessions = newestFirst(
    listSessions({ ...scope.list, onProblem: warnings.onProblem }),
  );
  const logs = new LogFinder(scope, warnings);
  const doomed: Array<
    { entry: AnySessionEntry; logPath: string; size: number | null }
  > = [];
  sessions.forEach((entry, rank) => {
    if (keep !== undefined && rank < keep) return;
    if (!entry.status || !entry.ended_at) return;
    if (cutoff !== undefined && instant(entry.ended_at) >= cutoff) return;
    // An entry leading out of the zig home is skipped, with a warning.
    const found = logs.locate(entry);
    if ("refused" in found) {
      warnings.add(WARNING_KINDS.elsewhere, `skipped: ${found.refused}`);
      return;
    }
    const { logPath } = found;
    // A log already gone: its entry goes, nothing to read.
    let size: number | null = null;
    if (found.exists) {
      try {
        const summary = summarizeLog(logPath);
        // The index says ended; the log must agree, or the session may be
        // open.
        if (summary.last?.type !== "zig_session_ended") return;
        size = summary.size;
      } catch (error) {
        if (!(error instanceof ZigError && error.kind === "not_found")) {
          throw error;
        }
      }
    }
    doomed.push({ entry, logPath, size });
  });
  const bytes = doomed.reduce((sum, d) => sum + (d.size ?? 0), 0);
  const mb = (bytes / 1e6).toFixed(1);
  if (!parsed.values.force) {
    warnings.summarize();
    if (doomed.length > 0) {
      ctx.out.write("would remove:\n" + sessionTable(ctx, { doomed, global }));
    }
    ctx.out.write(
      `${doomed.length} session(s), ${mb} MB: dry run, nothing removed (add --force)\n`,
    );
    return 0;
  }
  const ids = new Set<string>();
  const byIndex = new Map<string, typeof doomed>();
  for (const d of doomed) {
    // The index the entry came from, or, from the global index, the project
    // index the layout puts beside its log.
    const index = scope.list.global
      ? indexOfLayoutLog(d.logPath)
      : scope.indexPath;
    const group = byIndex.get(index);
    if (group) group.push(d);
    else byIndex.set(index, [d]);
  }
  const onProblem = warnings.onProblem;
  for (const [indexPath, group] of byIndex) {
    updateProjectIndex(indexPath, {
      onProblem,
      update(index) {
        // Under the lock: delete the logs whose entries are going, each
        // checked again to lie inside the zig home.
        const mine = new Set<string>();
        for (const d of group) {
          try {
            // A log found gone needs no removing: only its entry goes.
            if (d.size !== null) {
              assertInsideHome(d.logPath, scope.home);
              Deno.removeSync(d.logPath);
            }
          } catch (error) {
            if (error instanceof ZigError) {
              warnings.add(
                WARNING_KINDS.elsewhere,
                `skipped: ${error.message}`,
              );
              continue;
            }
            if (!(error instanceof Deno.errors.NotFound)) throw error;
          }
          mine.add(d.entry.zig_session_id);
          ids.add(d.entry.zig_session_id);
        }
        index.sessions = index.sessions.filter((e) =>
          !mine.has(e.zig_session_id)
        );
      },
    });
  }
  updateGlobalIndex(globalIndexPath(scope.home), {
    onProblem,
    update(index) {
      index.sessions = index.sessions.filter((e) => !ids.has(e.zig_session_id));
    },
  });
  warnings.summarize();
  const gone = doomed.filter((d) => ids.has(d.entry.zig_session_id));
  const goneMb = (gone.reduce((sum, d) => sum + (d.size ?? 0), 0) / 1e6)
    .toFixed(1);
  if (gone.length > 0) {
    ctx.out.write("removed:\n" + sessionTable(ctx, { doomed: gone, global }));
  }
  ctx.out.write(`removed ${gone.length} session(s), ${goneMb} MB\n`);
  return 0;
}

/** A byte count for people: `812 B`, `12.3 kB`, `4.5 MB`. */
function formatSize(bytes: number | null): string {
  if (bytes === null) return "gone";
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} kB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e9).toFixed(1)} GB`;
}

/** The sessions gc removes (or would), as an aligned table. */
function sessionTable(
  ctx: Context,
  what: {
    doomed: Array<{ entry: AnySessionEntry; size: number | null }>;
    global: boolean;
  },
): string {
  const header = [
    "ID",
    ...(what.global ? ["PROJECT"] : []),
    "WORKFLOW",
    "ENDED (UTC)",
    "LOG",
  ];
  const rows = what.doomed.map(({ entry, size }) =>
    [
      entry.zig_session_id,
      ...(what.global ? [projectLabel(entry)] : []),
      entry.workflow_name,
      shortTime(entry.ended_at),
      formatSize(size),
    ].map((cell) => visible(cell))
  );
  const bold = paint(ctx.out, "bold");
  return table([header.map(bold), ...rows], [header, ...rows]);
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
    `Rebuilds this project's index from its logs, and adds to the global index
this project's sessions it misses; with --global, rebuilds the global index and
every project's index. Entries then point at where the logs are now. A log
that another process removes meanwhile is left out with a warning.`,
  options: { global: { type: "boolean" } },
};

/**
 * Why a project's index or logs may not be touched: its `logs` or
 * `logs/sessions` folder resolves outside the zig home. `undefined` when both
 * lie inside it.
 */
function outsideHome(indexPath: string, home: string): string | undefined {
  for (const path of [join(dirname(indexPath), "sessions"), indexPath]) {
    const escape = escapeOf(path, home);
    if (escape !== undefined) {
      return `"${path}" resolves to "${escape}", outside the zig home "${home}" (a symbolic link leads out of it): not read, not repaired`;
    }
  }
  return undefined;
}

/** `zig-session reindex`. */
export function reindex(argv: string[], ctx: Context): number {
  const parsed = parseCommand(REINDEX, { argv, ctx });
  if (!parsed) return 0;
  const global = parsed.values.global === true;
  const scope = scopeOf(ctx, false);
  const indexes = (global ? allProjectIndexes(scope.home) : [scope.indexPath])
    .filter((path) => {
      const escape = outsideHome(path, scope.home);
      if (escape) ctx.err.write(`zig-session: warning: skipped: ${escape}\n`);
      return escape === undefined;
    });
  const onProblem = warn(ctx);
  const bar = progress(ctx, "reindexing");
  for (const [i, path] of indexes.entries()) {
    bar.tick(i, indexes.length);
    const index = rebuildIndex(path, { onProblem });
    bar.done();
    ctx.out.write(`${path}: ${index.sessions.length} session(s)\n`);
    if (!global) {
      const added = addMissingToGlobal(index as SessionLogIndex, {
        path: globalIndexPath(scope.home),
        onProblem,
      });
      if (added > 0) {
        ctx.out.write(
          `${
            globalIndexPath(scope.home)
          }: added ${added} session(s) of this project it missed\n`,
        );
      }
    }
  }
  if (global) {
    const path = globalIndexPath(scope.home);
    const index = rebuildIndex(path, { onProblem });
    ctx.out.write(`${path}: ${index.sessions.length} session(s)\n`);
  }
  return 0;
}

/**
 * Adds to the global index the sessions of a rebuilt project index that it
 * lacks (a writer killed between the two indexes); returns how many.
 */
function addMissingToGlobal(
  project: SessionLogIndex,
  options: { path: string; onProblem: ProblemHandler },
): number {
  const missing = (ids: Set<string>) =>
    project.sessions.some((e) => !ids.has(e.zig_session_id));
  const global = loadGlobalIndex(options.path, {
    onProblem: options.onProblem,
  });
  if (!missing(new Set(global.sessions.map((e) => e.zig_session_id)))) {
    return 0; // nothing to add: no need to take the lock and rewrite it
  }
  let added = 0;
  updateGlobalIndex(options.path, {
    onProblem: options.onProblem,
    update(index) {
      const known = new Set(index.sessions.map((e) => e.zig_session_id));
      for (const e of project.sessions) {
        if (known.has(e.zig_session_id)) continue;
        index.sessions.push({
          zig_session_id: e.zig_session_id,
          workflow_name: e.workflow_name,
          project: e.workspace_path ?? dirname(dirname(dirname(e.log_path))),
          log_path: e.log_path,
          started_at: e.started_at,
          ended_at: e.ended_at,
          status: e.status,
        });
        added++;
      }
    },
  });
  return added;
}

export const VERIFY: CommandSpec = {
  name: "verify",
  summary: "check every log and the indexes against the logs",
  usage: "Usage: zig-session verify [--global] [--repair]",
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

/** A `\uD800`–`\uDFFF` escape: only such text can hold a lone surrogate. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F][0-9a-fA-F]{2}/;

/** Whether every string and key in a parsed value is well-formed UTF-16. */
function wellFormed(value: unknown): boolean {
  if (typeof value === "string") return value.isWellFormed();
  if (value === null || typeof value !== "object") return true;
  return Object.entries(value).every(([key, item]) =>
    key.isWellFormed() && wellFormed(item)
  );
}

async function checkLog(logPath: string): Promise<LogCheck> {
  const check: LogCheck = { logPath, problems: [] };
  const lineProblems: SessionProblem[] = [];
  let expected = 1;
  let first = true;
  let last: Record<string, unknown> | undefined;
  let endLine: number | undefined;
  const afterEnd: number[] = [];
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
    if (SURROGATE_ESCAPE.test(text) && !wellFormed(event)) {
      check.problems.push(
        `line ${line}: a lone surrogate (half of a character), which zig cannot read (the log is rejected whole)`,
      );
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
    if (endLine !== undefined) afterEnd.push(line);
    else if (event.type === "zig_session_ended") endLine = line;
    last = event;
  }
  if (afterEnd.length > 0) {
    const [at, count] = [afterEnd[0], afterEnd.length];
    check.problems.push(
      `line ${at}: ${count} event(s) written after the session ended at line ${endLine}`,
    );
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
    } else if (p.kind === "malformed_line") {
      check.problems.push(`line ${p.line}: ${p.reason}`);
    }
  }
  if (first) check.problems.push("empty log");
  check.last = last;
  if (last?.type === "zig_session_ended") {
    check.ended = { status: String(last.status), ts: String(last.ts) };
  }
  return check;
}

/**
 * Where the unterminated bytes at the end of an open log start (after its
 * last newline), or `undefined` when it ends with a newline.
 */
function unterminatedTail(file: Deno.FsFile, size: number): number | undefined {
  if (size === 0) return undefined;
  const byte = new Uint8Array(1);
  file.seekSync(size - 1, Deno.SeekMode.Start);
  if (file.readSync(byte) === 1 && byte[0] === 10) return undefined;
  const chunk = new Uint8Array(64 * 1024);
  let end = size;
  while (end > 0) {
    const start = Math.max(0, end - chunk.length);
    const part = chunk.subarray(0, end - start);
    file.seekSync(start, Deno.SeekMode.Start);
    let filled = 0;
    while (filled < part.length) {
      const n = file.readSync(part.subarray(filled));
      if (n === null) break;
      filled += n;
    }
    const nl = part.subarray(0, filled).lastIndexOf(10);
    if (nl >= 0) return start + nl + 1;
    end = start;
  }
  return 0;
}

/**
 * Moves a torn tail into a file beside the log and cuts the log back. All is
 * decided again under the log's lock, which every appending writer takes:
 * nothing is cut from a session that is live (written within its heartbeat
 * allowance), and only the unterminated bytes found under the lock are cut,
 * whatever was seen before (complete events written since stay).
 */
function repairTorn(check: LogCheck, ctx: Context): void {
  let file: Deno.FsFile;
  try {
    file = openForRepair(check.logPath, zigHome({ zigHome: ctx.zigHome }));
  } catch (error) {
    if (!(error instanceof ZigError)) throw error;
    ctx.out.write(`${paint(ctx.out, "red")("✗")} ${error.message}\n`);
    return;
  }
  try {
    file.lockSync(true);
    const { state } = sessionStateDetails({}, { logPath: check.logPath });
    if (state === "running") {
      ctx.out.write(
        `left ${
          visible(check.logPath)
        } as it is: written to since it was checked, its session is running\n`,
      );
      return;
    }
    const info = file.statSync();
    const size = info.size;
    const at = unterminatedTail(file, size);
    if (at === undefined) {
      ctx.out.write(
        `left ${
          visible(check.logPath)
        } as it is: its last line is complete now\n`,
      );
      return;
    }
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
    // Cutting is no sign of life: keep the time the log was last written.
    if (info.mtime) file.utimeSync(info.atime ?? info.mtime, info.mtime);
    ctx.out.write(
      `repaired ${visible(check.logPath)}: moved ${filled} torn bytes to ${
        visible(aside)
      }\n`,
    );
  } finally {
    file.close();
  }
}

/**
 * Opens a log to cut its torn tail: only a regular `<id>.jsonl` file with a
 * single link (a hard link would cut another file too), in a `sessions`
 * folder inside the zig home, and only the very file `lstat` saw.
 */
function openForRepair(logPath: string, home: string): Deno.FsFile {
  const refuse = (why: string) =>
    new ZigError(`Not repairing "${logPath}": ${why}`, {
      kind: "corrupt",
      path: logPath,
    });
  const name = basename(logPath);
  if (
    !name.endsWith(".jsonl") || !isSessionId(name.slice(0, -6)) ||
    basename(dirname(logPath)) !== "sessions"
  ) {
    throw refuse("it is not a session log (<id>.jsonl in a sessions folder)");
  }
  assertInsideHome(logPath, home);
  const seen = Deno.lstatSync(logPath);
  if (!seen.isFile) throw refuse("it is not a regular file");
  if ((seen.nlink ?? 1) > 1) {
    throw refuse(
      `it has ${seen.nlink} hard links, so cutting it would cut another file too`,
    );
  }
  const file = Deno.openSync(logPath, { read: true, write: true });
  const opened = file.statSync();
  if (opened.dev !== seen.dev || opened.ino !== seen.ino) {
    file.close();
    throw refuse("it was replaced while it was opened");
  }
  return file;
}

/** `zig-session verify`. */
export async function verify(argv: string[], ctx: Context): Promise<number> {
  const parsed = parseCommand(VERIFY, { argv, ctx });
  if (!parsed) return 0;
  const global = parsed.values.global === true;
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
  const repairs: LogCheck[] = [];
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
    const index = loadProjectIndex(indexPath, {
      onProblem: warnings.onProblem,
    });
    const entries = new Map(index.sessions.map((e) => [e.zig_session_id, e]));
    const projectLogs = new LogFinder({ home, indexPath }, warnings);
    for (const entry of index.sessions) {
      const found = projectLogs.locate(entry);
      if (!("refused" in found)) continue;
      say(indexPath, found.refused);
      entries.delete(entry.zig_session_id);
    }
    for (const [i, logPath] of files.entries()) {
      bar.tick(i, files.length);
      logs++;
      const check = await checkLog(logPath);
      const id = basename(logPath, ".jsonl");
      const entry = entries.get(id);
      entries.delete(id);
      if (!check.ended && !check.problems.includes("empty log")) {
        const { state, lastActivity } = sessionStateDetails(
          { started_at: entry?.started_at },
          { logPath },
        );
        if (state !== "running") {
          check.problems.push(
            `no end event, and nothing written since ${
              lastActivity ?? "?"
            }: abandoned`,
          );
        } else if (check.tornAt !== undefined) {
          // A live writer may be in the middle of its line: not torn yet,
          // and never cut while the session is live.
          check.problems = check.problems.filter((p) =>
            !/^line \d+: torn /.test(p)
          );
          check.tornAt = undefined;
          ctx.out.write(
            `note: ${
              visible(logPath)
            }: its last line is unfinished, and its session is running (a write in progress?): left alone\n`,
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
  warnings.summarize();
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
