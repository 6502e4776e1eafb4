// Internal: the append protocol of a session log. Every event's bytes go
// through here: encoded into a reused buffer (the step output hot path
// straight as bytes), written in one call, and, for a shared writer, under
// the log's lock with `seq` taken from the file's tail, a torn tail ended
// first, and nothing written after the session's end. A write that fails
// part way is cut back so the log ends with its last complete line.
import { ZigError } from "./error.ts";
import { fsError } from "./_fs.ts";
import { wellFormed } from "./_event_json.ts";
import { lastEventOfFile } from "./_log_summary.ts";
import { reportProblem } from "./_problems.ts";
import {
  TIME_ORIGIN,
  writeDigits,
  writeTimestamp,
} from "./_timestamp_bytes.ts";
import type { ProblemHandler } from "./types.ts";

const encoder = new TextEncoder();

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

/** The error of a write to a session that has ended. */
export function endedError(
  session: { sessionId: string; logPath: string },
  status: string,
): ZigError {
  return new ZigError(
    `Cannot write to session ${session.sessionId}: it has already ended (${status}) in "${session.logPath}", and nothing is written after a session's end`,
    { kind: "io", path: session.logPath },
  );
}

/**
 * Appends the encoded lines of one session's events to its log: what
 * the session writer writes through. An event begins a write
 * (`nextSeq`), adds its line (`push`, or `pushOutput` for step output as
 * bytes) and, unless `batching`, is written at once (`commit`); `abort`
 * drops the write being made.
 */
export class LogAppender {
  /** Id of the session, for messages. */
  readonly sessionId: string;
  /** Path of the log. */
  readonly logPath: string;
  /** The zig home, named as the grant to add when a write is denied. */
  readonly zigHome: string;
  /** Whether events are being gathered into one write (a batch). */
  batching = false;
  #file: Deno.FsFile | undefined;
  #seq = 0;
  #shared: boolean;
  #onProblem: ProblemHandler | undefined;
  #buffer = new Uint8Array(BUFFER_BYTES);
  #knownSize = -1;
  #views: Uint8Array[] = [];
  // The write being made: begun (for a shared writer: the log locked, its
  // tail checked) at its first event, written at the end of the event or of
  // the batch.
  #begun = false;
  #lines: string[] = []; // a batch's
  #length = 0; // bytes of a single event's line in #buffer
  #events = 0;
  #writingEvents = 0;
  #pendingSeq = 0;
  #baseSize = 0;

  constructor(
    init: {
      sessionId: string;
      logPath: string;
      zigHome: string;
      file: Deno.FsFile;
      shared: boolean;
      onProblem: ProblemHandler | undefined;
    },
  ) {
    this.sessionId = init.sessionId;
    this.logPath = init.logPath;
    this.zigHome = init.zigHome;
    this.#file = init.file;
    this.#shared = init.shared;
    this.#onProblem = init.onProblem;
  }

  /** Whether the log is still open. */
  get open(): boolean {
    return this.#file !== undefined;
  }

  /** Whether a write is being made (its events not yet written). */
  get begun(): boolean {
    return this.#begun;
  }

  /**
   * Adds a step output event made as bytes: `{"seq":…,"ts":"…"`, `head`
   * (ending with the line's opening quote) and the line; writes it unless in
   * a batch. The time is read from our clock.
   */
  pushOutput(seq: number, head: Uint8Array, line: string): number {
    const start = this.#writeHead(seq, head);
    if (this.#copyLine(line, start)) return this.pushed(seq);
    // Something to escape: as JSON.stringify writes it, quotes included.
    this.#length = start - 1;
    return this.push(seq, JSON.stringify(wellFormed(line)) + "}\n");
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

  /** Writes what the write being made holds, then closes the log. */
  close(): void {
    try {
      if (this.#begun) this.commit();
    } finally {
      this.#file?.close();
      this.#file = undefined;
    }
  }

  /**
   * The `seq` of the next event. Begins the write if none is being made: for
   * a shared writer, locks the log and takes `seq` from it.
   */
  nextSeq(): number {
    if (!this.#begun) this.#begin();
    return this.#pendingSeq + 1;
  }

  /** Adds an event's line (with its newline); writes unless in a batch. */
  push(seq: number, line: string, now = false): number {
    if (this.batching) {
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
    return this.pushed(seq, now);
  }

  /** The event `seq` is ready: written now unless in a batch. */
  pushed(seq: number, now = false): number {
    this.#pendingSeq = seq;
    this.#events++;
    if (!this.batching || now) this.commit();
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
  commit(): void {
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
  abort(): void {
    if (!this.#begun) return;
    this.#lines.length = 0;
    this.#length = this.#events = 0;
    this.#begun = false;
    if (this.#shared) this.#file?.unlockSync();
  }

  /** An event failed before it was added: drop the write if it was its own. */
  abortSingle(): void {
    if (!this.batching) this.abort();
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
