// `zig-session reindex`: rebuilding the indexes from the logs.
import {
  globalIndexPath,
  loadGlobalIndex,
  projectDirOfLog,
  rebuildIndex,
  updateGlobalIndex,
} from "../../mod.ts";
import type { ProblemHandler, SessionLogIndex } from "../../mod.ts";
import { progress, scopeOf, warn } from "./common.ts";
import { type CommandContext, defineCommand } from "./_command.ts";
import { allProjectIndexes, outsideHome } from "./_indexes.ts";

/** What `reindex` is asked. */
export interface ReindexFlags {
  /** Every project's index and the global one, not just this project's. */
  global: boolean;
}

/** `zig-session reindex`. */
export const reindex = defineCommand({
  name: "reindex",
  summary: "rebuild the indexes from the logs",
  details:
    `Rebuilds this project's index from its logs, and adds to the global index
this project's sessions it misses; with --global, rebuilds the global index and
every project's index. Entries then point at where the logs are now. A log
that another process removes meanwhile is left out with a warning.`,
  options: {
    global: {
      type: "boolean",
      help: "rebuild every project's index and the global one",
    },
  },
  flags: (values): ReindexFlags => ({ global: values.global }),
  run,
});

function run(flags: ReindexFlags, ctx: CommandContext): number {
  const { global } = flags;
  const scope = scopeOf(ctx, false);
  const indexes = (global ? allProjectIndexes(scope.home) : [scope.indexPath])
    .filter((path) => {
      const escape = outsideHome(path, scope.home);
      if (escape) ctx.err.write(`zig-session: warning: skipped: ${escape}\n`);
      return escape === undefined;
    });
  const onProblem = warn(ctx);
  const bar = progress(ctx, "reindexing");
  for (const [i, path] of indexes.entries()) {
    bar.tick(i, indexes.length);
    const index = rebuildIndex(path, { onProblem });
    bar.done();
    ctx.out.write(`${path}: ${index.sessions.length} session(s)\n`);
    if (!global) {
      const added = addMissingToGlobal(index as SessionLogIndex, {
        path: globalIndexPath(scope.home),
        onProblem,
      });
      if (added > 0) {
        ctx.out.write(
          `${
            globalIndexPath(scope.home)
          }: added ${added} session(s) of this project it missed\n`,
        );
      }
    }
  }
  if (global) {
    const path = globalIndexPath(scope.home);
    const index = rebuildIndex(path, { onProblem });
    ctx.out.write(`${path}: ${index.sessions.length} session(s)\n`);
  }
  return 0;
}

/**
 * Adds to the global index the sessions of a rebuilt project index that it
 * lacks (a writer killed between the two indexes); returns how many.
 */
function addMissingToGlobal(
  project: SessionLogIndex,
  options: { path: string; onProblem: ProblemHandler },
): number {
  const missing = (ids: Set<string>) =>
    project.sessions.some((e) => !ids.has(e.zig_session_id));
  const global = loadGlobalIndex(options.path, {
    onProblem: options.onProblem,
  });
  if (!missing(new Set(global.sessions.map((e) => e.zig_session_id)))) {
    return 0; // nothing to add: no need to take the lock and rewrite it
  }
  let added = 0;
  updateGlobalIndex(options.path, {
    onProblem: options.onProblem,
    update(index) {
      const known = new Set(index.sessions.map((e) => e.zig_session_id));
      for (const e of project.sessions) {
        if (known.has(e.zig_session_id)) continue;
        index.sessions.push({
          zig_session_id: e.zig_session_id,
          workflow_name: e.workflow_name,
          project: e.workspace_path ?? projectDirOfLog(e.log_path),
          log_path: e.log_path,
          started_at: e.started_at,
          ended_at: e.ended_at,
          status: e.status,
        });
        added++;
      }
    },
  });
  return added;
}
