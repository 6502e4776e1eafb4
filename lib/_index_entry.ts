// Internal: an index entry as a log's first and last lines give it.
import { basename } from "node:path";
import { ZigError } from "./error.ts";
import { summarizeLog } from "./log_summary.ts";
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
  let first: Record<string, unknown> | undefined;
  let last: Record<string, unknown> | undefined;
  try {
    ({ first, last } = summarizeLog(log));
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
  if (!first || first.type !== "zig_session_started") return undefined;
  const ended = last?.type === "zig_session_ended" &&
    (last.status === "success" || last.status === "failure");
  return {
    id: String(first.zig_session_id ?? basename(log, ".jsonl")),
    workflow_name: String(first.workflow_name ?? ""),
    workflow_path: String(first.workflow_path ?? ""),
    workspace_path: typeof first.workspace_path === "string"
      ? first.workspace_path
      : null,
    started_at: String(first.ts ?? ""),
    ended_at: ended ? String(last!.ts) : null,
    status: ended ? last!.status as SessionStatus : null,
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
  const workspace = f.workspace_path ?? options.project;
  const common = {
    zig_session_id: f.id,
    workflow_name: f.workflow_name,
  };
  return options.scope === "project"
    ? {
      ...common,
      workflow_path: f.workflow_path,
      log_path: log,
      started_at: f.started_at,
      ended_at: f.ended_at,
      status: f.status,
      workspace_path: workspace,
    }
    : {
      ...common,
      project: workspace,
      log_path: log,
      started_at: f.started_at,
      ended_at: f.ended_at,
      status: f.status,
    };
}
