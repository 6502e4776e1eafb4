// Internal to the CLI: the sessions `search` looks through: the one named, or
// those of a scope (started since an instant, if given) whose logs exist.
import { listSessions } from "../../mod.ts";
import {
  type Context,
  type FoundSession,
  instant,
  LogFinder,
  newestFirst,
  resolveSession,
  scopeOf,
  type Warnings,
} from "./common.ts";

/** The sessions searched, newest first: the one named, or those of a scope. */
export function searchedSessions(
  ctx: Context,
  options: {
    session?: string;
    since?: bigint;
    global: boolean;
    warnings: Warnings;
  },
): FoundSession[] {
  const { global, since, warnings } = options;
  if (options.session !== undefined) {
    return [resolveSession(ctx, { id: options.session, global })];
  }
  const scope = scopeOf(ctx, global);
  const logs = new LogFinder(scope, warnings);
  return newestFirst(
    listSessions({ ...scope.list, onProblem: warnings.onProblem }),
  )
    .filter((e) => since === undefined || instant(e.started_at) >= since)
    .flatMap((entry) => {
      const logPath = logs.find(entry, { exists: true });
      return logPath === undefined ? [] : [{ entry, logPath }];
    });
}
