// Internal: an index file's lock, and replacing an index under it.
import { dirname } from "node:path";
import { wellFormedJson } from "./_event_json.ts";
import {
  listNamesSync,
  removeStaleTempsSync,
  replaceFileSync,
  type TempContent,
} from "./_fs.ts";
import { assertInsideHome, homeOfIndex } from "./_confine.ts";
import { rememberWrite } from "./_index_cache.ts";
import { type AnyIndex, sessionsLast } from "./_index_parse.ts";
import { removeResolvedMarkers } from "./_index_pending.ts";

/**
 * Replaces an index file, under its lock. `canonical` says the text is pretty
 * JSON whose last key is "sessions", so that a later splice may trust it
 * without parsing. Temporary files of writers that died holding the lock are
 * removed first; the pending markers of the sessions `indexed` says the new
 * text holds are removed after.
 */
export function writeIndexFile(
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
  rememberWrite(path, {
    canonical: options.canonical,
    tailValid: options.tailValid ?? false,
  });
  if (options.indexed) {
    removeResolvedMarkers(path, {
      names,
      indexed: options.indexed,
      rebuilt: options.rebuilt ?? false,
    });
  }
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
 * The lock of an index. Every locked operation on an index starts here, so
 * this is where the index is checked to lie inside its zig home after
 * resolving symbolic links: nothing beside it (lock, temporary file, corrupt
 * copy) is then read or written through a link that leads out of the home.
 */
export function lockPath(path: string): string {
  assertInsideHome(path, homeOfIndex(path));
  return `${path}.lock`;
}
