// Internal: the index files' locked reads, changes and rebuilds. The entry
// point of the `_index_*.ts` files.
import { withLockSync } from "./_fs.ts";
import { assertInsideHome, homeOfIndex } from "./_confine.ts";
import {
  type AnyIndex,
  type IndexOptions,
  parseFile,
  readIndexFile,
  type Scope,
  type UpdateIndexOptions,
} from "./_index_parse.ts";
import { readLocked } from "./_index_rebuild.ts";
import { lockPath, writeIndex } from "./_index_write.ts";

export {
  type AnyEntry,
  type AnyIndex,
  assertIndexPath,
  entryProblem,
  type IndexOptions,
  type Scope,
  scopeOf,
  type UpdateIndexOptions,
} from "./_index_parse.ts";
export { lockPath, writeIndex } from "./_index_write.ts";
export { type EntryFields, indexEntry } from "./_index_entry.ts";
export {
  buildIndex,
  indexBeforeRebuild,
  keepUnlisted,
} from "./_index_rebuild.ts";
export {
  putIndexEntry,
  stampIndexEntry,
  type StampResult,
} from "./_index_patch.ts";
export { clearPending, markPending, pendingEntries } from "./_index_pending.ts";
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
