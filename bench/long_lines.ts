// Long lines, each command a fresh process: `list` and `record --session` on
// a running session whose last line is huge, `events --count` and `search` on
// a log holding one huge line. Prints wall time and peak RSS (GNU time).
//
//   deno run -A bench/long_lines.ts [LAST_LINE_MB...] [--single MB]
//
// Defaults: last lines of 10, 20 and 50 MB; a single line of 200 MB.
// Targets: list and record --session under 1 s with a 50 MB last line; the
// 200 MB line counted and searched in memory that does not grow with it.
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SessionWriter } from "../mod.ts";
import { CLI as CLI_PATH, CLI_FLAGS } from "../tests/cli/_helpers.ts";

const CLI = [...CLI_FLAGS, CLI_PATH];

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: { single: { type: "string", default: "200" } },
  allowPositionals: true,
});
const lastSizes = positionals.length > 0
  ? positionals.map(Number)
  : [10, 20, 50];
const singleMb = Number(values.single);

/** Runs the CLI under GNU time; returns seconds and peak RSS in MB. */
async function timed(label: string, args: string[], root: string) {
  const out = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "%e %M", Deno.execPath(), ...CLI, ...args],
    env: { ZIG_HOME: join(root, "zig") },
    cwd: join(root, "repo"),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(out.stderr).trim().split("\n");
  const [secs, kb] = err[err.length - 1].split(" ").map(Number);
  const status = out.success ? "" : `  (exit ${out.code}: ${err.at(-2)})`;
  console.log(
    `${label.padEnd(44)} ${secs.toFixed(2).padStart(6)} s ${
      (kb / 1024).toFixed(0).padStart(6)
    } MB peak RSS${status}`,
  );
  return new TextDecoder().decode(out.stdout);
}

/** A session whose last event carries a line of `mb` megabytes. */
function sessionWithLine(root: string, mb: number) {
  Deno.mkdirSync(join(root, "repo", ".git"), { recursive: true });
  const writer = SessionWriter.create({
    zigHome: join(root, "zig"),
    projectRoot: join(root, "repo"),
    cwd: join(root, "repo"),
    workflowName: "long-lines",
    workflowPath: "bench.zwf",
    tierCount: 1,
  });
  writer.stepOutput({
    stepName: "s",
    stream: "stdout",
    line: "x".repeat(Math.max(0, mb * 1e6 - 20)) + " needle " + "y".repeat(10),
  });
  writer.close();
  return writer.sessionId;
}

for (const mb of lastSizes) {
  const root = Deno.makeTempDirSync({ prefix: "zig-bench-long-" });
  try {
    const id = sessionWithLine(root, mb);
    await timed(`list, running, last line ${mb} MB`, ["list"], root);
    await timed(`record --session, last line ${mb} MB`, [
      "record",
      "--session",
      id,
      "--step",
      "b",
      "--",
      "true",
    ], root);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
}

const root = Deno.makeTempDirSync({ prefix: "zig-bench-long-" });
try {
  const id = sessionWithLine(root, singleMb);
  const count = await timed(
    `events --count, one ${singleMb} MB line`,
    ["events", id, "--count"],
    root,
  );
  if (count.trim() !== "2") console.log(`  counted ${count.trim()}, not 2`);
  await timed(
    `search (match), one ${singleMb} MB line`,
    ["search", "needle", "--session", id, "--json"],
    root,
  );
  await timed(
    `search (no match), one ${singleMb} MB line`,
    ["search", "absent", "--session", id],
    root,
  );
} finally {
  Deno.removeSync(root, { recursive: true });
}
