// The reference's sessions (tests/fixtures/zig-home) as `zig listen` prints
// them, computed by hand from ../shared/docs/zig-listen-text.md.
import { join } from "node:path";
import { FIXTURE_HOME, FIXTURE_PROJECT } from "../_helpers.ts";

/** A log of the fixtures, by the start of its session id. */
export function fixtureLog(prefix: string): string {
  const local = join(FIXTURE_HOME, "logs", "sessions");
  const project = join(FIXTURE_PROJECT, "logs", "sessions");
  for (const dir of [project, local]) {
    for (const item of Deno.readDirSync(dir)) {
      if (item.name.startsWith(prefix)) return join(dir, item.name);
    }
  }
  throw new Error(`No fixture session starts with ${prefix}`);
}

// Computed by hand from the doc's table, event by event (undefined: zig
// prints nothing). wf-success has a tab and the control characters U+0001 and
// U+001F in an output line: zig prints them as they are.
export const SUCCESS_LINES: Array<string | undefined> = [
  "▶ zig session started: wf-success (2 tiers)",
  "── tier 1 (plan, lint)",
  "  running step 'plan' (zag exec model=sonnet, session=zag-1111)...",
  '[plan] hello\tworld \u0001\u001f "quoted" \\ back',
  "[plan] warn: 日本語 🚀",
  "  completed 'plan' in 1234ms (saved: plan_out, files)",
  "  skipping 'lint' (condition `x == 1` was false)",
  "── tier 2 (apply)",
  "  running step 'apply' (zag run, session=zag-2222)...",
  undefined, // heartbeat
  "  completed 'apply' in 0ms",
  "■ zig session ended (Success) in 0ms",
];

/** Each fixture session's events as zig's listen prints them. */
export const FIXTURE_LINES: Record<string, Array<string | undefined>> = {
  "94dc5b48": SUCCESS_LINES,
  "b5ac6738": SUCCESS_LINES, // the same workflow, started outside a repository
  "20a9856f": [
    "▶ zig session started: wf-failure (2 tiers)",
    "── tier 1 (build)",
    "  running step 'build' (zag exec model=opus, session=zag-3333)...",
    "  step 'build' failed (attempt 1): spawn failed: No such file or directory",
    "  step 'build' failed (attempt 2): killed",
    "■ zig session ended (Failure) in 0ms",
  ],
  "181f613a": [
    "▶ zig session started: wf-running (2 tiers)",
    "── tier 1 (long)",
    "  running step 'long' (zag exec, session=zag-4444)...",
  ],
  "da3919fc": [
    "▶ zig session started: wf-dropped (2 tiers)",
    "── tier 1 (x)",
    "■ zig session ended (Failure) in 0ms",
  ],
};
