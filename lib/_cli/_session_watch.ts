// Internal to the CLI: how `listen` and `wait` watch sessions end: the
// newest session still running, the watchdog that notices a session
// abandoned, and which of several sessions ended first.
import { listSessions } from "../../mod.ts";
import {
  type Context,
  type FoundSession,
  instant,
  locateLog,
  newestFirst,
  scopeOf,
  type SessionState,
  sessionState,
} from "./common.ts";

/** The newest session of a scope still running, if any. */
export function activeSession(
  ctx: Context,
  global: boolean,
): FoundSession | undefined {
  const scope = scopeOf(ctx, global);
  return newestFirst(
    listSessions(scope.list).filter((e) =>
      e.status !== "success" && e.status !== "failure"
    ),
  )
    .map((entry) => ({ entry, logPath: locateLog(ctx, { entry, scope }) }))
    .filter((s): s is FoundSession => s.logPath !== undefined)
    .find((s) =>
      sessionState(s.entry, { logPath: s.logPath }).state === "running"
    );
}

/**
 * Checks every second whether a session has been abandoned (nothing written
 * to its log for 3 heartbeat intervals), and calls `onAbandoned` each time it
 * has. Returns the function that stops the watch.
 */
export function watchAbandoned(
  session: FoundSession,
  onAbandoned: () => void,
): () => void {
  const watchdog = setInterval(() => {
    if (
      sessionState(session.entry, { logPath: session.logPath }).state ===
        "abandoned"
    ) {
      onAbandoned();
    }
  }, 1000);
  return () => clearInterval(watchdog);
}

/**
 * Of the sessions that have already ended or been abandoned, the one that
 * ended first: the earliest end (for an abandoned one, when it was last heard
 * of), a failure before a success at the same instant.
 */
export function firstEnded(
  sessions: FoundSession[],
): { session: FoundSession; state: SessionState } | undefined {
  let best:
    | { session: FoundSession; state: SessionState; at: bigint }
    | undefined;
  for (const session of sessions) {
    const { state, lastTs } = sessionState(session.entry, {
      logPath: session.logPath,
    });
    if (state === "running") continue;
    const at = instant(session.entry.ended_at ?? lastTs);
    if (
      !best || at < best.at ||
      (at === best.at && best.state === "success" && state !== "success")
    ) {
      best = { session, state, at };
    }
  }
  return best;
}
