// Internal to `serve`: the sessions as the API answers them. List items are
// index entries plus their state and duration; details and summaries read
// the log once.
import { resolve, sep } from "node:path";
import {
  listSessions,
  resolveLogPath,
  streamSessionLines,
  ZigError,
  zigHome,
} from "../../mod.ts";
import type { AnySessionEntry, SessionProblem } from "../../mod.ts";
import {
  type Context,
  instant,
  resolveSession,
  scopeOf,
  type SessionState,
  sessionState,
} from "../_cli/common.ts";

/** An index entry with what the API adds: state, duration, project. */
export type SessionItem = AnySessionEntry & {
  /** success, failure, running or abandoned, by the CLI's rule. */
  state: SessionState;
  /** Until the end, the last event (abandoned) or now (running). */
  duration_ms: number;
  /**
   * The zig project directory (the global index's field, added to project
   * entries), empty when unknown.
   */
  project: string;
};

/** A session the server was asked about, with where its log is. */
export interface Located {
  entry: AnySessionEntry;
  logPath: string;
}

function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** Milliseconds since the epoch of a timestamp (Date.parse, else exact). */
function msOf(timestamp: string): number {
  const ms = Date.parse(timestamp);
  return Number.isNaN(ms) ? Number(instant(timestamp) / 1_000_000n) : ms;
}

/**
 * Where an entry's log is, if it is inside the zig home. An index could name
 * any file: the server reads none outside the home because an index said so.
 */
export function homeLogPath(
  entry: AnySessionEntry,
  where: { indexPath: string; home: string },
): string | undefined {
  let path: string;
  try {
    path = resolve(
      resolveLogPath(entry, {
        indexPath: where.indexPath,
        zigHome: where.home,
      }),
    );
  } catch (error) {
    if (error instanceof ZigError && error.kind === "corrupt") return undefined;
    throw error;
  }
  const home = resolve(where.home);
  return path.startsWith(home + sep) ? path : undefined;
}

/** An entry as the list answers it. */
export function sessionItem(
  entry: AnySessionEntry,
  options: { logPath: () => string | undefined; now?: bigint },
): SessionItem {
  const now = options.now ?? nowNs();
  const logPath = entry.status ? undefined : options.logPath();
  const { state, lastTs } = entry.status
    ? { state: entry.status, lastTs: undefined }
    : logPath === undefined
    ? { state: "abandoned" as const, lastTs: undefined } // no log to hear from
    : sessionState(entry, { logPath, now });
  const end = entry.ended_at ??
    (state === "running" ? undefined : lastTs ?? entry.started_at);
  const endMs = end ? msOf(end) : Number(now / 1_000_000n);
  const project = "project" in entry
    ? entry.project
    : (entry as { workspace_path: string | null }).workspace_path;
  return {
    ...entry,
    state,
    duration_ms: Math.max(0, endMs - msOf(entry.started_at)),
    project: project ?? "",
  };
}

/** What a scope's index held when it was last read. */
interface ScopeCache {
  stamp: string;
  indexPath: string;
  home: string;
  entries: AnySessionEntry[];
  /** Items of ended sessions (they no longer change), by position. */
  items: Array<SessionItem | undefined>;
  /** The same as JSON. */
  texts: Array<string | undefined>;
}

/**
 * Lists sessions with their state. The index is parsed again only when its
 * file changed (inode, size, mtime); ended sessions' items and their JSON
 * are kept, so a list of 10k mostly ended sessions costs a stat and a join.
 */
export class SessionLister {
  readonly #ctx: Context;
  readonly #cache = new Map<boolean, ScopeCache>();

  constructor(ctx: Context) {
    this.#ctx = ctx;
  }

  #load(global: boolean): ScopeCache {
    const scope = scopeOf(this.#ctx, global);
    let stamp: string;
    try {
      const info = Deno.statSync(scope.indexPath);
      stamp = `${info.ino}:${info.size}:${info.mtime?.getTime()}`;
    } catch {
      stamp = "";
    }
    let cache = this.#cache.get(global);
    if (!cache || !stamp || cache.stamp !== stamp) {
      cache = {
        stamp,
        indexPath: scope.indexPath,
        home: scope.home,
        entries: listSessions(scope.list),
        items: [],
        texts: [],
      };
      this.#cache.set(global, cache);
    }
    return cache;
  }

  #items(cache: ScopeCache): SessionItem[] {
    const now = nowNs();
    return cache.entries.map((entry, i) => {
      if (cache.items[i]) return cache.items[i];
      const item = sessionItem(entry, {
        logPath: () => homeLogPath(entry, cache),
        now,
      });
      if (entry.status) cache.items[i] = item;
      return item;
    });
  }

  /** The sessions of a scope, in index order (zig's), with their state. */
  items(global: boolean): SessionItem[] {
    return this.#items(this.#load(global));
  }

  /** The same as a JSON array. */
  json(global: boolean): string {
    const cache = this.#load(global);
    const parts = this.#items(cache).map((item, i) =>
      cache.texts[i] ??
        (item.status
          ? (cache.texts[i] = JSON.stringify(item))
          : JSON.stringify(item))
    );
    return `[${parts.join(",")}]`;
  }
}

/**
 * Finds a session by id or unique prefix: this project first, then all.
 * Its log must be inside the zig home.
 */
export function locate(
  ctx: Context,
  options: { id: string; global: boolean },
): Located {
  const found = resolveSession(ctx, { id: options.id, global: options.global });
  const home = resolve(zigHome({ zigHome: ctx.zigHome }));
  if (!resolve(found.logPath).startsWith(home + sep)) {
    throw new ZigError(
      `The log of session ${found.entry.zig_session_id} is outside the zig home (${found.logPath}, home ${home}): not served`,
      { kind: "permission" },
    );
  }
  return found;
}

/** A bad line of a log, as the API reports it. */
export interface LineProblem {
  kind: SessionProblem["kind"];
  line: number | null;
  message: string;
}

function toLineProblem(problem: SessionProblem): LineProblem {
  return {
    kind: problem.kind,
    line: problem.line ?? null,
    message: problem.message,
  };
}

/** Parses a line as an event object; `undefined` for anything else. */
export function parseEvent(
  text: string,
): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text);
    return value !== null && typeof value === "object" &&
        !Array.isArray(value) && typeof value.seq === "number" &&
        typeof value.type === "string"
      ? value
      : undefined;
  } catch {
    return undefined;
  }
}

/** Why a non-blank line is not an event, in a sentence. */
export function malformedMessage(
  where: { path: string; line: number },
  text: string,
): string {
  let reason: string;
  try {
    JSON.parse(text);
    reason = 'it is not an event object with "seq" and "type"';
  } catch (error) {
    reason = `it is not JSON (${(error as Error).message})`;
  }
  return `Line ${where.line} of ${where.path} is malformed: ${reason}; skipped it and read on`;
}

/** The filters of the events route. */
export interface EventFilter {
  types: string[];
  steps: string[];
  afterSeq?: number;
  beforeSeq?: number;
  last?: number;
}

/**
 * The events of a log that pass the filter, as raw lines (they are JSON
 * already). Malformed and torn lines go to `problems`.
 */
export async function* filteredLines(
  logPath: string,
  options: { filter: EventFilter; problems: LineProblem[] },
): AsyncGenerator<string> {
  const { filter, problems } = options;
  const needles = filter.types.map((t) => `"type":"${t}"`);
  for await (
    const { line, text } of streamSessionLines(logPath, {
      onProblem: (p) => problems.push(toLineProblem(p)),
    })
  ) {
    if (text.trim() === "") continue;
    if (needles.length > 0 && !needles.some((n) => text.includes(n))) {
      // Cheap skip; a line that does not parse is still reported below.
      if (text.startsWith("{") && text.endsWith("}")) continue;
    }
    const event = parseEvent(text);
    if (event === undefined) {
      problems.push({
        kind: "malformed_line",
        line,
        message: malformedMessage({ path: logPath, line }, text),
      });
      continue;
    }
    const seq = event.seq as number;
    if (filter.types.length > 0 && !filter.types.includes(String(event.type))) {
      continue;
    }
    if (
      filter.steps.length > 0 && !filter.steps.includes(String(event.step_name))
    ) continue;
    if (filter.afterSeq !== undefined && !(seq > filter.afterSeq)) continue;
    if (filter.beforeSeq !== undefined && !(seq < filter.beforeSeq)) continue;
    yield text.trim();
  }
}

/** Every event of a log, parsed, and the lines that are not events. */
export async function readDetail(
  logPath: string,
): Promise<{ events: unknown[]; problems: LineProblem[] }> {
  const problems: LineProblem[] = [];
  const events: unknown[] = [];
  for await (
    const text of filteredLines(logPath, {
      filter: { types: [], steps: [] },
      problems,
    })
  ) {
    events.push(JSON.parse(text));
  }
  return { events, problems };
}

/** How a step stands in a summary. */
export type StepStatus =
  | "pending"
  | "running"
  | "interrupted"
  | "completed"
  | "failed"
  | "skipped"
  | "not_run";

/** One failed attempt of a step. */
export interface StepFailure {
  attempt: number;
  exit_code: number | null;
  error: string;
  ts: string;
}

/** A step with its outcome and timings. */
export interface StepTiming {
  step_name: string;
  tier_index: number | null;
  status: StepStatus;
  started_at: string | null;
  ended_at: string | null;
  duration_ms: number | null;
  exit_code: number | null;
  attempts: number;
  failures: StepFailure[];
  error: string | null;
  reason: string | null;
  model: string | null;
  zag_command: string | null;
  zag_session_id: string | null;
  prompt_preview: string | null;
  output: { stdout: number; stderr: number };
}

/** A tier with its steps. */
export interface TierTiming {
  tier_index: number;
  step_names: string[];
  started_at: string | null;
  ended_at: string | null;
  steps: StepTiming[];
}

/** What the summary route answers. */
export interface SessionSummaryBody {
  zig_session_id: string;
  workflow_name: string;
  workflow_path: string | null;
  prompt: string | null;
  cwd: string | null;
  tier_count: number | null;
  state: SessionState;
  started_at: string;
  ended_at: string | null;
  last_event_at: string | null;
  duration_ms: number;
  events: number;
  tiers: TierTiming[];
  failed_steps: string[];
  skipped_steps: string[];
  problems: LineProblem[];
}

function msBetween(from: string, to: string): number {
  return Math.max(0, Number((instant(to) - instant(from)) / 1_000_000n));
}

/** Folds a session's events into tiers and steps with their timings. */
export class SummaryFolder {
  readonly tiers: TierTiming[] = [];
  readonly #steps = new Map<string, StepTiming>();
  workflowPath: string | null = null;
  prompt: string | null = null;
  cwd: string | null = null;
  tierCount: number | null = null;
  events = 0;
  lastTs: string | null = null;
  ended: { status: string; duration_ms: number; ts: string } | null = null;

  add(event: Record<string, unknown>): void {
    this.events++;
    const ts = String(event.ts);
    this.lastTs = ts;
    const name = typeof event.step_name === "string" ? event.step_name : "";
    switch (event.type) {
      case "zig_session_started":
        this.workflowPath = (event.workflow_path as string) ?? null;
        this.prompt = (event.prompt as string | null) ?? null;
        this.cwd = (event.cwd as string | null) ?? null;
        this.tierCount = (event.tier_count as number) ?? null;
        break;
      case "tier_started": {
        const names = Array.isArray(event.step_names)
          ? event.step_names.map(String)
          : [];
        const tier: TierTiming = {
          tier_index: Number(event.tier_index),
          step_names: names,
          started_at: ts,
          ended_at: null,
          steps: [],
        };
        this.tiers.push(tier);
        for (const step of names) this.#step(step, tier.tier_index);
        break;
      }
      case "step_started": {
        const step = this.#step(name, Number(event.tier_index));
        step.status = "running";
        step.started_at ??= ts;
        step.ended_at = null;
        step.model = (event.model as string | null) ?? null;
        step.zag_command = (event.zag_command as string) ?? null;
        step.zag_session_id = (event.zag_session_id as string) ?? null;
        step.prompt_preview = (event.prompt_preview as string) ?? null;
        break;
      }
      case "step_output": {
        const step = this.#step(name);
        if (event.stream === "stderr") step.output.stderr++;
        else step.output.stdout++;
        break;
      }
      case "step_completed": {
        const step = this.#step(name);
        step.status = "completed";
        step.attempts++;
        step.exit_code = (event.exit_code as number) ?? null;
        step.duration_ms = (event.duration_ms as number) ?? null;
        step.ended_at = ts;
        step.started_at ??= ts;
        this.#tierEnded(step, ts);
        break;
      }
      case "step_failed": {
        const step = this.#step(name);
        step.status = "failed";
        const attempt = Number(event.attempt) || step.attempts + 1;
        step.attempts = Math.max(step.attempts + 1, attempt);
        step.exit_code = (event.exit_code as number | null) ?? null;
        step.error = String(event.error ?? "");
        step.failures.push({
          attempt,
          exit_code: step.exit_code,
          error: step.error,
          ts,
        });
        step.ended_at = ts;
        step.started_at ??= ts;
        step.duration_ms = msBetween(step.started_at, ts);
        this.#tierEnded(step, ts);
        break;
      }
      case "step_skipped": {
        const step = this.#step(name);
        step.status = "skipped";
        step.reason = String(event.reason ?? "");
        step.ended_at = ts;
        this.#tierEnded(step, ts);
        break;
      }
      case "zig_session_ended":
        this.ended = {
          status: String(event.status),
          duration_ms: Number(event.duration_ms),
          ts,
        };
        break;
    }
  }

  #tierEnded(step: StepTiming, ts: string): void {
    const tier = this.tiers.find((t) => t.steps.includes(step));
    if (
      tier && (tier.ended_at === null || instant(ts) > instant(tier.ended_at))
    ) {
      tier.ended_at = ts;
    }
  }

  #step(name: string, tierIndex?: number): StepTiming {
    let step = this.#steps.get(name);
    if (!step) {
      step = {
        step_name: name,
        tier_index: tierIndex ?? null,
        status: "pending",
        started_at: null,
        ended_at: null,
        duration_ms: null,
        exit_code: null,
        attempts: 0,
        failures: [],
        error: null,
        reason: null,
        model: null,
        zag_command: null,
        zag_session_id: null,
        prompt_preview: null,
        output: { stdout: 0, stderr: 0 },
      };
      this.#steps.set(name, step);
      const tier = (tierIndex === undefined
        ? this.tiers.findLast((t) =>
          t.step_names.includes(name)
        )
        : this.tiers.findLast((t) => t.tier_index === tierIndex)) ??
        this.tiers.at(-1);
      if (tier) {
        tier.steps.push(step);
        step.tier_index ??= tier.tier_index;
      } else {
        this.tiers.push({
          tier_index: tierIndex ?? 0,
          step_names: [name],
          started_at: null,
          ended_at: null,
          steps: [step],
        });
      }
    }
    return step;
  }

  /**
   * Once the session is over, steps that never started were not run, and
   * steps still running were interrupted.
   */
  finish(over: boolean): void {
    if (!over) return;
    for (const step of this.#steps.values()) {
      if (step.status === "pending") step.status = "not_run";
      if (step.status === "running") step.status = "interrupted";
    }
  }

  get steps(): StepTiming[] {
    return [...this.#steps.values()];
  }
}

/** Reads a session's log once and summarizes it. */
export async function summarize(found: Located): Promise<SessionSummaryBody> {
  const problems: LineProblem[] = [];
  const folder = new SummaryFolder();
  for await (
    const text of filteredLines(found.logPath, {
      filter: { types: [], steps: [] },
      problems,
    })
  ) {
    folder.add(JSON.parse(text));
  }
  const { entry } = found;
  const { state, lastTs } = sessionState(entry, { logPath: found.logPath });
  folder.finish(state !== "running");
  const startedAt = entry.started_at;
  let duration: number;
  if (folder.ended) duration = folder.ended.duration_ms;
  else if (state === "running") {
    duration = Math.max(
      0,
      Date.now() - Number(instant(startedAt) / 1_000_000n),
    );
  } else {
    duration = msBetween(startedAt, lastTs ?? folder.lastTs ?? startedAt);
  }
  const steps = folder.steps;
  return {
    zig_session_id: entry.zig_session_id,
    workflow_name: entry.workflow_name,
    workflow_path: folder.workflowPath ??
      ("workflow_path" in entry ? entry.workflow_path : null),
    prompt: folder.prompt,
    cwd: folder.cwd,
    tier_count: folder.tierCount,
    state,
    started_at: startedAt,
    ended_at: entry.ended_at ?? folder.ended?.ts ?? null,
    last_event_at: folder.lastTs,
    duration_ms: duration,
    events: folder.events,
    tiers: folder.tiers,
    failed_steps: steps.filter((s) => s.status === "failed").map((s) =>
      s.step_name
    ),
    skipped_steps: steps.filter((s) => s.status === "skipped").map((s) =>
      s.step_name
    ),
    problems,
  };
}
