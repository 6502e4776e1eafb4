// The export: finds session logs in the zig home, maps their new events,
// sends them in bounded batches and records what was acknowledged; with
// `follow`, keeps doing so as logs grow and new sessions appear.
import { basename, join } from "node:path";
import { projectDir, projectsDir, sessionsDir, ZigError } from "../../mod.ts";
import { instant, stateAfter } from "../_cli/common.ts";
import {
  type Checkpoint,
  CheckpointStore,
  endpointKey,
  NOTHING_SENT,
  safeSessionId,
} from "./checkpoint.ts";
import type { ExportConfig } from "./config.ts";
import { deliver, type RetryPolicy } from "./delivery.ts";
import { type MappedSpan, SessionMapper } from "./mapping.ts";
import {
  encodeLogsJson,
  encodeLogsProtobuf,
  encodeTracesProtobuf,
  type LogRecordData,
  logsJson,
  type OtlpResource,
  type SpanData,
  tracesJson,
} from "./otlp.ts";
import type { PartialSuccess } from "./otlp.ts";

/** What to export and how. */
export interface ExportOptions {
  /** The zig home. */
  home: string;
  /** Where to send, resolved from the environment and flags. */
  config: ExportConfig;
  /** Every project's sessions, else the project of `cwd`. */
  global: boolean;
  /** The working directory (finds the project). */
  cwd: string;
  /** Only the sessions whose ids start with these. */
  sessions: string[];
  /** Only sessions that started at or after this instant (ns). */
  since?: bigint;
  /** Keep running: export what is appended and new sessions, until aborted. */
  follow: boolean;
  /** Print the requests (OTLP/JSON, one a line) instead of sending them. */
  dryRun: boolean;
  /** Records (log records and spans) per request at most. */
  batchRecords: number;
  /** Approximate bytes per request at most (before compression). */
  batchBytes: number;
  /** Backoff of retries. */
  retry: { initialBackoffMs: number; maxBackoffMs: number; maxRetries: number };
  /** Milliseconds between checks for changes when following. */
  pollMs: number;
  /** Receives each dry-run request line. */
  out: (line: string) => void;
  /** Receives warnings. */
  warn: (message: string) => void;
  /** Stops the export (following ends; waits between retries end). */
  signal: AbortSignal;
}

/** What an export did. */
export interface ExportSummary {
  sessions: number;
  logRecords: number;
  spans: number;
  rejected: number;
}

type Event = Record<string, unknown> & {
  seq: number;
  ts: string;
  type: string;
};

interface SessionFile {
  id: string;
  path: string;
  /** The project folder's name under `projects/`; none at the home's top. */
  project?: string;
}

/** A session being exported. */
class Tracked {
  readonly file: SessionFile;
  mapper?: SessionMapper;
  /** Bytes consumed: complete lines read. */
  offset = 0;
  /** Line number of the last complete line read. */
  line = 0;
  carry: Uint8Array = new Uint8Array(0);
  /** After a whole chunk was pushed: its end and the last seq in it. */
  consumedOffset = 0;
  consumedSeq = 0;
  last?: Event;
  startedTs?: string;
  checkpoint: Checkpoint = { ...NOTHING_SENT };
  /** Everything sent and the session closed: nothing more to do. */
  done = false;
  /** Counted in the summary once it sent something. */
  counted = false;

  constructor(file: SessionFile) {
    this.file = file;
  }
}

interface BatchSession {
  upTo: number;
  closes: boolean;
}

class Batch {
  logs: Array<{ t: Tracked; seq: number; record: LogRecordData }> = [];
  spans: Array<{ t: Tracked; mapped: MappedSpan; closes: boolean }> = [];
  sessions = new Map<Tracked, BatchSession>();
  bytes = 0;

  session(t: Tracked): BatchSession {
    let s = this.sessions.get(t);
    if (!s) this.sessions.set(t, s = { upTo: 0, closes: false });
    return s;
  }

  get size(): number {
    return this.logs.length + this.spans.length;
  }
}

const CHUNK = 1 << 20;
const decoder = new TextDecoder();

/** Runs an export; resolves when done (or, following, when aborted). */
export async function runExport(
  options: ExportOptions,
): Promise<ExportSummary> {
  return await new Exporter(options).run();
}

class Exporter {
  #o: ExportOptions;
  #store: CheckpointStore;
  #tracked = new Map<string, Tracked>();
  #resources = new Map<string, OtlpResource>();
  #batch = new Batch();
  #inFlight?: Promise<void>;
  #buffer = new Uint8Array(CHUNK);
  #summary: ExportSummary = {
    sessions: 0,
    logRecords: 0,
    spans: 0,
    rejected: 0,
  };
  #policy: RetryPolicy;
  #warned = new Set<string>();

  constructor(options: ExportOptions) {
    this.#o = options;
    this.#store = new CheckpointStore(options.home, {
      key: endpointKey(options.config),
      onProblem: options.warn,
      readOnly: options.dryRun,
    });
    this.#policy = {
      forever: options.follow,
      maxRetries: options.retry.maxRetries,
      initialBackoffMs: options.retry.initialBackoffMs,
      maxBackoffMs: options.retry.maxBackoffMs,
      onRetry: (message) => options.warn(message),
      signal: options.signal,
    };
  }

  async run(): Promise<ExportSummary> {
    try {
      await this.#run();
    } catch (error) {
      // Stopped (a signal) while waiting to retry: what was sent is recorded.
      if (!this.#o.signal.aborted || error !== this.#o.signal.reason) {
        throw error;
      }
    }
    return this.#summary;
  }

  async #run(): Promise<void> {
    const o = this.#o;
    if (!o.follow) {
      for (const file of this.#discover()) {
        if (o.signal.aborted) break;
        await this.#exportSession(this.#track(file));
      }
      await this.#drain();
      return;
    }
    const wake = this.#watch();
    try {
      while (!o.signal.aborted) {
        for (const file of this.#discover()) this.#track(file);
        for (const t of this.#tracked.values()) {
          if (o.signal.aborted) break;
          if (!t.done) await this.#exportSession(t);
        }
        await this.#drain();
        await wake.next(o.pollMs);
      }
    } finally {
      wake.close();
    }
  }

  #track(file: SessionFile): Tracked {
    let t = this.#tracked.get(file.path);
    if (!t) {
      t = new Tracked(file);
      this.#tracked.set(file.path, t);
    }
    return t;
  }

  #warnOnce(key: string, message: string): void {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.#o.warn(message);
  }

  /** The session logs in scope, not yet tracked, that pass the filters. */
  #discover(): SessionFile[] {
    const o = this.#o;
    const dirs: Array<{ dir: string; project?: string }> = [];
    const everywhere = o.global || o.sessions.length > 0;
    if (everywhere) {
      dirs.push({ dir: sessionsDir(o.home) });
      const projects = projectsDir(o.home);
      for (const entry of this.#readDir(projects)) {
        if (entry.isDirectory) {
          dirs.push({
            dir: sessionsDir(join(projects, entry.name)),
            project: entry.name,
          });
        }
      }
    } else {
      const dir = projectDir({ zigHome: o.home, cwd: o.cwd });
      dirs.push({
        dir: sessionsDir(dir),
        project: dir === o.home ? undefined : basename(dir),
      });
    }
    let found: SessionFile[] = [];
    for (const { dir, project } of dirs) {
      for (const entry of this.#readDir(dir)) {
        if (!entry.name.endsWith(".jsonl")) continue;
        const path = join(dir, entry.name);
        if (this.#tracked.has(path)) continue;
        if (entry.isSymlink) {
          this.#warnOnce(
            path,
            `Skipped ${path}: it is a symbolic link, and only logs inside the zig home are exported`,
          );
          continue;
        }
        if (!entry.isFile) continue;
        const id = entry.name.slice(0, -".jsonl".length);
        if (!safeSessionId(id)) {
          this.#warnOnce(
            path,
            `Skipped ${path}: "${id}" is not a session id that can name a checkpoint file`,
          );
          continue;
        }
        found.push({ id, path, project });
      }
    }
    if (o.sessions.length > 0) found = this.#matchSessions(found);
    found.sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
    return found;
  }

  /** The sessions `--session` names, each prefix matching exactly one. */
  #matchSessions(found: SessionFile[]): SessionFile[] {
    const chosen: SessionFile[] = [];
    for (const prefix of this.#o.sessions) {
      const ids = new Set(
        found.filter((f) => f.id.startsWith(prefix)).map((f) => f.id),
      );
      // Already tracked (following): not found again, and not an error.
      const tracked = [...this.#tracked.values()].some((t) =>
        t.file.id.startsWith(prefix)
      );
      if (ids.size === 0 && !tracked) {
        if (this.#o.follow) continue; // it may appear later
        throw new ZigError(
          `Session not found: no session id in ${this.#o.home} starts with "${prefix}"`,
          { kind: "not_found" },
        );
      }
      if (ids.size > 1) {
        throw new ZigError(
          `Ambiguous session prefix "${prefix}": it matches ${ids.size} sessions: ${
            [...ids].join(", ")
          }`,
          { kind: "ambiguous", candidates: [...ids] },
        );
      }
      chosen.push(...found.filter((f) => ids.has(f.id)));
    }
    return chosen;
  }

  #readDir(dir: string): Deno.DirEntry[] {
    try {
      const info = Deno.lstatSync(dir);
      if (info.isSymlink) {
        this.#warnOnce(
          dir,
          `Skipped ${dir}: it is a symbolic link, and only logs inside the zig home are exported`,
        );
        return [];
      }
      return [...Deno.readDirSync(dir)];
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return [];
      throw new ZigError(
        `Cannot list the session logs at "${dir}": ${(error as Error).message}`,
        { kind: "io", path: dir, cause: error },
      );
    }
  }

  #resource(project: string | undefined): OtlpResource {
    const key = project ?? "";
    let resource = this.#resources.get(key);
    if (!resource) {
      resource = {
        attributes: { ...this.#o.config.resource, "zig.project": project },
      };
      this.#resources.set(key, resource);
    }
    return resource;
  }

  /** Reads what is new in a session's log and batches what it becomes. */
  async #exportSession(t: Tracked): Promise<void> {
    const o = this.#o;
    if (!t.mapper) {
      // First look: skip a session already exported whole.
      t.checkpoint = this.#store.read(t.file.id);
      let size: number;
      try {
        size = Deno.statSync(t.file.path).size;
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) { // removed (gc) meanwhile
          t.done = true;
          return;
        }
        throw new ZigError(
          `Cannot read the session log at "${t.file.path}": ${
            (error as Error).message
          }`,
          { kind: "io", path: t.file.path, cause: error },
        );
      }
      if (t.checkpoint.spans_closed && t.checkpoint.log_size === size) {
        t.done = true;
        return;
      }
      if (o.since !== undefined) {
        const since = await this.#startedSince(t, o.since);
        if (since === undefined) return; // no first line yet: look again
        if (!since) {
          t.done = true;
          return;
        }
      }
      t.mapper = new SessionMapper(t.file.id, this.#resource(t.file.project));
    }
    const mapper = t.mapper;
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(t.file.path, { read: true });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return; // removed meanwhile
      throw new ZigError(
        `Cannot read the session log at "${t.file.path}": ${
          (error as Error).message
        }`,
        { kind: "io", path: t.file.path, cause: error },
      );
    }
    try {
      await this.#pump(t, file);
    } finally {
      file.close();
    }
    if (!mapper.closed && t.last) {
      const { state } = stateAfter(t.last, { since: t.startedTs ?? t.last.ts });
      if (state === "abandoned") {
        const s = this.#batch.session(t);
        s.upTo = Math.max(s.upTo, mapper.lastSeq);
        for (const span of mapper.abandon()) this.#addSpan(t, span, s);
      }
    }
    if (t.carry.length > 0 && (mapper.closed || this.#abandoned(t))) {
      // No writer will finish that line.
      this.#warnOnce(
        `${t.file.path}:torn`,
        `Line ${
          t.line + 1
        } of ${t.file.path} is torn: it has no newline (${t.carry.length} bytes, a write cut short), not exported`,
      );
    }
    if (this.#full()) await this.#flush();
  }

  /** Maps every new complete line of a session's log into the batch. */
  async #pump(t: Tracked, file: Deno.FsFile): Promise<void> {
    const mapper = t.mapper!;
    while (!this.#o.signal.aborted) {
      const events = this.#readChunk(t, file);
      if (events === undefined) break;
      for (const event of events) {
        const mapped = mapper.push(event);
        t.last = event;
        t.startedTs ??= event.ts;
        const s = this.#batch.session(t);
        s.upTo = event.seq;
        if (event.seq > t.checkpoint.logs_seq) {
          this.#batch.logs.push({ t, seq: event.seq, record: mapped.log });
          this.#batch.bytes += 200 + mapped.log.body.length;
        }
        for (const span of mapped.spans) this.#addSpan(t, span, s);
        if (this.#full()) await this.#flush();
      }
      t.consumedOffset = t.offset;
      t.consumedSeq = mapper.lastSeq;
    }
  }

  #abandoned(t: Tracked): boolean {
    return t.last !== undefined &&
      stateAfter(t.last, { since: t.startedTs ?? t.last.ts }).state ===
        "abandoned";
  }

  #addSpan(t: Tracked, mapped: MappedSpan, s: BatchSession): void {
    const cp = t.checkpoint;
    if (cp.spans_closed) return;
    if (mapped.endSeq !== undefined && mapped.endSeq <= cp.spans_seq) return;
    const closes = mapped.span.spanId === t.mapper?.rootSpanId;
    if (closes) s.closes = true;
    this.#batch.spans.push({ t, mapped, closes });
    this.#batch.bytes += 400;
  }

  #full(): boolean {
    return this.#batch.size >= this.#o.batchRecords ||
      this.#batch.bytes >= this.#o.batchBytes;
  }

  /** Whether the session started at or after `since`; undefined: unknown yet. */
  async #startedSince(t: Tracked, since: bigint): Promise<boolean | undefined> {
    const file = await Deno.open(t.file.path, { read: true });
    try {
      const buffer = new Uint8Array(64 * 1024);
      const n = await file.read(buffer) ?? 0;
      const text = decoder.decode(buffer.subarray(0, n));
      const newline = text.indexOf("\n");
      if (newline < 0) return n === buffer.length ? false : undefined;
      const ts = /"ts":"([^"]+)"/.exec(text.slice(0, newline))?.[1];
      return ts !== undefined && instant(ts) >= since;
    } finally {
      file.close();
    }
  }

  /**
   * The events of the next chunk of complete lines after `t.offset`, or
   * `undefined` at the end of the file. A line without its newline waits.
   */
  #readChunk(t: Tracked, file: Deno.FsFile): Event[] | undefined {
    const carry = t.carry;
    if (this.#buffer.length < carry.length + CHUNK) {
      this.#buffer = new Uint8Array(carry.length + CHUNK); // a long line
    }
    const buffer = this.#buffer;
    buffer.set(carry, 0);
    let filled = carry.length;
    try {
      file.seekSync(t.offset + carry.length, Deno.SeekMode.Start);
      while (filled < buffer.length) {
        const n = file.readSync(buffer.subarray(filled));
        if (n === null) break;
        filled += n;
      }
    } catch (error) {
      throw new ZigError(
        `Cannot read the session log at "${t.file.path}": ${
          (error as Error).message
        }`,
        { kind: "io", path: t.file.path, cause: error },
      );
    }
    if (filled === carry.length) return undefined;
    const bytes = buffer.subarray(0, filled);
    const lastNewline = bytes.lastIndexOf(10);
    if (lastNewline < 0) {
      t.carry = bytes.slice();
      return [];
    }
    t.carry = bytes.slice(lastNewline + 1);
    t.offset += lastNewline + 1;
    const text = decoder.decode(bytes.subarray(0, lastNewline));
    const events: Event[] = [];
    for (const line of text.split("\n")) {
      t.line++;
      let event: unknown;
      try {
        event = JSON.parse(line);
      } catch {
        if (line.trim() === "") continue;
        event = undefined;
      }
      const e = event as Event | undefined;
      if (
        e === null || typeof e !== "object" || typeof e.seq !== "number" ||
        typeof e.type !== "string" || typeof e.ts !== "string"
      ) {
        this.#warnOnce(
          `${t.file.path}:${t.line}`,
          `Line ${t.line} of ${t.file.path} is malformed: it is not an event with seq, ts and type; skipped it`,
        );
        continue;
      }
      events.push(e);
    }
    return events;
  }

  /**
   * Hands the batch over to be sent while reading goes on. One batch is in
   * flight at most, so they are sent and recorded in order.
   */
  async #flush(): Promise<void> {
    const batch = this.#batch;
    if (batch.sessions.size === 0) return;
    this.#batch = new Batch();
    if (this.#inFlight) await this.#inFlight;
    this.#inFlight = this.#send(batch);
    this.#inFlight.catch(() => {}); // rethrown where it is awaited
  }

  /** Sends what is batched and waits until everything is recorded. */
  async #drain(): Promise<void> {
    await this.#flush();
    const last = this.#inFlight;
    this.#inFlight = undefined;
    await last;
  }

  /** Sends (or prints) a batch, then records what was acknowledged. */
  async #send(batch: Batch): Promise<void> {
    const o = this.#o;
    if (o.dryRun) {
      const spans = batch.spans.map((e) => e.mapped.span);
      const logs = batch.logs.map((e) => e.record);
      if (spans.length > 0) o.out(JSON.stringify(tracesJson(spans)));
      if (logs.length > 0) o.out(JSON.stringify(logsJson(logs)));
      this.#count(batch, { spans: spans.length, logs: logs.length });
      for (const [t, s] of batch.sessions) this.#advance(t, s);
      return;
    }
    await this.#store.lock();
    try {
      // Another exporter may have sent some of it since: read again.
      for (const t of batch.sessions.keys()) {
        t.checkpoint = this.#store.read(t.file.id);
      }
      const spans: SpanData[] = [];
      for (const { t, mapped } of batch.spans) {
        const cp = t.checkpoint;
        if (cp.spans_closed) continue;
        if (mapped.endSeq !== undefined && mapped.endSeq <= cp.spans_seq) {
          continue;
        }
        spans.push(mapped.span);
      }
      const logs: LogRecordData[] = [];
      for (const { t, seq, record } of batch.logs) {
        if (seq > t.checkpoint.logs_seq) logs.push(record);
      }
      if (spans.length > 0) {
        const json = o.config.traces.protocol === "http/json";
        const partial = await deliver(o.config.traces, {
          body: json
            ? new TextEncoder().encode(JSON.stringify(tracesJson(spans)))
            : encodeTracesProtobuf(spans),
          what: `${spans.length} spans`,
        }, this.#policy);
        this.#partial(partial, "spans");
        for (const [t, s] of batch.sessions) {
          const cp = t.checkpoint;
          cp.spans_seq = Math.max(cp.spans_seq, s.upTo);
          if (s.closes) cp.spans_closed = true;
          if (logs.length > 0) this.#store.write(t.file.id, cp);
        }
      }
      if (logs.length > 0) {
        const json = o.config.logs.protocol === "http/json";
        const partial = await deliver(o.config.logs, {
          body: json ? encodeLogsJson(logs) : encodeLogsProtobuf(logs),
          what: `${logs.length} log records`,
        }, this.#policy);
        this.#partial(partial, "log records");
      }
      for (const [t, s] of batch.sessions) {
        this.#advance(t, s);
        this.#store.write(t.file.id, t.checkpoint);
      }
      this.#count(batch, { spans: spans.length, logs: logs.length });
    } finally {
      this.#store.unlock();
    }
  }

  /** The checkpoint once the batch's part of a session was acknowledged. */
  #advance(t: Tracked, s: BatchSession): void {
    const cp = t.checkpoint;
    cp.logs_seq = Math.max(cp.logs_seq, s.upTo);
    cp.spans_seq = Math.max(cp.spans_seq, s.upTo);
    if (s.closes) cp.spans_closed = true;
    if (s.upTo >= t.consumedSeq) cp.log_size = t.consumedOffset;
    if (
      t.mapper?.closed && cp.logs_seq >= t.mapper.lastSeq &&
      t.carry.length === 0 && this.#o.follow
    ) {
      // Nothing left to do: drop the state, keep the entry (not found again).
      t.done = true;
      t.mapper = undefined;
    }
  }

  #count(batch: Batch, sent: { spans: number; logs: number }): void {
    this.#summary.spans += sent.spans;
    this.#summary.logRecords += sent.logs;
    for (const t of batch.sessions.keys()) {
      if (!t.counted && (sent.spans > 0 || sent.logs > 0)) {
        t.counted = true;
        this.#summary.sessions++;
      }
    }
  }

  #partial(partial: PartialSuccess | undefined, what: string): void {
    if (!partial) return;
    this.#summary.rejected += partial.rejected;
    this.#o.warn(
      `The receiver accepted the request but rejected ${partial.rejected} ${what}${
        partial.message ? `: ${partial.message}` : ""
      } (not retried, as the OTLP specification says)`,
    );
  }

  /** Wakes on changes under the zig home (not our checkpoints) or a poll. */
  #watch(): { next(ms: number): Promise<void>; close(): void } {
    const exportDir = join(this.#o.home, "export");
    let watcher: Deno.FsWatcher | undefined;
    try {
      watcher = Deno.watchFs(this.#o.home, { recursive: true });
    } catch {
      watcher = undefined; // no home yet, or no notifications: poll
    }
    let changed: (() => void) | undefined;
    let pending = false;
    if (watcher) {
      (async () => {
        try {
          for await (const event of watcher) {
            if (event.paths.every((p) => p.startsWith(exportDir))) continue;
            pending = true;
            changed?.();
          }
        } catch {
          // Closed.
        }
      })();
    }
    const signal = this.#o.signal;
    return {
      next(ms: number) {
        if (pending) {
          pending = false;
          return Promise.resolve();
        }
        return new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            signal.removeEventListener("abort", done);
            changed = undefined;
            pending = false;
            resolve();
          };
          const timer = setTimeout(done, ms);
          changed = done;
          signal.addEventListener("abort", done, { once: true });
        });
      },
      close() {
        watcher?.close();
      },
    };
  }
}
