// Internal to the CLI: removing sessions (their logs and index entries)
// under the index lock, never anything outside the zig home. What gc does
// once it has chosen.
import {
  globalIndexPath,
  projectDirOfLog,
  projectIndexPath,
  updateGlobalIndex,
  updateProjectIndex,
  ZigError,
} from "../../mod.ts";
import type { AnySessionEntry } from "../../mod.ts";
import { WARNING_KINDS, type Warnings } from "./common.ts";
// Internal to the package: confinement to the zig home.
import { assertInsideHome } from "../_confine.ts";

/** A session to remove: its entry, its log, and the log's size (`null`: gone). */
export interface Doomed {
  entry: AnySessionEntry;
  logPath: string;
  size: number | null;
}

/**
 * The project index of a log where the layout puts it (from
 * `resolveLogPath`, never an entry's `log_path`): `<project>/logs/index.json`.
 */
function indexOfLayoutLog(logPath: string): string {
  return projectIndexPath(projectDirOfLog(logPath));
}

/**
 * Removes the sessions' logs and their entries in the project and global
 * indexes, under each index's lock; a log leading out of the zig home is
 * skipped with a warning. Returns the ids of the sessions removed.
 */
export function removeSessions(
  doomed: Doomed[],
  where: {
    scope: { home: string; indexPath: string; list: { global: boolean } };
    warnings: Warnings;
  },
): Set<string> {
  const { scope, warnings } = where;
  const ids = new Set<string>();
  const byIndex = new Map<string, Doomed[]>();
  for (const d of doomed) {
    // The index the entry came from, or, from the global index, the project
    // index the layout puts beside its log.
    const index = scope.list.global
      ? indexOfLayoutLog(d.logPath)
      : scope.indexPath;
    const group = byIndex.get(index);
    if (group) group.push(d);
    else byIndex.set(index, [d]);
  }
  const onProblem = warnings.onProblem;
  for (const [indexPath, group] of byIndex) {
    updateProjectIndex(indexPath, {
      onProblem,
      update(index) {
        // Under the lock: delete the logs whose entries are going, each
        // checked again to lie inside the zig home.
        const mine = new Set<string>();
        for (const d of group) {
          try {
            // A log found gone needs no removing: only its entry goes.
            if (d.size !== null) {
              assertInsideHome(d.logPath, scope.home);
              Deno.removeSync(d.logPath);
            }
          } catch (error) {
            if (error instanceof ZigError) {
              warnings.add(
                WARNING_KINDS.elsewhere,
                `skipped: ${error.message}`,
              );
              continue;
            }
            if (!(error instanceof Deno.errors.NotFound)) throw error;
          }
          mine.add(d.entry.zig_session_id);
          ids.add(d.entry.zig_session_id);
        }
        index.sessions = index.sessions.filter((e) =>
          !mine.has(e.zig_session_id)
        );
      },
    });
  }
  updateGlobalIndex(globalIndexPath(scope.home), {
    onProblem,
    update(index) {
      index.sessions = index.sessions.filter((e) => !ids.has(e.zig_session_id));
    },
  });
  return ids;
}
