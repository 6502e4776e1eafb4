// Internal: a writer's session in the project and global indexes: its entry
// put at its start, and its end stamped (the entry put back from its log
// when it went missing).
import { ZigError } from "./error.ts";
import {
  type AnyEntry,
  indexEntry,
  putIndexEntry,
  scopeOf,
  stampIndexEntry,
} from "./_index_file.ts";
import { type LogSummary, summarizeLog } from "./log_summary.ts";
import { reportProblem } from "./_problems.ts";
import { globalIndexPath, projectDirOfLog, projectIndexPath } from "./paths.ts";
import type { ProblemHandler, SessionStatus } from "./types.ts";

/** The session a writer records, as its indexes are kept. */
export interface IndexedSession {
  sessionId: string;
  logPath: string;
  zigHome: string;
  onProblem: ProblemHandler | undefined;
}

/**
 * Adds the session's entry to an index. The log is the record: when the
 * index cannot be written (a full disk), the session goes on and the
 * failure is reported; its end puts the entry back, and `reindex` can.
 */
export function putSessionEntry(
  session: IndexedSession,
  options: { path: string; entry: AnyEntry },
): void {
  const { path, entry } = options;
  try {
    putIndexEntry(path, { onProblem: session.onProblem, entry });
  } catch (error) {
    indexNotUpdated(session, path, error);
  }
}

function indexNotUpdated(
  session: IndexedSession,
  path: string,
  error: unknown,
): void {
  const reason = error instanceof Error ? error.message : String(error);
  reportProblem(session.onProblem, {
    kind: "index_not_updated",
    path,
    message:
      `Session ${session.sessionId} is not up to date in the index ${path} (${reason}): its log ${session.logPath} is the record, zig-session reindex brings the index up to date`,
  });
}

/** Stamps how the session ended into both indexes. */
export function stampSessionEnd(
  session: IndexedSession,
  options: { status: SessionStatus; endedAt: string },
): void {
  const { status, endedAt } = options;
  const project = projectDirOfLog(session.logPath);
  const onProblem = session.onProblem;
  const id = session.sessionId;
  for (
    const path of [projectIndexPath(project), globalIndexPath(session.zigHome)]
  ) {
    let result: "stamped" | "restored" | "vanished";
    try {
      result = stampIndexEntry(path, {
        onProblem,
        id,
        endedAt,
        status,
        // Under the index's lock: gc deletes logs under the project's.
        restore: () =>
          entryFromLog(session, path, { endedAt, status, project }),
      });
    } catch (error) {
      indexNotUpdated(session, path, error);
      continue;
    }
    if (result === "stamped") continue;
    reportProblem(
      onProblem,
      result === "restored"
        ? {
          kind: "corrupt_index",
          path,
          message:
            `Session ${id} was missing from the index ${path}: added it back from its log`,
        }
        : {
          kind: "vanished_log",
          path: session.logPath,
          message:
            `Session ${id} ended, then its log vanished (another process such as gc removed it) before its end was stamped into ${path}: left it out of that index`,
        },
    );
  }
}

/** The session's entry in an index, from its log; none if the log is gone. */
function entryFromLog(
  session: IndexedSession,
  path: string,
  options: { endedAt: string; status: SessionStatus; project: string },
): AnyEntry | undefined {
  let summary: LogSummary;
  try {
    summary = summarizeLog(session.logPath);
  } catch (error) {
    if (error instanceof ZigError && error.kind === "not_found") {
      return undefined;
    }
    throw error;
  }
  // Built where every index entry is, so its keys are in zig's order.
  return indexEntry({
    id: session.sessionId,
    workflowName: summary.workflowName ?? "",
    workflowPath: summary.workflowPath ?? "",
    workspacePath: summary.workspacePath || options.project,
    logPath: session.logPath,
    startedAt: summary.startedAt ?? "",
    endedAt: options.endedAt,
    status: options.status,
  }, scopeOf(path));
}
