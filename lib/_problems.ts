// Internal: where problems go when the caller gave no handler.
import type { ProblemHandler, SessionProblem } from "./types.ts";

/** Sends a problem to the handler, or to stderr when there is none. */
export function reportProblem(
  handler: ProblemHandler | undefined,
  problem: SessionProblem,
): void {
  if (handler) handler(problem);
  else console.warn(`zig-session: ${problem.message}`);
}
