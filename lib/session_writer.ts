/**
 * The session writer: appends one JSON line per event to a session log and
 * keeps the project and global indexes up to date.
 *
 * @module
 */
import { ZigError } from "./error.ts";
import { ensureDirSync, existsSync, fsError } from "./_fs.ts";
import { assertInsideHome, isSessionId, SESSION_ID_RULE } from "./_confine.ts";
import { normalizeKind, serializeEvent, wellFormed } from "./_event_json.ts";
import {
  clearPending,
  indexEntry,
  markPending,
  scopeOf,
} from "./_index_file.ts";
import { firstEvent, lastEventOfFile } from "./_log_summary.ts";
import { endedError, LogAppender } from "./_log_append.ts";
import {
  type IndexedSession,
  putSessionEntry,
  stampSessionEnd,
} from "./_session_indexes.ts";
import {
  globalIndexPath,
  projectDir,
  projectIndexPath,
  type ProjectOptions,
  sessionLogPath,
  sessionsDir,
  zigHome,
  type ZigHomeOptions,
} from "./paths.ts";
import { nowTimestamp, parseTimestamp } from "./timestamp.ts";
import type {
  OtherEventKind,
  OutputStream,
  ProblemHandler,
  SessionEventKind,
  SessionStatus,
} from "./types.ts";

/** Interval zig writes in `heartbeat` events. */
export const DEFAULT_HEARTBEAT_SECS = 10;

/** Options shared by {@linkcode SessionWriter.create} and {@linkcode SessionWriter.attach}. */
export interface WriterCommonOptions extends ZigHomeOptions {
  /**
   * Returns the current time as an RFC 3339 timestamp; every `ts`,
   * `started_at` and `ended_at` comes from it. Default: the system clock.
   */
  clock?: () => string;
  /**
   * Lock the log for every event and take `seq` from the file, so that
   * several processes can append to one session. Always on for attached
   * writers.
   */
  shared?: boolean;
  /** Told about a corrupt index or a torn log line. Default: stderr. */
  onProblem?: ProblemHandler;
}

/** Options of {@linkcode SessionWriter.create}: the reference's parameters, in camelCase. */
export interface SessionWriterOptions
  extends WriterCommonOptions, ProjectOptions {
  /** Name of the workflow. */
  workflowName: string;
  /** Path of the workflow file. */
  workflowPath: string;
  /** The prompt the workflow runs with. */
  prompt?: string | null;
  /** Number of tiers in the workflow. */
  tierCount: number;
  /** Returns a new session id. Default: `crypto.randomUUID()`. */
  createId?: () => string;
}

/** Options of {@linkcode SessionWriter.attach}. */
export interface AttachOptions extends WriterCommonOptions {
  /** The log of the session to append to. */
  logPath: string;
  /**
   * When the session started, as its index entries say (`started_at`): the
   * start of the duration {@linkcode SessionWriter.prototype.ended} records.
   * Default: the `ts` of the log's first event.
   */
  startedAt?: string;
}

/** Arguments of {@linkcode SessionWriter.prototype.stepStarted}. */
export interface StepStartedOptions {
  /** Name of the step. */
  stepName: string;
  /** Tier of the step. */
  tierIndex: number;
  /** Id of the agent session running the step. */
  zagSessionId: string;
  /** The command running the step. */
  zagCommand: string;
  /** Model used, if any. */
  model?: string | null;
  /** Start of the step's prompt. */
  promptPreview: string;
}

/** Arguments of {@linkcode SessionWriter.prototype.stepOutput}. */
export interface StepOutputOptions {
  /** Name of the step. */
  stepName: string;
  /** Stream the line came from. */
  stream: OutputStream;
  /** The line, without its newline. */
  line: string;
}

/** Arguments of {@linkcode SessionWriter.prototype.stepCompleted}. */
export interface StepCompletedOptions {
  /** Name of the step. */
  stepName: string;
  /** Exit code of the step's command. */
  exitCode: number;
  /** Duration in milliseconds. */
  durationMs: number;
  /** Names of the variables the step saved. Default: none. */
  savedVars?: string[];
}

/** Arguments of {@linkcode SessionWriter.prototype.stepFailed}. */
export interface StepFailedOptions {
  /** Name of the step. */
  stepName: string;
  /** Exit code, or `null` when the command did not start or was killed. */
  exitCode: number | null;
  /** Attempt number, from 1. */
  attempt: number;
  /** What went wrong. */
  error: string;
}

const encoder = new TextEncoder();

/** The start of a step's output events, as text and as bytes. */
interface OutputHead {
  stepName: string;
  /** `,"zig_session_id":…,"line":` */
  text: string;
  /** The text and the line's opening quote, encoded. */
  bytes: Uint8Array;
}

/**
 * Appends the events of one session to its log, one JSON line per event, each
 * line in a single write call that returns only once the line is in the file:
 * a reader sees every event as soon as the call returns. Writes are
 * synchronous on purpose: they cost a few microseconds.
 *
 * Only text zig can read is written: a lone surrogate in any string (of any
 * event kind, known or not, and of the index entries) becomes U+FFFD. A write
 * that fails part way (a full disk) is cut back, so the log still ends with
 * its last complete line, and throws. A shared writer appends nothing to a
 * session that has ended: it checks under the log's lock.
 *
 * @example Record a session
 * ```ts
 * import { SessionWriter } from "./session_writer.ts";
 *
 * const writer = SessionWriter.create({
 *   zigHome: Deno.makeTempDirSync(),
 *   projectRoot: "/src/shop",
 *   workflowName: "review",
 *   workflowPath: "review.zwf",
 *   tierCount: 1,
 * });
 * writer.tierStarted(0, ["plan"]);
 * writer.stepOutput({ stepName: "plan", stream: "stdout", line: "hello" });
 * writer.ended("success", 12);
 * console.log(writer.sessionId, writer.logPath);
 * ```
 */
export class SessionWriter {
  /** Id of the session. */
  readonly sessionId: string;
  /** Path of the session log. */
  readonly logPath: string;
  /** The zig home the session is indexed in. */
  readonly zigHome: string;
  #log: LogAppender;
  #clock: () => string;
  #onProblem: ProblemHandler | undefined;
  #quotedId: string;
  #stdoutHead: OutputHead | undefined;
  #stderrHead: OutputHead | undefined;
  #batchTs: string | undefined;
  #batchQuotedTs: string | undefined;
  /** The session's `started_at`: where its duration starts. */
  #startedAt: string | undefined;

  private constructor(
    init: {
      sessionId: string;
      logPath: string;
      zigHome: string;
      file: Deno.FsFile;
      options: WriterCommonOptions;
    },
  ) {
    this.sessionId = init.sessionId;
    this.logPath = init.logPath;
    this.zigHome = init.zigHome;
    this.#clock = init.options.clock ?? nowTimestamp;
    this.#onProblem = init.options.onProblem;
    this.#log = new LogAppender({
      sessionId: init.sessionId,
      logPath: init.logPath,
      zigHome: init.zigHome,
      file: init.file,
      shared: init.options.shared ?? false,
      onProblem: init.options.onProblem,
    });
    this.#quotedId = JSON.stringify(wellFormed(init.sessionId));
  }

  /**
   * Starts a new session: creates its log under the project's
   * `logs/sessions/`, writes `zig_session_started` and adds the session to the
   * project and global indexes. When an index cannot be written (a full
   * disk), the session still starts: the problem goes to `onProblem` as
   * `index_not_updated`, and the end of the session puts the entry back.
   *
   * @param options The workflow, and where and how to record.
   * @returns The writer of the new session.
   * @throws {ZigError} `permission` naming the flag to add when Deno denies
   * access; `io` when the log cannot be created or its first event cannot be
   * written (then no log is left behind).
   */
  static create(options: SessionWriterOptions): SessionWriter {
    const home = zigHome(options);
    const project = projectDir({ ...options, zigHome: home });
    const clock = options.clock ?? nowTimestamp;
    const sessionId = (options.createId ?? (() => crypto.randomUUID()))();
    if (!isSessionId(sessionId)) {
      throw new ZigError(
        `Invalid session id "${sessionId}": ${SESSION_ID_RULE}`,
        { kind: "parse" },
      );
    }
    // Check the first event before anything touches the disk.
    const started = normalizeKind({
      type: "zig_session_started",
      workflow_name: options.workflowName,
      workflow_path: options.workflowPath,
      workspace_path: project,
      cwd: options.cwd ?? Deno.cwd(),
      prompt: options.prompt ?? null,
      tier_count: options.tierCount,
    });
    // Nothing is created through a symbolic link that leads out of the home.
    assertInsideHome(sessionsDir(project), home);
    ensureDirSync(sessionsDir(project), home);
    const logPath = sessionLogPath(project, sessionId);
    const taken = (cause?: unknown) =>
      new ZigError(
        `Cannot create the session log "${logPath}": it already exists, the session id is taken`,
        { kind: "io", path: logPath, cause },
      );
    if (existsSync(logPath)) throw taken();
    // Marked pending beside both indexes before the log exists: a writer
    // killed before its entries are written leaves a session readers list,
    // never an invisible log. Each marker goes with its index's entry.
    const indexes = [projectIndexPath(project), globalIndexPath(home)];
    const unmark = () => {
      for (const path of indexes) clearPending(path, sessionId);
    };
    try {
      for (const path of indexes) {
        markPending(path, { id: sessionId });
      }
    } catch (error) {
      unmark();
      throw error;
    }
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(logPath, {
        read: true,
        append: true,
        createNew: true,
      });
    } catch (error) {
      if (error instanceof Deno.errors.AlreadyExists) throw taken(error);
      unmark();
      throw fsError(error, {
        action: "create the session log",
        path: logPath,
        grant: home,
      });
    }
    const writer = new SessionWriter({
      sessionId,
      logPath,
      zigHome: home,
      file,
      options,
    });
    const startedAt = clock();
    writer.#startedAt = startedAt;
    try {
      writer.emit(started as OtherEventKind);
    } catch (error) {
      // Nothing knows of this session yet: leave no empty log behind.
      writer.close();
      unmark();
      try {
        Deno.removeSync(logPath);
      } catch {
        // Already gone.
      }
      const reason = error instanceof Error ? error.message : String(error);
      throw new ZigError(
        `${reason}: session ${sessionId} was not started and its log removed`,
        {
          kind: error instanceof ZigError ? error.kind : "io",
          path: logPath,
          cause: error,
        },
      );
    }
    const fields = {
      id: sessionId,
      workflowName: options.workflowName,
      workflowPath: options.workflowPath,
      workspacePath: project,
      logPath,
      startedAt,
      endedAt: null,
      status: null,
    };
    for (const path of indexes) {
      putSessionEntry(writer.#session(), {
        path,
        entry: indexEntry(fields, scopeOf(path)),
      });
    }
    return writer;
  }

  /**
   * Opens an existing session's log to append more events, from this or
   * another process. The writer is shared: every event is written under a
   * lock on the log and takes the next `seq` from the file, so several
   * processes can append to one session and `seq` stays gapless and unique.
   * A torn last line (a writer killed mid-line) is ended with a newline first
   * and reported, so that no event is glued to it.
   *
   * @param options The log, the zig home and the clock.
   * @returns A writer that appends to the session.
   * @throws {ZigError} `not_found` when the log does not exist, `corrupt`
   * when it lies outside the zig home (after resolving symbolic links) or its
   * first line is no `zig_session_started` event, `io` when the session has
   * already ended.
   */
  static attach(options: AttachOptions): SessionWriter {
    const logPath = options.logPath;
    const home = zigHome(options);
    // Its end stamps the indexes the layout puts beside it: they must be
    // the zig home's too.
    assertInsideHome(logPath, home);
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(logPath, { read: true, append: true });
    } catch (error) {
      throw fsError(error, {
        action: "open the session log",
        path: logPath,
        grant: home,
      });
    }
    let first: Record<string, unknown> | undefined;
    let ended: string | undefined;
    try {
      // Only the first line and the tail: the last line may be long.
      first = firstEvent(file, file.statSync().size);
      ended = lastEventOfFile(file, logPath).ended;
    } catch (error) {
      file.close();
      throw fsError(error, { action: "read the session log", path: logPath });
    }
    if (
      first?.type !== "zig_session_started" ||
      typeof first.zig_session_id !== "string"
    ) {
      file.close();
      throw new ZigError(
        `Cannot append to "${logPath}": its first line is not a zig_session_started event, so it is no session log or its start is damaged`,
        { kind: "corrupt", path: logPath },
      );
    }
    const sessionId = first.zig_session_id;
    if (ended !== undefined) {
      file.close();
      throw endedError({ sessionId, logPath }, ended);
    }
    const writer = new SessionWriter({
      sessionId,
      logPath,
      zigHome: home,
      file,
      options: { ...options, shared: true },
    });
    writer.#startedAt = options.startedAt ??
      (typeof first.ts === "string" ? first.ts : undefined);
    return writer;
  }

  /** Whether the writer can still write (not ended or closed). */
  get open(): boolean {
    return this.#log.open;
  }

  /**
   * Writes any event kind, known or not, given in wire shape. Known kinds are
   * checked field by field (zig could not read a malformed one) and written in
   * zig's key order, with `null` for absent optional fields. A
   * `zig_session_ended` kind ends the session as {@linkcode SessionWriter.prototype.ended} does.
   *
   * @example Usage
   * ```ts
   * import { SessionWriter } from "./session_writer.ts";
   *
   * const writer = SessionWriter.create({
   *   zigHome: Deno.makeTempDirSync(),
   *   projectRoot: "/src/shop",
   *   workflowName: "w",
   *   workflowPath: "w.zwf",
   *   tierCount: 1,
   * });
   * writer.emit({ type: "step_output", step_name: "plan", stream: "stdout", line: "hi" });
   * writer.emit({ type: "agent_thought", text: "later kinds work too" });
   * writer.close();
   * ```
   *
   * @param kind The event kind, with its `type`.
   * @returns The event's `seq`.
   * @throws {ZigError} `parse` naming the field at fault; `io` when the
   * write fails (the log is cut back to its last complete line) or, for a
   * shared writer, when the session has ended meanwhile (the writer closes).
   */
  emit(kind: SessionEventKind | OtherEventKind): number {
    const normalized = normalizeKind(kind);
    const seq = this.#log.nextSeq();
    let line: string;
    try {
      line = serializeEvent(
        { seq, ts: this.#eventTs(), zig_session_id: this.sessionId },
        normalized,
      ) + "\n";
    } catch (error) {
      this.#log.abortSingle();
      throw error;
    }
    if (normalized.type !== "zig_session_ended") {
      return this.#log.push(seq, line);
    }
    // The end closes a batch: what it holds and the end are written at once.
    this.#log.push(seq, line, true);
    this.#stampEnded(normalized.status as SessionStatus);
    return seq;
  }

  /**
   * Records every event written inside `fn` in one write call (and, for a
   * shared writer, under one lock of the log): when `batch` returns, all of
   * them are in the file, in the order they were made, their `seq` gapless
   * and after every other process's. This is the fast way to record many
   * events at once, such as the lines of a command's output that arrived
   * together: one write instead of one per event. The events of a batch are
   * recorded at one instant: they share one `ts`, read from the clock when
   * the first of them is made (for a shared writer, under the lock, so that
   * `ts` follows `seq` across processes as it does event by event).
   *
   * All or nothing: when `fn` throws, nothing of the batch is written and the
   * error is thrown on; when the write fails (a full disk), the log is cut
   * back to its last complete line, none of the batch's events is in it and
   * their `seq` are given to the next events. Ending the session inside a
   * batch writes the events before the end at once with it; events after the
   * end are refused. A batch inside a batch is part of the outer one. `fn`
   * must be synchronous: a shared writer holds the log's lock while it runs.
   *
   * @example Record the lines of a chunk of output at once
   * ```ts
   * import { SessionWriter } from "./session_writer.ts";
   * import assert from "node:assert/strict";
   *
   * const writer = SessionWriter.create({
   *   zigHome: Deno.makeTempDirSync(),
   *   projectRoot: "/src/shop",
   *   workflowName: "w",
   *   workflowPath: "w.zwf",
   *   tierCount: 1,
   * });
   * const lines = ["compiling", "testing", "done"];
   * const seqs = writer.batch(() =>
   *   lines.map((line) =>
   *     writer.stepOutput({ stepName: "build", stream: "stdout", line })
   *   )
   * );
   * assert.deepEqual(seqs, [2, 3, 4]);
   * const text = Deno.readTextFileSync(writer.logPath);
   * assert.equal(text.split("\n").length, 5); // the start, 3 lines, and ""
   * writer.close();
   * ```
   *
   * @typeParam T What `fn` returns.
   * @param fn Records the events of the batch, synchronously.
   * @returns What `fn` returned.
   * @throws {ZigError} what an event inside `fn` throws; `io` when the write
   * fails (nothing of the batch is written) or, for a shared writer, when the
   * session has ended meanwhile (the writer closes); `parse` when `fn`
   * returns a promise (nothing of the batch is written).
   */
  batch<T>(fn: () => T): T {
    const log = this.#log;
    if (log.batching) return fn();
    log.batching = true;
    let result: T;
    try {
      result = fn();
    } catch (error) {
      log.abort();
      throw error;
    } finally {
      log.batching = false;
      this.#batchTs = this.#batchQuotedTs = undefined;
    }
    if (result instanceof Promise) {
      log.abort();
      throw new ZigError(
        `Cannot write the batch of session ${this.sessionId}: its function returned a promise, and a batch's function must be synchronous; record the events after the awaits, or make one batch per synchronous part`,
        { kind: "parse", path: this.logPath },
      );
    }
    if (log.begun) log.commit();
    return result;
  }

  /**
   * Records that a tier started.
   *
   * @param tierIndex Index of the tier, from 0.
   * @param stepNames Names of its steps.
   * @returns The event's `seq`.
   */
  tierStarted(tierIndex: number, stepNames: string[]): number {
    return this.emit({
      type: "tier_started",
      tier_index: tierIndex,
      step_names: stepNames,
    });
  }

  /**
   * Records that a step started.
   *
   * @param step The step.
   * @returns The event's `seq`.
   */
  stepStarted(step: StepStartedOptions): number {
    return this.emit({
      type: "step_started",
      step_name: step.stepName,
      tier_index: step.tierIndex,
      zag_session_id: step.zagSessionId,
      zag_command: step.zagCommand,
      model: step.model ?? null,
      prompt_preview: step.promptPreview,
    });
  }

  /**
   * Records one line of a step's output. This is the hot path: it builds the
   * line directly.
   *
   * @param output The step, the stream and the line.
   * @returns The event's `seq`.
   */
  stepOutput(output: StepOutputOptions): number {
    // Small, so that it is inlined where it is called and the options
    // object is never made.
    return this.#output(output.stepName, output.stream, output.line);
  }

  #output(stepName: string, stream: OutputStream, line: string): number {
    if (
      typeof stepName !== "string" || typeof line !== "string" ||
      (stream !== "stdout" && stream !== "stderr")
    ) {
      // Let emit name the field at fault.
      return this.emit({
        type: "step_output",
        step_name: stepName,
        stream,
        line,
      });
    }
    const log = this.#log;
    const seq = log.nextSeq();
    if (!log.batching && this.#clock === nowTimestamp) {
      // One event on our clock: written as bytes straight into the buffer,
      // making no string or object (no garbage to collect).
      return log.pushOutput(
        seq,
        this.#outputHead(stepName, stream).bytes,
        line,
      );
    }
    let ts: string;
    try {
      ts = this.#quotedTs();
    } catch (error) {
      this.#log.abortSingle();
      throw error;
    }
    // Lone surrogates become U+FFFD (zig cannot read them); a check that
    // costs nothing for one-byte strings.
    return this.#log.push(
      seq,
      '{"seq":' + seq + ',"ts":' + ts +
        this.#outputHead(stepName, stream).text +
        JSON.stringify(wellFormed(line)) + "}\n",
    );
  }
  /** The `,"zig_session_id":…,"line":` of a step and stream, kept. */
  #outputHead(stepName: string, stream: OutputStream): OutputHead {
    const cached = stream === "stdout" ? this.#stdoutHead : this.#stderrHead;
    if (cached?.stepName === stepName) return cached;
    const text =
      `,"zig_session_id":${this.#quotedId},"type":"step_output","step_name":${
        JSON.stringify(wellFormed(stepName))
      },"stream":"${stream}","line":`;
    const head = { stepName, text, bytes: encoder.encode(text + '"') };
    if (stream === "stdout") this.#stdoutHead = head;
    else this.#stderrHead = head;
    return head;
  }

  /** The time of an event: the clock's, read once for a whole batch. */
  #eventTs(): string {
    if (!this.#log.batching) return this.#clock();
    return this.#batchTs ??= this.#clock();
  }

  /** The time of an event, as a JSON string. */
  #quotedTs(): string {
    if (this.#log.batching && this.#batchQuotedTs !== undefined) {
      return this.#batchQuotedTs;
    }
    const ts = this.#eventTs();
    // Ours has nothing to escape.
    const quoted = this.#clock === nowTimestamp
      ? '"' + ts + '"'
      : JSON.stringify(wellFormed(ts));
    if (this.#log.batching) this.#batchQuotedTs = quoted;
    return quoted;
  }

  /**
   * Records that a step completed.
   *
   * @param step The step and its result.
   * @returns The event's `seq`.
   */
  stepCompleted(step: StepCompletedOptions): number {
    return this.emit({
      type: "step_completed",
      step_name: step.stepName,
      exit_code: step.exitCode,
      duration_ms: step.durationMs,
      saved_vars: step.savedVars ?? [],
    });
  }

  /**
   * Records that an attempt of a step failed.
   *
   * @param step The step and what went wrong.
   * @returns The event's `seq`.
   */
  stepFailed(step: StepFailedOptions): number {
    return this.emit({
      type: "step_failed",
      step_name: step.stepName,
      exit_code: step.exitCode,
      attempt: step.attempt,
      error: step.error,
    });
  }

  /**
   * Records that a step was skipped.
   *
   * @param stepName Name of the step.
   * @param reason Why.
   * @returns The event's `seq`.
   */
  stepSkipped(stepName: string, reason: string): number {
    return this.emit({
      type: "step_skipped",
      step_name: stepName,
      reason,
    });
  }

  /**
   * Records a heartbeat.
   *
   * @param intervalSecs Seconds until the next one. Default: 10, as zig.
   * @returns The event's `seq`.
   */
  heartbeat(intervalSecs: number = DEFAULT_HEARTBEAT_SECS): number {
    return this.emit({ type: "heartbeat", interval_secs: intervalSecs });
  }

  /**
   * Ends the session: writes `zig_session_ended`, stamps `ended_at` and
   * `status` into both indexes, and closes the log.
   *
   * A session's duration has one definition: from its `started_at` to its
   * end. Without `durationMs`, the event's `duration_ms` is exactly that:
   * the milliseconds (rounded down) from the `started_at` of the session's
   * index entries (for an attached writer, the one given to
   * {@linkcode SessionWriter.attach}, else its log's first event's `ts`) to
   * the end event's `ts`, which is also the `ended_at` stamped into both
   * indexes. So every reader, from the log or from an index, tells the same
   * figure. `durationMs` records a figure of the caller's own instead, as
   * zig's API does (zig's own logs measure from after the session was
   * created).
   *
   * @example Usage
   * ```ts
   * import { SessionWriter } from "./session_writer.ts";
   * import { listSessions } from "./list_sessions.ts";
   * import assert from "node:assert/strict";
   *
   * const zigHome = Deno.makeTempDirSync();
   * const writer = SessionWriter.create({
   *   zigHome,
   *   projectRoot: "/src/shop",
   *   workflowName: "w",
   *   workflowPath: "w.zwf",
   *   tierCount: 1,
   * });
   * writer.ended("success"); // duration_ms: from started_at to this end
   * const [entry] = listSessions({ zigHome, projectRoot: "/src/shop" });
   * assert.equal(entry.status, "success");
   * ```
   *
   * @param status How the session ended.
   * @param durationMs How long it ran, in milliseconds. Default: from the
   * session's `started_at` to this end, as described above.
   * @returns The event's `seq`.
   */
  ended(status: SessionStatus, durationMs?: number): number {
    if (durationMs !== undefined) {
      return this.emit({
        type: "zig_session_ended",
        status,
        duration_ms: Math.max(0, Math.round(durationMs)),
      });
    }
    // Checked before anything is written; the duration is known only once
    // the event's ts is taken, under the log's lock for a shared writer.
    const kind = normalizeKind({
      type: "zig_session_ended",
      status,
      duration_ms: 0,
    });
    const from = this.#startedAt === undefined
      ? undefined
      : parseTimestamp(this.#startedAt);
    const seq = this.#log.nextSeq();
    let endedAt: string;
    let line: string;
    try {
      endedAt = this.#eventTs();
      const to = parseTimestamp(endedAt);
      const ms = from === undefined || to === undefined || to < from
        ? 0
        : Number((to - from) / 1_000_000n);
      line = serializeEvent(
        { seq, ts: endedAt, zig_session_id: this.sessionId },
        { ...kind, duration_ms: ms },
      ) + "\n";
    } catch (error) {
      this.#log.abortSingle();
      throw error;
    }
    // The end closes a batch: what it holds and the end are written at once.
    this.#log.push(seq, line, true);
    this.#stampEnded(status, endedAt);
    return seq;
  }

  /** Closes the log and stamps how the session ended into both indexes. */
  #stampEnded(status: SessionStatus, endedAt?: string): void {
    this.close();
    stampSessionEnd(this.#session(), {
      status,
      endedAt: endedAt ?? this.#clock(),
    });
  }

  /** The session, as its indexes are kept. */
  #session(): IndexedSession {
    return {
      sessionId: this.sessionId,
      logPath: this.logPath,
      zigHome: this.zigHome,
      onProblem: this.#onProblem,
    };
  }

  /**
   * Closes the log without ending the session (another process may end it).
   * Inside a batch, the batch's events are written first.
   */
  close(): void {
    this.#log.close();
  }
}
