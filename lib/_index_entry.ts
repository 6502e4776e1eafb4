// Internal: an index entry as a log's first and last lines give it.
import { basename } from "node:path";
import { ZigError } from "./error.ts";
import { type LogSummary, summarizeLog } from "./log_summary.ts";
import { reportProblem } from "./_problems.ts";
import type { AnyEntry, Scope } from "./_index_parse.ts";
import type { ProblemHandler, SessionStatus } from "./types.ts";

interface LogFacts {
  id: string;
  workflow_name: string;
  workflow_path: string;
  workspace_path: string | null;
  started_at: string;
  ended_at: string | null;
  status: SessionStatus | null;
}

/**
 * What a log's first and last lines say, or `undefined` when it has no
 * `zig_session_started` first line or has vanished (reported when
 * `onProblem` is given: another process such as gc removed it meanwhile).
 */
function factsOf(
  log: string,
  onProblem?: ProblemHandler | false,
): LogFacts | undefined {
  let summary: LogSummary;
  try {
    summary = summarizeLog(log);
  } catch (error) {
    if (!(error instanceof ZigError && error.kind === "not_found")) throw error;
    if (onProblem !== false) {
      reportProblem(onProblem, {
        kind: "vanished_log",
        path: log,
        message:
          `The session log ${log} vanished while it was being read (another process removed it): left it out`,
      });
    }
    return undefined;
  }
  if (summary.firstType !== "zig_session_started") return undefined;
  const { ended } = summary;
  return {
    id: summary.sessionId ?? basename(log, ".jsonl"),
    workflow_name: summary.workflowName ?? "",
    workflow_path: summary.workflowPath ?? "",
    workspace_path: summary.workspacePath ?? null,
    started_at: summary.startedAt ?? "",
    ended_at: ended ? ended.ts ?? "" : null,
    status: ended?.status ?? null,
  };
}

/** What an index entry says of a session, whichever the index. */
export interface EntryFields {
  id: string;
  workflowName: string;
  workflowPath: string;
  /** The session's workspace: the project of a global entry. */
  workspacePath: string;
  logPath: string;
  startedAt: string;
  endedAt: string | null;
  status: SessionStatus | null;
}

/**
 * The entry of a session in an index of `scope`, its keys in the order zig
 * writes them (the order of the fields of zig's structs). Every index entry
 * is built here.
 */
export function indexEntry(fields: EntryFields, scope: Scope): AnyEntry {
  return scope === "project"
    ? {
      zig_session_id: fields.id,
      workflow_name: fields.workflowName,
      workflow_path: fields.workflowPath,
      log_path: fields.logPath,
      started_at: fields.startedAt,
      ended_at: fields.endedAt,
      status: fields.status,
      workspace_path: fields.workspacePath,
    }
    : {
      zig_session_id: fields.id,
      workflow_name: fields.workflowName,
      project: fields.workspacePath,
      log_path: fields.logPath,
      started_at: fields.startedAt,
      ended_at: fields.endedAt,
      status: fields.status,
    };
}

/** The entry an index of `scope` has for a log of the project dir `project`. */
export function entryOf(
  log: string,
  options: {
    scope: Scope;
    project: string;
    onProblem?: ProblemHandler | false;
  },
): AnyEntry | undefined {
  const f = factsOf(log, options.onProblem);
  if (!f) return undefined;
  return indexEntry({
    id: f.id,
    workflowName: f.workflow_name,
    workflowPath: f.workflow_path,
    workspacePath: f.workspace_path ?? options.project,
    logPath: log,
    startedAt: f.started_at,
    endedAt: f.ended_at,
    status: f.status,
  }, options.scope);
}
