// The indexes of a zig home, and whether a project may be touched: what
// reindex and verify share.
import { join } from "node:path";
import {
  projectIndexPath,
  projectsDir,
  sessionsDirOfIndex,
} from "../../mod.ts";
// Internal to the package: confinement to the zig home.
import { escapeOf } from "../_confine.ts";

/** Every project index under a zig home, those of sessions outside git included. */
export function allProjectIndexes(home: string): string[] {
  const found: string[] = [projectIndexPath(home)];
  try {
    for (const item of Deno.readDirSync(projectsDir(home))) {
      if (item.isDirectory) {
        found.push(projectIndexPath(join(projectsDir(home), item.name)));
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return found.filter((path) => {
    try {
      Deno.statSync(sessionsDirOfIndex(path));
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Why a project's index or logs may not be touched: its `logs` or
 * `logs/sessions` folder resolves outside the zig home. `undefined` when both
 * lie inside it.
 */
export function outsideHome(
  indexPath: string,
  home: string,
): string | undefined {
  for (const path of [sessionsDirOfIndex(indexPath), indexPath]) {
    const escape = escapeOf(path, home);
    if (escape !== undefined) {
      return `"${path}" resolves to "${escape}", outside the zig home "${home}" (a symbolic link leads out of it): not read, not repaired`;
    }
  }
  return undefined;
}
