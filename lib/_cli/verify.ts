// `zig-session verify`: checking the logs and the indexes against them.
import { basename, dirname, join } from "node:path";
import {
  globalIndexPath,
  loadGlobalIndex,
  loadProjectIndex,
  projectDir,
  projectIndexPath,
  rebuildIndex,
  sessionStateDetails,
  streamSessionLines,
  ZigError,
  zigHome,
} from "../../mod.ts";
import type { SessionProblem } from "../../mod.ts";
import {
  type CommandSpec,
  type Context,
  LogFinder,
  paint,
  parseCommand,
  progress,
  visible,
  Warnings,
} from "./common.ts";
// Internal to the package: confinement to the zig home.
import { assertInsideHome, isSessionId } from "../_confine.ts";
import { allProjectIndexes, outsideHome } from "./_indexes.ts";

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
