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
  type AnyEntry,
  clearPending,
  indexEntry,
  markPending,
  putIndexEntry,
  scopeOf,
  stampIndexEntry,
} from "./_index_file.ts";
import { firstEvent, lastEventOfFile } from "./_log_summary.ts";
import { summarizeLog } from "./log_summary.ts";
import { reportProblem } from "./_problems.ts";
import {
  globalIndexPath,
  projectDir,
  projectDirOfLog,
  projectIndexPath,
  type ProjectOptions,
  sessionLogPath,
  sessionsDir,
  zigHome,
  type ZigHomeOptions,
} from "./paths.ts";
import { nowTimestamp, parseTimestamp } from "./timestamp.ts";
import {
  TIME_ORIGIN,
  writeDigits,
  writeTimestamp,
} from "./_timestamp_bytes.ts";
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

/** Whether encoded JSON string content has a byte JSON must escape. */
function needsEscape(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte < 0x20 || byte === 0x22 || byte === 0x5c) return true;
  }
  return false;
}

/** Bytes of the reused write buffer; a bigger one made for a big write is let go. */
const BUFFER_BYTES = 16 * 1024;
const MAX_KEPT_BUFFER_BYTES = 4 * 1024 * 1024;
/** Writes up to this many bytes go through views made once per length. */
const MAX_VIEW_BYTES = 4096;
const NEWLINE = new Uint8Array([0x0a]);
const SEQ_OPEN = encoder.encode('{"seq":');
const TS_OPEN = encoder.encode(',"ts":');
/** `{"seq":`, the largest seq, `,"ts":`, the longest time, `"}\n`. */
const MAX_ENVELOPE_BYTES = 7 + 16 + 6 + 35 + 3;

function endedError(
  session: { sessionId: string; logPath: string },
  status: string,
): ZigError {
  return new ZigError(
    `Cannot write to session ${session.sessionId}: it has already ended (${status}) in "${session.logPath}", and nothing is written after a session's end`,
    { kind: "io", path: session.logPath },
  );
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
  #file: Deno.FsFile | undefined;
  #seq = 0;
  #clock: () => string;
  #shared: boolean;
  #onProblem: ProblemHandler | undefined;
  #buffer = new Uint8Array(BUFFER_BYTES);
  #quotedId: string;
  #knownSize = -1;
  #stdoutHead: OutputHead | undefined;
  #stderrHead: OutputHead | undefined;
  #views: Uint8Array[] = [];
  // The write being made: begun (for a shared writer: the log locked, its
  // tail checked) at its first event, written at the end of the event or of
  // the batch.
  #batching = false;
  #batchTs: string | undefined;
  #batchQuotedTs: string | undefined;
  #begun = false;
  #lines: string[] = []; // a batch's
  #length = 0; // bytes of a single event's line in #buffer
  #events = 0;
  #writingEvents = 0;
  #pendingSeq = 0;
  #baseSize = 0;
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
    this.#file = init.file;
    this.#clock = init.options.clock ?? nowTimestamp;
    this.#shared = init.options.shared ?? false;
    this.#onProblem = init.options.onProblem;
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
      writer.#putEntry(path, indexEntry(fields, scopeOf(path)));
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
    return this.#file !== undefined;
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
    const seq = this.#nextSeq();
    let line: string;
    try {
      line = serializeEvent(
        { seq, ts: this.#eventTs(), zig_session_id: this.sessionId },
        normalized,
      ) + "\n";
    } catch (error) {
      this.#abortSingle();
      throw error;
    }
    if (normalized.type !== "zig_session_ended") return this.#push(seq, line);
    // The end closes a batch: what it holds and the end are written at once.
    this.#push(seq, line, true);
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
    if (this.#batching) return fn();
    this.#batching = true;
    let result: T;
    try {
      result = fn();
    } catch (error) {
      this.#abort();
      throw error;
    } finally {
      this.#batching = false;
      this.#batchTs = this.#batchQuotedTs = undefined;
    }
    if (result instanceof Promise) {
      this.#abort();
      throw new ZigError(
        `Cannot write the batch of session ${this.sessionId}: its function returned a promise, and a batch's function must be synchronous; record the events after the awaits, or make one batch per synchronous part`,
        { kind: "parse", path: this.logPath },
      );
    }
    if (this.#begun) this.#commit();
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
    const seq = this.#nextSeq();
    if (!this.#batching && this.#clock === nowTimestamp) {
      // One event on our clock: written as bytes straight into the buffer,
      // making no string or object (no garbage to collect).
      const start = this.#writeHead(
        seq,
        this.#outputHead(stepName, stream).bytes,
      );
      if (this.#copyLine(line, start)) return this.#pushed(seq);
      // Something to escape: as JSON.stringify writes it, quotes included.
      this.#length = start - 1;
      return this.#push(seq, JSON.stringify(wellFormed(line)) + "}\n");
    }
    let ts: string;
    try {
      ts = this.#quotedTs();
    } catch (error) {
      this.#abortSingle();
      throw error;
    }
    // Lone surrogates become U+FFFD (zig cannot read them); a check that
    // costs nothing for one-byte strings.
    return this.#push(
      seq,
      '{"seq":' + seq + ',"ts":' + ts +
        this.#outputHead(stepName, stream).text +
        JSON.stringify(wellFormed(line)) + "}\n",
    );
  }

  /**
   * Writes `{"seq":…,"ts":"…"` and `head` at the start of the buffer, the
   * time read from our clock (its date and second formatted once a second);
   * returns where the line goes.
   */
  #writeHead(seq: number, head: Uint8Array): number {
    this.#length = 0;
    this.#ensure(MAX_ENVELOPE_BYTES + head.length);
    const buffer = this.#buffer;
    buffer.set(SEQ_OPEN, 0);
    let at = writeDigits(buffer, SEQ_OPEN.length, seq);
    buffer.set(TS_OPEN, at);
    at = writeTimestamp(
      buffer,
      at + TS_OPEN.length,
      TIME_ORIGIN + performance.now(),
    );
    buffer.set(head, at);
    return at + head.length;
  }

  /**
   * Copies a line that needs no escape into the buffer at `at`, and ends the
   * event there; returns false, having ended nothing, for a line that does.
   */
  #copyLine(line: string, at: number): boolean {
    this.#length = at;
    this.#ensure(line.length * 3 + 3);
    const buffer = this.#buffer;
    // Printable ASCII, as it is.
    const length = line.length;
    let i = 0;
    for (; i < length; i++) {
      const c = line.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) break;
      buffer[at + i] = c;
    }
    at += i;
    if (i < length) {
      // The rest encoded, a lone surrogate as U+FFFD (zig cannot read one).
      if (line.charCodeAt(i) <= 0x7e) return false;
      const rest = encoder.encodeInto(line.slice(i), buffer.subarray(at))
        .written;
      if (needsEscape(buffer.subarray(at, at + rest))) return false;
      at += rest;
    }
    buffer[at++] = 0x22; // "}\n
    buffer[at++] = 0x7d;
    buffer[at++] = 0x0a;
    this.#length = at;
    return true;
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
    if (!this.#batching) return this.#clock();
    return this.#batchTs ??= this.#clock();
  }

  /** The time of an event, as a JSON string. */
  #quotedTs(): string {
    if (this.#batching && this.#batchQuotedTs !== undefined) {
      return this.#batchQuotedTs;
    }
    const ts = this.#eventTs();
    // Ours has nothing to escape.
    const quoted = this.#clock === nowTimestamp
      ? '"' + ts + '"'
      : JSON.stringify(wellFormed(ts));
    if (this.#batching) this.#batchQuotedTs = quoted;
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
    const seq = this.#nextSeq();
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
      this.#abortSingle();
      throw error;
    }
    // The end closes a batch: what it holds and the end are written at once.
    this.#push(seq, line, true);
    this.#stampEnded(status, endedAt);
    return seq;
  }

  /**
   * Adds the session's entry to an index. The log is the record: when the
   * index cannot be written (a full disk), the session goes on and the
   * failure is reported; its end puts the entry back, and `reindex` can.
   */
  #putEntry(path: string, entry: AnyEntry): void {
    try {
      putIndexEntry(path, { onProblem: this.#onProblem, entry });
    } catch (error) {
      this.#indexNotUpdated(path, error);
    }
  }

  #indexNotUpdated(path: string, error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    reportProblem(this.#onProblem, {
      kind: "index_not_updated",
      path,
      message:
        `Session ${this.sessionId} is not up to date in the index ${path} (${reason}): its log ${this.logPath} is the record, zig-session reindex brings the index up to date`,
    });
  }

  /** Closes the log and stamps how the session ended into both indexes. */
  #stampEnded(status: SessionStatus, endedAt?: string): void {
    this.close();
    endedAt ??= this.#clock();
    const project = projectDirOfLog(this.logPath);
    const onProblem = this.#onProblem;
    const id = this.sessionId;
    for (
      const path of [projectIndexPath(project), globalIndexPath(this.zigHome)]
    ) {
      let result: "stamped" | "restored" | "vanished";
      try {
        result = stampIndexEntry(path, {
          onProblem,
          id,
          endedAt,
          status,
          // Under the index's lock: gc deletes logs under the project's.
          restore: () => this.#entryFromLog(path, { endedAt, status, project }),
        });
      } catch (error) {
        this.#indexNotUpdated(path, error);
        continue;
      }
      if (result === "stamped") continue;
      reportProblem(
        onProblem,
        result === "restored"
          ? {
            kind: "corrupt_index",
            path,
            message:
              `Session ${id} was missing from the index ${path}: added it back from its log`,
          }
          : {
            kind: "vanished_log",
            path: this.logPath,
            message:
              `Session ${id} ended, then its log vanished (another process such as gc removed it) before its end was stamped into ${path}: left it out of that index`,
          },
      );
    }
  }
  /** This session's entry in an index, from its log; none if the log is gone. */
  #entryFromLog(
    path: string,
    options: { endedAt: string; status: SessionStatus; project: string },
  ): AnyEntry | undefined {
    let first: Record<string, unknown>;
    try {
      first = summarizeLog(this.logPath).first ?? {};
    } catch (error) {
      if (error instanceof ZigError && error.kind === "not_found") {
        return undefined;
      }
      throw error;
    }
    const text = (key: string) =>
      typeof first[key] === "string" ? first[key] as string : "";
    // Built where every index entry is, so its keys are in zig's order.
    return indexEntry({
      id: this.sessionId,
      workflowName: text("workflow_name"),
      workflowPath: text("workflow_path"),
      workspacePath: text("workspace_path") || options.project,
      logPath: this.logPath,
      startedAt: text("ts"),
      endedAt: options.endedAt,
      status: options.status,
    }, scopeOf(path));
  }

  /**
   * Closes the log without ending the session (another process may end it).
   * Inside a batch, the batch's events are written first.
   */
  close(): void {
    try {
      if (this.#begun) this.#commit();
    } finally {
      this.#file?.close();
      this.#file = undefined;
    }
  }

  /**
   * The `seq` of the next event. Begins the write if none is being made: for
   * a shared writer, locks the log and takes `seq` from it.
   */
  #nextSeq(): number {
    if (!this.#begun) this.#begin();
    return this.#pendingSeq + 1;
  }

  /** Adds an event's line (with its newline); writes unless in a batch. */
  #push(seq: number, line: string, now = false): number {
    if (this.#batching) {
      this.#lines.push(line); // all encoded at once, in #commit
    } else {
      // After what the buffer holds: the start of the line, if it had to be
      // escaped.
      this.#ensure(line.length * 3);
      this.#length += encoder.encodeInto(
        line,
        this.#buffer.subarray(this.#length),
      ).written;
    }
    return this.#pushed(seq, now);
  }

  /** The event `seq` is ready: written now unless in a batch. */
  #pushed(seq: number, now = false): number {
    this.#pendingSeq = seq;
    this.#events++;
    if (!this.#batching || now) this.#commit();
    return seq;
  }

  /** Room in the buffer for `bytes` more bytes after the pending ones. */
  #ensure(bytes: number): void {
    const needed = this.#length + bytes;
    if (needed <= this.#buffer.length) return;
    const bigger = new Uint8Array(Math.max(needed, this.#buffer.length * 2));
    bigger.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = bigger;
    this.#views = [];
  }

  /** The first `length` bytes of the buffer: short ones made once per length. */
  #view(length: number): Uint8Array {
    if (length > MAX_VIEW_BYTES) return this.#buffer.subarray(0, length);
    return this.#views[length] ??= this.#buffer.subarray(0, length);
  }

  #begin(): void {
    const file = this.#file;
    if (file === undefined) {
      throw new ZigError(
        `Cannot write to session ${this.sessionId}: its writer is closed or the session has ended`,
        { kind: "io", path: this.logPath },
      );
    }
    if (!this.#shared) {
      this.#pendingSeq = this.#seq;
      this.#begun = true;
      return;
    }
    try {
      file.lockSync(true);
    } catch (error) {
      throw fsError(error, {
        action: "lock the session log",
        path: this.logPath,
      });
    }
    let refused: ZigError | undefined;
    try {
      // Unchanged since our own last write: seq follows ours, no need to look.
      const size = this.#sizeOf(file);
      if (size === this.#knownSize) {
        this.#pendingSeq = this.#seq;
        this.#baseSize = size;
      } else {
        let written = 0;
        const tail = lastEventOfFile(file, this.logPath);
        if (tail.ended !== undefined) {
          // Nothing after the end: checked under the lock, so no end event
          // can come between this check and the write.
          refused = endedError(this, tail.ended);
          throw refused;
        }
        if (tail.torn) {
          this.#writingEvents = 0;
          written += this.#write(file, NEWLINE);
          reportProblem(this.#onProblem, {
            kind: "torn_line",
            path: this.logPath,
            offset: tail.tornOffset,
            message:
              `The session log ${this.logPath} ended in a torn line at byte ${tail.tornOffset}: ended it with a newline so that new events stay readable`,
          });
        }
        this.#pendingSeq = Math.max(this.#seq, tail.seq);
        this.#baseSize = size + written;
      }
    } catch (error) {
      file.unlockSync();
      if (refused) this.close();
      throw error;
    }
    this.#begun = true;
  }

  /** Writes the lines of the write being made, in one call, and ends it. */
  #commit(): void {
    const lines = this.#lines;
    if (lines.length > 0) {
      // A batch's lines, encoded at once.
      const text = lines.length === 1 ? lines[0] : lines.join("");
      lines.length = 0;
      this.#ensure(text.length * 3);
      this.#length += encoder.encodeInto(
        text,
        this.#buffer.subarray(this.#length),
      ).written;
    }
    const bytes = this.#view(this.#length);
    this.#writingEvents = this.#events;
    this.#length = this.#events = 0;
    this.#begun = false;
    const file = this.#file!;
    try {
      const written = this.#write(file, bytes);
      // A big buffer, made for a big write, is let go.
      if (this.#buffer.length > MAX_KEPT_BUFFER_BYTES) {
        this.#buffer = new Uint8Array(BUFFER_BYTES);
        this.#views = [];
      }
      this.#seq = this.#pendingSeq;
      if (this.#shared) this.#knownSize = this.#baseSize + written;
    } finally {
      if (this.#shared) file.unlockSync();
    }
  }

  /** Drops the write being made, writing nothing. */
  #abort(): void {
    if (!this.#begun) return;
    this.#lines.length = 0;
    this.#length = this.#events = 0;
    this.#begun = false;
    if (this.#shared) this.#file?.unlockSync();
  }

  /** An event failed before it was added: drop the write if it was its own. */
  #abortSingle(): void {
    if (!this.#batching) this.#abort();
  }

  /**
   * The size of the log: where its end is. One `lseek`, where `statSync`
   * costs a `readlink` per folder of the path (Deno's permission check).
   * Appends go to the end wherever the position is; reads seek first.
   */
  #sizeOf(file: Deno.FsFile): number {
    try {
      return file.seekSync(0, Deno.SeekMode.End);
    } catch (error) {
      throw fsError(error, {
        action: "find the end of the session log",
        path: this.logPath,
      });
    }
  }

  /**
   * Writes the bytes (of #writingEvents events) whole; returns how many that
   * is. Cuts the log back if only part of them could be written.
   */
  #write(file: Deno.FsFile, bytes: Uint8Array): number {
    const events = this.#writingEvents;
    let offset = 0;
    try {
      while (offset < bytes.length) {
        offset += file.writeSync(offset === 0 ? bytes : bytes.subarray(offset));
      }
      return bytes.length;
    } catch (error) {
      const failure = fsError(error, {
        action: "append to the session log",
        path: this.logPath,
        grant: this.zigHome,
      });
      if (offset === 0) throw failure;
      // A short write (a full disk): remove its bytes, so that the log still
      // ends with its last complete line. Shared writers hold the lock here.
      let outcome: string;
      try {
        file.truncateSync(file.statSync().size - offset);
        outcome = `removed the ${offset} bytes of ${
          events > 1 ? `the batch of ${events} events` : "the event"
        } that were written`;
      } catch (cutError) {
        outcome = `the ${offset} bytes of ${
          events > 1 ? `the batch of ${events} events` : "the event"
        } that were written could not be removed (${
          cutError instanceof Error ? cutError.message : cutError
        }): zig-session verify --repair moves them aside`;
      }
      throw new ZigError(`${failure.message}; ${outcome}`, {
        kind: failure.kind,
        path: this.logPath,
        cause: error,
      });
    }
  }
}
