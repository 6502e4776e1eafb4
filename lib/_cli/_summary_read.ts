// Internal: `show` folds a log into its summary without parsing its output
// lines. A step_output line in zig's exact shape (certainly JSON, see
// ../_raw_event.ts) only adds to its step's count and moves the last
// timestamp: runs of them are recognised in one native pass each; every other
// line is parsed and folded as before.
import type { ProblemHandler, SessionLogEvent } from "../../mod.ts";
import { parseEventLine } from "../_line_parser.ts";
import { readBlocks } from "../_log_lines.ts";
import { OUTPUT_STEP, outputRunOf } from "../_raw_event.ts";
import type { SummaryBuilder } from "./format.ts";

/** At most this many steps get a run expression of their own. */
const RUNS = 64;

/** Folds every event of a log into `builder`, reporting bad lines. */
export function foldLog(
  path: string,
  options: { builder: SummaryBuilder; onProblem: ProblemHandler },
): void {
  const { builder, onProblem } = options;
  const runs = new Map<string, RegExp>();
  // What `add` reads of a step_output event: its type, ts and step.
  const output = {
    seq: 0,
    ts: "",
    zig_session_id: "",
    type: "step_output",
    step_name: "",
    stream: "stdout",
    line: "",
  } as SessionLogEvent & { type: "step_output" };
  let run: RegExp | undefined; // the current step's runs of output lines
  const block = (text: string, first: number): number => {
    let line = first;
    for (let start = 0; start < text.length;) {
      if (run !== undefined) {
        run.lastIndex = start;
        run.test(text);
        const end = run.lastIndex;
        if (end > start) {
          let last = start;
          let n = 0;
          for (; start < end; n++) {
            last = start;
            start = text.indexOf("\n", start) + 1;
          }
          OUTPUT_STEP.lastIndex = last;
          output.ts = OUTPUT_STEP.exec(text)![1];
          for (let i = 0; i < n; i++) builder.add(output);
          line += n;
          if (start >= text.length) break;
        }
      }
      OUTPUT_STEP.lastIndex = start;
      const m = OUTPUT_STEP.exec(text);
      if (m !== null) {
        output.ts = m[1];
        output.step_name = m[2];
        builder.add(output);
        run = runs.get(m[2]);
        if (run === undefined && runs.size < RUNS) {
          runs.set(m[2], run = outputRunOf(m[2]));
        }
        start = OUTPUT_STEP.lastIndex + 1;
        line++;
        continue;
      }
      const newline = text.indexOf("\n", start);
      const event = parseEventLine(text.slice(start, newline), {
        path,
        line,
        onProblem,
      });
      if (event !== undefined) builder.add(event);
      start = newline + 1;
      line++;
    }
    return line - first;
  };
  readBlocks(path, { block }, { onProblem });
}
