// Internal to the CLI: finding sessions and their logs: the scope of a
// command, many entries' logs at once, and the session a command names.
import { basename, dirname, join } from "node:path";
import {
  findSession,
  globalIndexPath,
  latestSession,
  listSessions,
  projectDir,
  projectIndexPath,
  resolveLogPath,
  summarizeLog,
  ZigError,
  zigHome,
} from "../../mod.ts";
import type { AnySessionEntry } from "../../mod.ts";
// Internal to the package: confinement to the zig home (one rule, one place).
import { assertInsideHome, escapeOf, layoutOf } from "../_confine.ts";
import { UsageError } from "./_args.ts";
import type { Context } from "./_context.ts";
import { warn, WARNING_KINDS, type Warnings } from "./_output.ts";

/**
 * Where a scope's index is, and the options to list it. The index must lie
 * inside the zig home after resolving symbolic links.
 */
export function scopeOf(ctx: Context, global: boolean) {
  const home = zigHome({ zigHome: ctx.zigHome });
  const indexPath = global
    ? globalIndexPath(home)
    : projectIndexPath(projectDir({ zigHome: home, cwd: ctx.cwd }));
  assertInsideHome(indexPath, home);
  return {
    home,
    indexPath,
    list: { zigHome: home, cwd: ctx.cwd, global, onProblem: warn(ctx) },
  };
}

/**
 * Finds the logs of many sessions fast. An entry's log is where the layout
 * puts it, and it must lie inside the zig home after resolving symbolic
 * links: the folder it is in is resolved once (not once per log), and a log
 * is itself resolved only when it is a symbolic link. After a few lookups in
 * one folder, the folder is listed once, so that a log that is gone costs no
 * failing system call (100,000 of them took 25 s). What cannot be followed
 * or is missing is counted in the {@linkcode Warnings}.
 */
export class LogFinder {
  #scope: { home: string; indexPath: string };
  #warnings: Warnings;
  #folders = new Map<string, {
    escape: string | undefined;
    lookups: number;
    names?: Map<string, boolean>;
  }>();

  /**
   * @param scope The zig home and the index the entries come from.
   * @param warnings Where missing logs and entries leading elsewhere count.
   */
  constructor(
    scope: { home: string; indexPath: string },
    warnings: Warnings,
  ) {
    this.#scope = scope;
    this.#warnings = warnings;
  }

  /**
   * Where an entry's log is, when it can be followed; `undefined`, with a
   * warning, when it leads out of the zig home or (with `exists`) is gone.
   */
  find(
    entry: AnySessionEntry,
    options: { exists?: boolean } = {},
  ): string | undefined {
    const found = this.locate(entry);
    if ("refused" in found) {
      this.#warnings.add(WARNING_KINDS.elsewhere, `skipped: ${found.refused}`);
      return undefined;
    }
    if (!found.exists && options.exists) {
      this.#warnings.add(
        WARNING_KINDS.missingLog,
        `skipped session ${entry.zig_session_id}: its log "${found.logPath}" does not exist`,
      );
      return undefined;
    }
    return found.logPath;
  }

  /**
   * Where an entry's log is and whether it exists; or, when the entry or
   * the log leads out of the zig home, why it is not followed.
   */
  locate(
    entry: AnySessionEntry,
  ): { logPath: string; exists: boolean } | { refused: string } {
    let logPath: string;
    try {
      logPath = layoutOf(entry, {
        home: this.#scope.home,
        indexPath: this.#scope.indexPath,
      }).logPath;
    } catch (error) {
      if (!(error instanceof ZigError && error.kind === "corrupt")) throw error;
      return { refused: error.message };
    }
    const folder = this.#folder(dirname(logPath));
    const refuse = (escape: string) => ({
      refused:
        `Refusing "${logPath}": it resolves to "${escape}", outside the zig home "${this.#scope.home}" (a symbolic link leads out of it), so it is not followed; remove the link or move the files into the zig home`,
    });
    if (folder.escape !== undefined) {
      return refuse(join(folder.escape, basename(logPath)));
    }
    let kind: "file" | "link" | "missing";
    if (folder.names) {
      const link = folder.names.get(basename(logPath));
      kind = link === undefined ? "missing" : link ? "link" : "file";
    } else {
      kind = lstatKind(logPath);
    }
    if (kind === "link") {
      const escape = escapeOf(logPath, this.#scope.home);
      if (escape !== undefined) return refuse(escape);
    }
    return { logPath, exists: kind !== "missing" };
  }

  #folder(path: string) {
    let folder = this.#folders.get(path);
    if (!folder) {
      folder = { escape: escapeOf(path, this.#scope.home), lookups: 0 };
      this.#folders.set(path, folder);
    }
    // Listing a folder costs about as much as a few dozen failing lookups.
    if (++folder.lookups === 32 && folder.escape === undefined) {
      folder.names = listNames(path);
    }
    return folder;
  }
}

function lstatKind(path: string): "file" | "link" | "missing" {
  try {
    return Deno.lstatSync(path).isSymlink ? "link" : "file";
  } catch (error) {
    if (
      error instanceof Deno.errors.NotFound ||
      error instanceof Deno.errors.NotADirectory
    ) return "missing";
    throw error;
  }
}

/** A folder's entries, each with whether it is a symbolic link. */
function listNames(path: string): Map<string, boolean> {
  const names = new Map<string, boolean>();
  try {
    for (const item of Deno.readDirSync(path)) {
      names.set(item.name, item.isSymlink);
    }
  } catch (error) {
    if (
      !(error instanceof Deno.errors.NotFound ||
        error instanceof Deno.errors.NotADirectory)
    ) throw error;
  }
  return names;
}

/**
 * Where an entry's log is, inside the zig home; `undefined`, with a warning
 * naming the entry, when the entry leads elsewhere (it is never followed).
 */
export function locateLog(
  ctx: Context,
  where: {
    entry: AnySessionEntry;
    scope: { home: string; indexPath: string };
    /** Where the warning counts; default: straight to stderr. */
    warnings?: Warnings;
  },
): string | undefined {
  try {
    return resolveLogPath(where.entry, {
      indexPath: where.scope.indexPath,
      zigHome: where.scope.home,
    });
  } catch (error) {
    if (!(error instanceof ZigError && error.kind === "corrupt")) throw error;
    if (where.warnings) {
      where.warnings.add(WARNING_KINDS.elsewhere, `skipped: ${error.message}`);
    } else ctx.err.write(`zig-session: warning: skipped: ${error.message}\n`);
    return undefined;
  }
}

/** A session found from the command line, with where its log is. */
export interface FoundSession {
  entry: AnySessionEntry;
  logPath: string;
}

/**
 * Finds the session a command names: an id or unique prefix, or the latest
 * with `--latest`. Looks in the current project, then every project.
 */
export function resolveSession(
  ctx: Context,
  options: { id?: string; latest?: boolean; global?: boolean },
): FoundSession {
  if (options.latest && options.id !== undefined) {
    throw new UsageError(
      `Give a session id or --latest, not both (got "${options.id}" and --latest)`,
    );
  }
  const scopes = options.global ? [true] : [false, true];
  let lastError: unknown;
  for (const global of scopes) {
    const scope = scopeOf(ctx, global);
    try {
      let entry: AnySessionEntry | undefined;
      if (options.latest) {
        entry = latestSession(listSessions(scope.list));
        if (!entry) {
          throw new ZigError(
            `No sessions yet in ${
              global ? "any project" : "this project"
            } (index ${scope.indexPath})`,
            { kind: "not_found" },
          );
        }
      } else {
        if (!options.id) {
          throw new UsageError(
            "Missing the session id: give an id, a prefix of one, or --latest",
          );
        }
        entry = findSession(options.id, scope.list);
      }
      return {
        entry,
        logPath: resolveLogPath(entry, {
          indexPath: scope.indexPath,
          zigHome: scope.home,
        }),
      };
    } catch (error) {
      if (!(error instanceof ZigError && error.kind === "not_found")) {
        throw error;
      }
      lastError = error;
    }
  }
  throw lastError;
}

/** The status a session's log ended with; `undefined` while it is open. */
export function endedStatus(logPath: string): string | undefined {
  const last = summarizeLog(logPath).last;
  return last?.type === "zig_session_ended" ? String(last.status) : undefined;
}
