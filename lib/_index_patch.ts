// Internal: one entry added or changed under the lock, spliced into the
// index's text or patched into its tail, without rewriting the whole index.
import { ZigError } from "./error.ts";
import { wellFormedJson } from "./_event_json.ts";
import { readRangeSync, withLockSync, writeAllSync } from "./_fs.ts";
import { identityOf, isOurTail, isOurWrite } from "./_index_cache.ts";
import {
  type AnyEntry,
  type AnyIndex,
  completeEntry,
  type IndexOptions,
  readIndexFile,
  type Scope,
  scopeOf,
  sessionsLast,
} from "./_index_parse.ts";
import { readLocked } from "./_index_rebuild.ts";
import { lockPath, writeIndex, writeIndexFile } from "./_index_write.ts";
import type { SessionStatus } from "./types.ts";

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
      trusted: isOurTail(path, info),
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
    const ours = isOurWrite(path, info);
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
