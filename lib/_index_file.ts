// Internal: the index files' locked reads, changes and rebuilds.
import { basename, dirname, join } from "node:path";
import { ZigError } from "./error.ts";
import { wellFormedJson } from "./_event_json.ts";
import {
  existsSync,
  fsError,
  listNamesSync,
  readRangeSync,
  removeStaleTempsSync,
  replaceFileSync,
  type TempContent,
  withLockSync,
  writeAllSync,
  writeTempSync,
} from "./_fs.ts";
import { summarizeLog } from "./log_summary.ts";
import {
  assertInsideHome,
  escapeOf,
  homeOfIndex,
  layoutOf,
} from "./_confine.ts";
import { reportProblem } from "./_problems.ts";
import { compareTimestamps } from "./timestamp.ts";
import type {
  GlobalSessionEntry,
  ProblemHandler,
  SessionLogIndexEntry,
  SessionStatus,
} from "./types.ts";

/** Options of the index functions. */
export interface IndexOptions {
  /**
   * Told when an index did not parse and was rebuilt (its bytes kept
   * aside), or a log vanished while an index was rebuilt. Default: a warning
   * on stderr.
   */
  onProblem?: ProblemHandler;
}

/** Options of {@linkcode updateProjectIndex} and {@linkcode updateGlobalIndex}. */
export interface UpdateIndexOptions<T> extends IndexOptions {
  /** Changes the index in place, while the lock is held. */
  update: (index: T) => void;
}

export type Scope = "project" | "global";
export type AnyEntry = SessionLogIndexEntry | GlobalSessionEntry;
export type AnyIndex = { sessions: AnyEntry[] };

const REQUIRED: Record<Scope, readonly string[]> = {
  project: [
    "zig_session_id",
    "workflow_name",
    "workflow_path",
    "log_path",
    "started_at",
  ],
  global: [
    "zig_session_id",
    "workflow_name",
    "project",
    "log_path",
    "started_at",
  ],
};
const DEFAULTED: Record<Scope, readonly string[]> = {
  project: ["ended_at", "status", "workspace_path"],
  global: ["ended_at", "status"],
};

export function scopeOf(path: string): Scope {
  return basename(path) === "sessions_index.json" ? "global" : "project";
}

function invalidReason(value: unknown, scope: Scope): string | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return "it is not a JSON object";
  }
  const sessions = (value as { sessions?: unknown }).sessions;
  if (!Array.isArray(sessions)) return 'it has no "sessions" array';
  for (let i = 0; i < sessions.length; i++) {
    const entry = sessions[i];
    if (entry === null || typeof entry !== "object") {
      return `session ${i + 1} is not an object`;
    }
    for (const key of REQUIRED[scope]) {
      if (typeof entry[key] !== "string") {
        return `session ${i + 1} has no string "${key}"`;
      }
    }
    for (const key of DEFAULTED[scope]) {
      if (entry[key] === undefined) entry[key] = null;
    }
  }
  return undefined;
}

/** The offset of the first byte that makes `bytes` invalid UTF-8. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let lo = 0;
  let hi = bytes.length;
  // The longest valid prefix, by bisection (a cut inside a character counts
  // as invalid, which at most moves the answer back by 3 bytes).
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    try {
      strictDecoder.decode(bytes.subarray(0, mid));
      lo = mid;
    } catch {
      hi = mid - 1;
    }
  }
  return lo;
}

/** Parses an index file as read; no text is an empty index. */
function parseFile(file: IndexFile, scope: Scope) {
  return file.invalid !== undefined
    ? { error: file.invalid }
    : parseIndex(file.text ?? "", scope);
}

/** Parses index text; `undefined` text is an empty index. */
function parseIndex(
  text: string,
  scope: Scope,
): { index?: AnyIndex; error?: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { error: (error as Error).message };
  }
  const reason = invalidReason(value, scope);
  return reason ? { error: reason } : { index: value as AnyIndex };
}

function compactTime(): string {
  return new Date().toISOString().replace(/[-:]/g, "").replace(".", "-");
}

/**
 * Identity (device, inode, size, modification time) of each index file as
 * this process last wrote it. Every write replaces the file with a new inode,
 * so a file with the same identity is still the text we wrote and validated:
 * it need not be parsed again.
 */
const ourWrites = new Map<string, string>();

/**
 * Identity of each index file this process last wrote with a tail as zig
 * writes it (see patchTail): a patch of the same file need not check its tail
 * again.
 */
const ourTails = new Map<string, string>();

function identityOf(info: Deno.FileInfo): string {
  return `${info.dev}:${info.ino}:${info.size}:${info.mtime?.getTime()}`;
}

/** An index file as read. */
interface IndexFile {
  text?: string;
  /** Whether it is still what this process last wrote. */
  ours: boolean;
  /** Why the text is not what the file holds: invalid UTF-8, which zig cannot read. */
  invalid?: string;
}

const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * The text of an index file, and whether it is still what we last wrote.
 * Bytes that are not UTF-8 make it corrupt (zig reads no such index), so that
 * they are kept aside, never rewritten as U+FFFD.
 */
function readIndexFile(path: string): IndexFile {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { ours: false };
    throw fsError(error, { action: "read the index", path });
  }
  try {
    const info = file.statSync();
    const bytes = readRangeSync(file, { position: 0, length: info.size });
    const ours = ourWrites.get(path) === identityOf(info);
    try {
      return { text: strictDecoder.decode(bytes), ours };
    } catch {
      const at = firstInvalidUtf8(bytes);
      return {
        text: new TextDecoder().decode(bytes),
        ours: false,
        invalid: `it is not valid UTF-8 (byte ${at}), which zig cannot read`,
      };
    }
  } catch (error) {
    throw fsError(error, { action: "read the index", path });
  } finally {
    file.close();
  }
}

/**
 * Replaces an index file, under its lock. `canonical` says the text is pretty
 * JSON whose last key is "sessions", so that a later splice may trust it
 * without parsing. Temporary files of writers that died holding the lock are
 * removed first; the pending markers of the sessions `indexed` says the new
 * text holds are removed after.
 */
function writeIndexFile(
  path: string,
  options: {
    text: TempContent;
    canonical: boolean;
    /** The text ends in entry blocks as zig writes them (see patchTail). */
    tailValid?: boolean;
    indexed?: (id: string) => boolean;
    rebuilt?: boolean;
  },
): void {
  const names = listNamesSync(dirname(path));
  removeStaleTempsSync(path, names);
  replaceFileSync(path, options.text);
  ourWrites.delete(path);
  ourTails.delete(path);
  if (options.canonical || options.tailValid) {
    try {
      const identity = identityOf(Deno.statSync(path));
      if (options.canonical) ourWrites.set(path, identity);
      ourTails.set(path, identity);
    } catch {
      // Not knowing the identity only costs a parse next time.
    }
  }
  if (options.indexed) {
    removeResolvedMarkers(path, {
      names,
      indexed: options.indexed,
      rebuilt: options.rebuilt ?? false,
    });
  }
}

/** Whether "sessions" is the index's last key, as zig writes it. */
function sessionsLast(index: AnyIndex): boolean {
  const keys = Object.keys(index);
  return keys[keys.length - 1] === "sessions";
}

export function writeIndex(
  path: string,
  index: AnyIndex,
  options: { rebuilt?: boolean } = {},
): void {
  let ids: Set<string> | undefined;
  writeIndexFile(path, {
    text: wellFormedJson(JSON.stringify(index, null, 2)),
    canonical: sessionsLast(index),
    indexed: (id) =>
      (ids ??= new Set(index.sessions.map((e) => e.zig_session_id))).has(id),
    rebuilt: options.rebuilt,
  });
}

/**
 * Reads an index while its lock is held. A corrupt index is recovered:
 * its bytes are copied aside first, then the index rebuilt from the logs is
 * written to a temporary file and renamed over it. At every instant the index
 * is the corrupt file or the complete rebuild: a crash midway leaves the
 * corrupt index, recovered again by the next reader, and a rebuild that
 * cannot be written (a full disk) is an error that leaves it in place.
 */
function readLocked(
  path: string,
  options: {
    scope: Scope;
    onProblem: ProblemHandler | undefined;
    file?: IndexFile;
  },
): { index: AnyIndex; text?: string } {
  const { scope, onProblem } = options;
  const file = options.file ?? readIndexFile(path);
  const text = file.text;
  if (text === undefined) return { index: { sessions: [] } };
  const parsed = parseFile(file, scope);
  if (parsed.index) return { index: parsed.index, text };
  const aside = keepAside(path, parsed.error!);
  let index: AnyIndex;
  try {
    index = buildIndex(path, { scope, onProblem });
    writeIndex(path, index, { rebuilt: true });
  } catch (error) {
    // The corrupt index is still in place: a copy made now is not needed.
    if (aside.made) removeIfPresent(aside.path);
    throw cannotRebuild(path, { reason: parsed.error!, error });
  }
  reportProblem(onProblem, {
    kind: "corrupt_index",
    path,
    movedTo: aside.path,
    message:
      `The index ${path} did not parse (${parsed.error}): kept its bytes in ${aside.path} and rebuilt it from the logs (${index.sessions.length} sessions)`,
  });
  return { index };
}

function cannotRebuild(
  path: string,
  options: { reason: string; error: unknown },
): ZigError {
  const { reason, error } = options;
  const cause = fsError(error, { action: "rebuild the index", path });
  return new ZigError(
    `Cannot rebuild the corrupt index ${path} (${reason}), so it was left in place: ${cause.message}`,
    { kind: cause.kind, path, cause: error },
  );
}

function removeIfPresent(path: string): void {
  try {
    Deno.removeSync(path);
  } catch {
    // Already gone.
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Copies a corrupt index's bytes to `<index>.corrupt-<time>` (through a
 * temporary file, so that a crash never leaves a partial copy), unless an
 * earlier recovery that did not finish already kept the same bytes there.
 */
function keepAside(
  path: string,
  reason: string,
): { path: string; made: boolean } {
  const dir = dirname(path);
  const prefix = `${basename(path)}.corrupt-`;
  try {
    const bytes = Deno.readFileSync(path);
    for (const name of listNamesSync(dir)) {
      if (!name.startsWith(prefix)) continue;
      const other = join(dir, name);
      try {
        const info = Deno.lstatSync(other);
        if (!info.isFile || info.size !== bytes.length) continue;
        if (sameBytes(Deno.readFileSync(other), bytes)) {
          return { path: other, made: false };
        }
      } catch {
        // Vanished or unreadable: not a copy to rely on.
      }
    }
    let target = `${path}.corrupt-${compactTime()}`;
    for (let n = 2; existsSync(target); n++) {
      target = `${path}.corrupt-${compactTime()}-${n}`;
    }
    const temp = writeTempSync(path, bytes);
    try {
      Deno.renameSync(temp, target);
    } catch (error) {
      removeIfPresent(temp);
      throw error;
    }
    return { path: target, made: true };
  } catch (error) {
    throw cannotRebuild(path, { reason, error });
  }
}

/**
 * The lock of an index. Every locked operation on an index starts here, so
 * this is where the index is checked to lie inside its zig home after
 * resolving symbolic links: nothing beside it (lock, temporary file, corrupt
 * copy) is then read or written through a link that leads out of the home.
 */
export function lockPath(path: string): string {
  assertInsideHome(path, homeOfIndex(path));
  return `${path}.lock`;
}

export function loadIndex(
  path: string,
  options: IndexOptions & { scope: Scope },
) {
  const { scope } = options;
  assertInsideHome(path, homeOfIndex(path));
  const file = readIndexFile(path);
  if (file.text === undefined) return { sessions: [] };
  const parsed = parseFile(file, scope);
  if (parsed.index) return parsed.index;
  // Corrupt: recover under the lock (another process may have done it).
  return withLockSync(
    lockPath(path),
    () => readLocked(path, { scope, onProblem: options.onProblem }).index,
  );
}

export function updateIndex(
  path: string,
  options: UpdateIndexOptions<AnyIndex> & { scope: Scope },
): void {
  withLockSync(lockPath(path), () => {
    const { index } = readLocked(path, {
      scope: options.scope,
      onProblem: options.onProblem,
    });
    options.update(index);
    writeIndex(path, index);
  });
}

const CLOSING = "\n  ]\n}";

function entryBlock(entry: AnyEntry): string {
  return "    " +
    wellFormedJson(JSON.stringify(entry, null, 2)).replaceAll("\n", "\n    ");
}

/** What {@linkcode putEntry} does to an entry. */
interface PutEntryOptions extends IndexOptions {
  id: string;
  change: (old: AnyEntry | undefined) => AnyEntry | undefined;
  /**
   * The id is a new session's: when it is not in the index's tail, it is
   * appended without looking for it in the rest of the file.
   */
  fresh?: boolean;
}

/**
 * Inserts or replaces one entry under the lock. When the file is in the
 * pretty form zig writes, the change is spliced into its text instead of
 * serializing the whole index again; when the file is still the one this
 * process wrote, it is not even parsed again.
 */
function putEntry(path: string, scope: Scope, options: PutEntryOptions): void {
  withLockSync(lockPath(path), () => {
    if (patchTail(path, scope, options)) return;
    const file = readIndexFile(path);
    const indexed = (id: string) => id === options.id;
    if (file.ours && file.text !== undefined) {
      const spliced = spliceTrusted(file.text, options);
      if (spliced === null) return;
      if (spliced !== undefined) {
        return writeIndexFile(path, {
          text: spliced,
          canonical: true,
          indexed,
        });
      }
    }
    const { index, text } = readLocked(path, {
      scope,
      onProblem: options.onProblem,
      file,
    });
    const sessions = index.sessions;
    const at = sessions.findIndex((e) => e.zig_session_id === options.id);
    const old = at < 0 ? undefined : sessions[at];
    const next = options.change(old);
    if (next === undefined) return;
    if (text !== undefined) {
      const spliced = old === undefined
        ? spliceAppend(text, index, next)
        : spliceReplace(text, old, next);
      if (spliced !== undefined) {
        return writeIndexFile(path, {
          text: spliced,
          canonical: sessionsLast(index),
          indexed,
        });
      }
    }
    if (at < 0) sessions.push(next);
    else sessions[at] = next;
    writeIndex(path, index);
  });
}

/*
 * Patching a large index's tail. A writer adding or stamping one entry in an
 * index larger than TAIL_BYTES neither reads nor parses the whole file: it
 * checks the head and the last TAIL_BYTES (every entry block there is UTF-8,
 * parses, has its required fields and is byte for byte as zig pretty-prints
 * it, and the text ends as zig ends it), writes a copy of the index with the
 * tail changed and renames the copy over the index, under the lock. What lies
 * between the head and the tail is copied unread: corruption there is caught
 * by the next reader that parses the whole index (loadIndex: list, verify;
 * also a rebuild asked for), kept aside and rebuilt from the logs, the
 * patched-in session with it.
 */

/** How much of an index's end a writer reads and checks before patching it. */
const TAIL_BYTES = 64 * 1024;
const COPY_CHUNK = 64 * 1024;
const encoder = new TextEncoder();
const HEAD_BYTES = encoder.encode('{\n  "sessions": [\n    {\n');
const PRETTY_OPEN = '{\n  "sessions": [\n';
const BLOCK_START = encoder.encode("\n    {\n");
const BLOCK_END = encoder.encode("\n    }");
const TAIL_END = encoder.encode("\n    }" + CLOSING);

/** Where `needle` first occurs in `bytes` at or after `from`; -1 if nowhere. */
function indexOfBytes(bytes: Uint8Array, needle: Uint8Array, from: number) {
  const last = bytes.length - needle.length;
  for (let at = bytes.indexOf(needle[0], from); at >= 0 && at <= last;) {
    let i = 1;
    while (i < needle.length && bytes[at + i] === needle[i]) i++;
    if (i === needle.length) return at;
    at = bytes.indexOf(needle[0], at + 1);
  }
  return -1;
}

function startsWithBytes(bytes: Uint8Array, prefix: Uint8Array, at = 0) {
  if (at < 0 || at + prefix.length > bytes.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (bytes[at + i] !== prefix[i]) return false;
  }
  return true;
}

/** Whether an entry has the string fields its index requires. */
function completeEntry(entry: unknown, scope: Scope): entry is AnyEntry {
  if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
    return false;
  }
  const record = entry as Record<string, unknown>;
  return REQUIRED[scope].every((key) => typeof record[key] === "string");
}

/**
 * The entry blocks at the end of an index's last bytes, from the first block
 * that starts there to the closing: where they begin in `tail`, and their
 * text. `undefined` unless every one parses, has its index's fields and is
 * byte for byte as zig pretty-prints it, and the text ends as zig ends it;
 * only the last is checked when the tail is `trusted` (this process wrote it).
 */
function validTail(
  tail: Uint8Array,
  options: { scope: Scope; trusted: boolean },
): { from: number; text: string } | undefined {
  const close = tail.length - CLOSING.length;
  if (!startsWithBytes(tail, TAIL_END, close - BLOCK_END.length)) {
    return undefined;
  }
  // A block starts after "[\n" or "},\n": a newline never occurs inside a
  // JSON string, so this is the start of a block, not text inside one.
  const first = indexOfBytes(tail, BLOCK_START, 1);
  if (first < 0 || (tail[first - 1] !== 0x2c && tail[first - 1] !== 0x5b)) {
    return undefined;
  }
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(
      tail.subarray(first + 1, close),
    );
    if (options.trusted) return { from: first + 1, text };
    const entries = JSON.parse(`[${text}]`);
    if (!Array.isArray(entries) || entries.length === 0) return undefined;
    if (!entries.every((entry) => completeEntry(entry, options.scope))) {
      return undefined;
    }
    const pretty = JSON.stringify({ sessions: entries }, null, 2);
    return pretty === PRETTY_OPEN + text + CLOSING
      ? { from: first + 1, text }
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where the block of the entry with this id is in a validated tail, in bytes
 * of `tail`, and the entry; `undefined` when it is not there. The id is the
 * first key of a block, as zig writes it.
 */
function tailBlock(
  blocks: { from: number; text: string },
  id: string,
): { start: number; end: number; entry: AnyEntry } | undefined {
  const { from, text } = blocks;
  const key = `    {\n      "zig_session_id": ${JSON.stringify(id)},\n`;
  const start = text.lastIndexOf(key);
  if (start < 0 || (start > 0 && text[start - 1] !== "\n")) return undefined;
  // Entries are flat: the first closing brace at this depth ends the block.
  const end = text.indexOf("\n    }", start) + "\n    }".length;
  const block = text.slice(start, end);
  const bytesBefore = encoder.encode(text.slice(0, start)).length;
  return {
    start: from + bytesBefore,
    end: from + bytesBefore + encoder.encode(block).length,
    entry: JSON.parse(block),
  };
}

/** Thrown when the index changed while it was copied (a writer without the lock). */
class IndexChanged extends Error {}

/**
 * Adds or changes an entry by patching the tail of an index larger than
 * TAIL_BYTES (see above). Returns whether it did (or found nothing to do);
 * `false` sends the change to the path that reads the whole index: a small
 * or missing index, a head or tail not as zig writes them (perhaps corrupt,
 * recovered there), or an entry to stamp that is not in the tail.
 */
function patchTail(
  path: string,
  scope: Scope,
  options: PutEntryOptions,
): boolean {
  let source: Deno.FsFile;
  try {
    source = Deno.openSync(path, { read: true });
  } catch {
    return false; // missing, or an error the whole read reports
  }
  try {
    const info = source.statSync();
    const size = info.size;
    if (!info.isFile || size <= TAIL_BYTES) return false;
    const head = readRangeSync(source, {
      position: 0,
      length: HEAD_BYTES.length,
    });
    if (!startsWithBytes(head, HEAD_BYTES)) return false;
    const tailAt = size - TAIL_BYTES;
    const tail = readRangeSync(source, {
      position: tailAt,
      length: TAIL_BYTES,
    });
    if (tail.length !== TAIL_BYTES) return false;
    const blocks = validTail(tail, {
      scope,
      trusted: ourTails.get(path) === identityOf(info),
    });
    if (blocks === undefined) return false;
    const block = tailBlock(blocks, options.id);
    if (block === undefined && !options.fresh) return false;
    const next = options.change(block?.entry);
    if (next === undefined) return true;
    // The new index: the old one's bytes up to `keep`, `insert`, then the
    // old one's from `resume` (inside the tail, so already read).
    const keep = block ? tailAt + block.start : size - CLOSING.length;
    const resume = block ? tailAt + block.end : keep;
    const insert = encoder.encode((block ? "" : ",\n") + entryBlock(next));
    const ours = ourWrites.get(path) === identityOf(info);
    try {
      writeIndexFile(path, {
        text(copy) {
          copyPrefix(source, { to: copy, length: keep });
          writeAllSync(copy, insert);
          writeAllSync(copy, tail.subarray(resume - tailAt));
          if (identityOf(source.statSync()) !== identityOf(info)) {
            throw new IndexChanged();
          }
        },
        // Still all validated if it was before: only the tail changed.
        canonical: ours,
        tailValid: true,
        indexed: (id) => id === options.id,
      });
    } catch (error) {
      if (error instanceof ZigError && error.cause instanceof IndexChanged) {
        return false;
      }
      throw error;
    }
    return true;
  } finally {
    source.close();
  }
}

/** Copies the first `length` bytes of `from` to `to`. */
function copyPrefix(
  from: Deno.FsFile,
  options: { to: Deno.FsFile; length: number },
): void {
  const buffer = new Uint8Array(Math.min(COPY_CHUNK, options.length));
  from.seekSync(0, Deno.SeekMode.Start);
  for (let left = options.length; left > 0;) {
    const n = from.readSync(buffer.subarray(0, Math.min(buffer.length, left)));
    if (n === null) throw new IndexChanged(); // it got shorter meanwhile
    writeAllSync(options.to, buffer.subarray(0, n));
    left -= n;
  }
}

/**
 * Where the pretty block of the entry with this id stands in the text:
 * `null` when the id is not in the text, `undefined` when it is but not
 * inside a block shaped as zig writes it.
 */
function locateBlock(
  text: string,
  id: string,
): { start: number; end: number } | null | undefined {
  const at = text.indexOf(`"zig_session_id": ${JSON.stringify(id)}`);
  if (at < 0) return null;
  const start = text.lastIndexOf("\n    {", at) + 1;
  const close = text.indexOf("\n    }", at);
  if (start <= 0 || close < 0) return undefined;
  return { start, end: close + "\n    }".length };
}

/** The text with an entry added as the last of a non-empty pretty array. */
function appendBlock(text: string, entry: AnyEntry): string | undefined {
  const cut = text.length - CLOSING.length;
  if (!text.endsWith(CLOSING) || !text.endsWith("\n    }", cut)) {
    return undefined;
  }
  return text.slice(0, cut) + ",\n" + entryBlock(entry) + CLOSING;
}

/** The text with the block at `block` replaced by an entry's. */
function replaceBlock(
  text: string,
  block: { start: number; end: number; entry: AnyEntry },
): string {
  return text.slice(0, block.start) + entryBlock(block.entry) +
    text.slice(block.end);
}

/**
 * Splices a change into text this process wrote (so known valid and
 * canonical) without parsing it. Returns `null` for no change and
 * `undefined` when the text is not in the expected shape.
 */
function spliceTrusted(
  text: string,
  options: PutEntryOptions,
): string | null | undefined {
  const block = locateBlock(text, options.id);
  if (block === undefined) return undefined;
  if (block === null) {
    const next = options.change(undefined);
    return next === undefined ? null : appendBlock(text, next);
  }
  let old: AnyEntry;
  try {
    old = JSON.parse(text.slice(block.start, block.end));
  } catch {
    return undefined;
  }
  if (
    old.zig_session_id !== options.id ||
    text.slice(block.start, block.end) !== entryBlock(old)
  ) {
    return undefined;
  }
  const next = options.change(old);
  return next === undefined
    ? null
    : replaceBlock(text, { ...block, entry: next });
}

/** Splices a new entry into parsed, validated index text. */
function spliceAppend(
  text: string,
  index: AnyIndex,
  entry: AnyEntry,
): string | undefined {
  return index.sessions.length > 0 && sessionsLast(index)
    ? appendBlock(text, entry)
    : undefined;
}

/** Splices a changed entry into parsed, validated index text. */
function spliceReplace(
  text: string,
  old: AnyEntry,
  entry: AnyEntry,
): string | undefined {
  const block = locateBlock(text, old.zig_session_id);
  if (!block || text.slice(block.start, block.end) !== entryBlock(old)) {
    return undefined;
  }
  return replaceBlock(text, { ...block, entry });
}

/** The logs in `dir`; none when `dir` resolves outside the zig home. */
function listLogs(dir: string, home: string): string[] {
  const logs: string[] = [];
  if (escapeOf(dir, home) !== undefined) return logs; // never read
  try {
    for (const item of Deno.readDirSync(dir)) {
      if (item.isFile && item.name.endsWith(".jsonl")) {
        logs.push(join(dir, item.name));
      }
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return logs;
    throw fsError(error, { action: "list the session logs", path: dir });
  }
  return logs;
}

/** Every session log under a zig home, by project dir. */
function allLogs(home: string): Array<{ project: string; log: string }> {
  const found = listLogs(join(home, "logs", "sessions"), home).map((log) => ({
    project: home,
    log,
  }));
  const projects = join(home, "projects");
  if (existsSync(projects)) {
    try {
      for (const item of Deno.readDirSync(projects)) {
        if (!item.isDirectory) continue;
        const project = join(projects, item.name);
        for (const log of listLogs(join(project, "logs", "sessions"), home)) {
          found.push({ project, log });
        }
      }
    } catch (error) {
      throw fsError(error, { action: "list the projects", path: projects });
    }
  }
  return found;
}

interface LogFacts {
  id: string;
  workflow_name: string;
  workflow_path: string;
  workspace_path: string | null;
  started_at: string;
  ended_at: string | null;
  status: SessionStatus | null;
}

/**
 * What a log's first and last lines say, or `undefined` when it has no
 * `zig_session_started` first line or has vanished (reported when
 * `onProblem` is given: another process such as gc removed it meanwhile).
 */
function factsOf(
  log: string,
  onProblem?: ProblemHandler | false,
): LogFacts | undefined {
  let first: Record<string, unknown> | undefined;
  let last: Record<string, unknown> | undefined;
  try {
    ({ first, last } = summarizeLog(log));
  } catch (error) {
    if (!(error instanceof ZigError && error.kind === "not_found")) throw error;
    if (onProblem !== false) {
      reportProblem(onProblem, {
        kind: "vanished_log",
        path: log,
        message:
          `The session log ${log} vanished while it was being read (another process removed it): left it out`,
      });
    }
    return undefined;
  }
  if (!first || first.type !== "zig_session_started") return undefined;
  const ended = last?.type === "zig_session_ended" &&
    (last.status === "success" || last.status === "failure");
  return {
    id: String(first.zig_session_id ?? basename(log, ".jsonl")),
    workflow_name: String(first.workflow_name ?? ""),
    workflow_path: String(first.workflow_path ?? ""),
    workspace_path: typeof first.workspace_path === "string"
      ? first.workspace_path
      : null,
    started_at: String(first.ts ?? ""),
    ended_at: ended ? String(last!.ts) : null,
    status: ended ? last!.status as SessionStatus : null,
  };
}

/** The entry an index of `scope` has for a log of the project dir `project`. */
function entryOf(
  log: string,
  options: {
    scope: Scope;
    project: string;
    onProblem?: ProblemHandler | false;
  },
): AnyEntry | undefined {
  const f = factsOf(log, options.onProblem);
  if (!f) return undefined;
  const workspace = f.workspace_path ?? options.project;
  const common = {
    zig_session_id: f.id,
    workflow_name: f.workflow_name,
  };
  return options.scope === "project"
    ? {
      ...common,
      workflow_path: f.workflow_path,
      log_path: log,
      started_at: f.started_at,
      ended_at: f.ended_at,
      status: f.status,
      workspace_path: workspace,
    }
    : {
      ...common,
      project: workspace,
      log_path: log,
      started_at: f.started_at,
      ended_at: f.ended_at,
      status: f.status,
    };
}

/**
 * An index built from the logs. A log that vanishes meanwhile is left out
 * and reported to `onProblem` (default: a warning on stderr).
 */
export function buildIndex(
  path: string,
  options: { scope: Scope; onProblem?: ProblemHandler },
): AnyIndex {
  const { scope, onProblem } = options;
  const logs = scope === "project"
    ? listLogs(join(dirname(path), "sessions"), homeOfIndex(path)).map((
      log,
    ) => ({
      project: dirname(dirname(path)),
      log,
    }))
    : allLogs(dirname(path));
  const sessions: AnyEntry[] = [];
  for (const { project, log } of logs) {
    const entry = entryOf(log, { scope, project, onProblem });
    if (entry) sessions.push(entry);
  }
  sessions.sort((a, b) => compareTimestamps(a.started_at, b.started_at));
  return { sessions };
}

/**
 * Under the index's lock, before a rebuild replaces it: the index as it is,
 * or `undefined` when there is none or it does not parse; then its bytes are
 * kept aside first, as every recovery does (never overwritten).
 */
export function indexBeforeRebuild(
  path: string,
  options: { scope: Scope; onProblem?: ProblemHandler },
): AnyIndex | undefined {
  const file = readIndexFile(path);
  if (file.text === undefined) return undefined;
  const parsed = parseFile(file, options.scope);
  if (parsed.index) return parsed.index;
  const aside = keepAside(path, parsed.error!);
  reportProblem(options.onProblem, {
    kind: "corrupt_index",
    path,
    movedTo: aside.path,
    message:
      `The index ${path} did not parse (${parsed.error}): kept its bytes in ${aside.path} and rebuilt it from the logs`,
  });
  return undefined;
}

/**
 * Keeps in a rebuilt index the entries of the old one that the logs could
 * not give (a log whose first line is damaged) while the log is still where
 * the layout puts it, inside the zig home: a rebuild never drops a session
 * whose log is there. Entries that lead elsewhere are not kept.
 */
export function keepUnlisted(
  index: AnyIndex,
  options: { old: AnyIndex | undefined; path: string },
): void {
  if (!options.old) return;
  const home = homeOfIndex(options.path);
  const listed = new Set(index.sessions.map((e) => e.zig_session_id));
  let kept = false;
  for (const entry of options.old.sessions) {
    if (listed.has(entry.zig_session_id)) continue;
    let log: string;
    try {
      log = layoutOf(entry, { home, indexPath: options.path }).logPath;
      if (!Deno.lstatSync(log).isFile) continue;
    } catch {
      continue; // leads elsewhere, or gone
    }
    if (escapeOf(log, home) !== undefined) continue;
    index.sessions.push(entry);
    listed.add(entry.zig_session_id);
    kept = true;
  }
  if (kept) {
    index.sessions.sort((a, b) =>
      compareTimestamps(a.started_at, b.started_at)
    );
  }
}

/**
 * Adds a new session's entry (or replaces one with its id in the index's
 * tail: a new session's id is not looked for in the rest of a large index).
 */
export function putIndexEntry(
  path: string,
  options: IndexOptions & { entry: AnyEntry },
): void {
  const entry = options.entry;
  putEntry(path, scopeOf(path), {
    onProblem: options.onProblem,
    id: entry.zig_session_id,
    change: () => entry,
    fresh: true,
  });
}

/** What {@linkcode stampIndexEntry} did. */
export type StampResult = "stamped" | "restored" | "vanished";

/**
 * Stamps how a session ended into its entry. When the entry is gone (the
 * index was rebuilt or edited meanwhile), `restore` makes it again from the
 * log, under the lock; when the log is gone too (gc removed the ended
 * session meanwhile), nothing is written.
 */
export function stampIndexEntry(
  path: string,
  options: IndexOptions & {
    id: string;
    endedAt: string;
    status: SessionStatus;
    restore: () => AnyEntry | undefined;
  },
): StampResult {
  let result: StampResult = "vanished";
  putEntry(path, scopeOf(path), {
    onProblem: options.onProblem,
    id: options.id,
    change(old) {
      if (old === undefined) {
        const entry = options.restore();
        result = entry === undefined ? "vanished" : "restored";
        return entry;
      }
      result = "stamped";
      return { ...old, ended_at: options.endedAt, status: options.status };
    },
  });
  return result;
}

/** Throws unless `path` names an index file. */
export function assertIndexPath(path: string): void {
  const name = basename(path);
  if (name !== "index.json" && name !== "sessions_index.json") {
    throw new ZigError(
      `Not an index file: "${path}", expected logs/index.json or sessions_index.json`,
      { kind: "parse", path },
    );
  }
}

/*
 * Pending markers. A writer creates `<index>.pending-<id>` beside each index
 * before it creates a session's log, and the marker goes once the session's
 * entry is in that index. A writer killed in between leaves the marker: it
 * makes the log visible to readers (one small directory listing, not a scan
 * of every log) until the entry is restored.
 */

const PENDING = ".pending-";
/** A marker older than this without a listable log belongs to no live writer. */
const STALE_MARKER_MS = 60_000;

function pendingPrefix(indexPath: string): string {
  return basename(indexPath) + PENDING;
}

/** The ids of the sessions marked pending beside an index. */
function pendingIds(indexPath: string, names?: readonly string[]): string[] {
  const prefix = pendingPrefix(indexPath);
  return (names ?? listNamesSync(dirname(indexPath)))
    .filter((name) => name.startsWith(prefix))
    .map((name) => name.slice(prefix.length))
    .filter((id) => /^[A-Za-z0-9._-]+$/.test(id) && id !== "." && id !== "..");
}

/**
 * Where the log of a pending session is: beside a project index by the
 * layout, unless a link leads that out of the zig home; for the global index, wherever the layout has it under the zig
 * home (never elsewhere).
 */
function pendingLog(indexPath: string, id: string): string | undefined {
  const file = `${id}.jsonl`;
  if (scopeOf(indexPath) === "project") {
    const log = join(dirname(indexPath), "sessions", file);
    return escapeOf(log, homeOfIndex(indexPath)) === undefined
      ? log
      : undefined;
  }
  return findLogInLayout(dirname(indexPath), file);
}

/** Where the layout has the log `file` under a zig home, if anywhere. */
function findLogInLayout(home: string, file: string): string | undefined {
  const places = [join(home, "logs", "sessions", file)];
  for (const name of listNamesSync(join(home, "projects"))) {
    places.push(join(home, "projects", name, "logs", "sessions", file));
  }
  return places.find((path) =>
    existsSync(path) && escapeOf(path, home) === undefined
  );
}

/**
 * Marks a session as pending beside an index, before its log is created.
 *
 * @throws {ZigError} when the marker cannot be written.
 */
export function markPending(
  indexPath: string,
  options: { id: string },
): void {
  const marker = `${indexPath}${PENDING}${options.id}`;
  try {
    // Empty: it needs no room on a full disk; its name says everything.
    Deno.writeFileSync(marker, new Uint8Array(0), { createNew: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) removeIfPresent(marker);
    throw fsError(error, {
      action: "mark the new session in the index",
      path: marker,
      grant: dirname(indexPath),
    });
  }
}

/** Removes a session's pending marker beside an index, if there is one. */
export function clearPending(indexPath: string, id: string): void {
  removeIfPresent(`${indexPath}${PENDING}${id}`);
}

/**
 * Removes the markers of sessions the index now holds; after a rebuild from
 * every log, also the old markers of sessions it could not list (their log
 * never got a first line).
 */
function removeResolvedMarkers(
  indexPath: string,
  options: {
    names: readonly string[];
    indexed: (id: string) => boolean;
    rebuilt: boolean;
  },
): void {
  for (const id of pendingIds(indexPath, options.names)) {
    const marker = `${indexPath}${PENDING}${id}`;
    if (!options.indexed(id)) {
      if (!options.rebuilt) continue;
      try {
        const mtime = Deno.lstatSync(marker).mtime?.getTime() ?? Date.now();
        if (Date.now() - mtime < STALE_MARKER_MS) continue;
      } catch {
        continue;
      }
    }
    removeIfPresent(marker);
  }
}

/**
 * The entries of sessions marked pending beside an index but not in it,
 * read from their logs: sessions whose writer was killed (or failed) before
 * indexing them, or is indexing them right now. Sorted by start.
 */
export function pendingEntries(
  indexPath: string,
  sessions: readonly AnyEntry[],
): AnyEntry[] {
  const ids = pendingIds(indexPath);
  if (ids.length === 0) return [];
  const known = new Set(sessions.map((e) => e.zig_session_id));
  const scope = scopeOf(indexPath);
  const found: AnyEntry[] = [];
  for (const id of ids) {
    if (known.has(id)) continue;
    const log = pendingLog(indexPath, id);
    if (log === undefined) continue;
    const project = dirname(dirname(dirname(log)));
    let entry: AnyEntry | undefined;
    try {
      entry = entryOf(log, { scope, project, onProblem: false });
    } catch {
      continue; // unreadable: verify reports it
    }
    if (entry && entry.zig_session_id === id) found.push(entry);
  }
  return found.sort((a, b) => compareTimestamps(a.started_at, b.started_at));
}
