// `zig-session verify --repair` never removes a complete event: it leaves
// live sessions alone and decides what to cut under the log's lock.
import assert from "node:assert/strict";
import { join } from "node:path";
import { readSessionEvents, SessionWriter } from "../../mod.ts";
import {
  lines,
  projectFile,
  readText,
  RUN_WORKER,
  tempDir,
} from "../_helpers.ts";
import { cliCommand, runCli, workspace } from "./_helpers.ts";

/** The `.torn-…` files beside the logs of a project. */
function tornFiles(project: string): string[] {
  const dir = join(project, "logs", "sessions");
  return [...Deno.readDirSync(dir)].filter((e) => e.name.includes(".torn-"))
    .map((e) => join(dir, e.name));
}

function seqsOf(logPath: string): number[] {
  return lines(logPath).map((l) => JSON.parse(l).seq);
}

Deno.test("verify --repair looping beside a live writer of 1 MB events moves nothing aside", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const count = 60;
  // A command printing `count` lines of 1 MB, each one event of its own.
  const program = `const e = new TextEncoder();
for (let i = 0; i < ${count}; i++) {
  const b = e.encode(String(i).padStart(4, "0") + "x".repeat(1_000_000) + "\\n");
  let o = 0;
  while (o < b.length) o += Deno.stdout.writeSync(b.subarray(o));
}`;
  const writer = cliCommand(
    ["record", "--quiet", "--", Deno.execPath(), "eval", program],
    w.opts,
  ).spawn();
  let done = false;
  const finished = writer.output().finally(() => done = true);
  let runs = 0;
  while (!done || runs === 0) {
    await runCli(["verify", "--repair"], w.opts);
    runs++;
  }
  const result = await finished;
  assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
  const dir = join(w.project, "logs", "sessions");
  const logPath = join(
    dir,
    [...Deno.readDirSync(dir)].find((e) => e.name.endsWith(".jsonl"))!.name,
  );
  const seqs = seqsOf(logPath);
  assert.deepEqual(seqs, seqs.map((_, i) => i + 1), "seq is gapless");
  const outputs = (await readSessionEvents(logPath)).filter((e) =>
    e.type === "step_output"
  );
  assert.deepEqual(
    outputs.map((e) => e.type === "step_output" && Number(e.line.slice(0, 4))),
    [...Array(count).keys()],
    `every output line is there (${runs} verify runs)`,
  );
  assert.deepEqual(tornFiles(w.project), [], "nothing was moved aside");
  const clean = await runCli(["verify"], w.opts);
  assert.equal(clean.code, 0, clean.stdout);
});

/**
 * A session whose writer looks dead (nothing written for an hour) and whose
 * last line is half written; a worker holding the log's lock finishes that
 * line once verify has looked, then writes `more`.
 */
async function tornWhileLocked(
  root: string,
  more: (next: string) => { text: string; mtimeSecsAgo?: number },
) {
  const w = workspace(root);
  const hourAgo = new Date(Date.now() - 3_600_000);
  const anHourAgo = hourAgo.toISOString().replace("Z", "+00:00");
  const writer = SessionWriter.create({
    zigHome: w.home,
    cwd: w.repo,
    workflowName: "w",
    workflowPath: "w",
    tierCount: 1,
    clock: () => anHourAgo,
  });
  writer.stepOutput({ stepName: "s", stream: "stdout", line: "one" });
  writer.close();
  const id = writer.sessionId;
  const event = (seq: number) =>
    JSON.stringify({
      seq,
      ts: anHourAgo,
      zig_session_id: id,
      type: "step_output",
      step_name: "s",
      stream: "stdout",
      line: `line ${seq}`,
    });
  const third = event(3);
  const half = Math.floor(third.length / 2);
  Deno.writeTextFileSync(writer.logPath, third.slice(0, half), {
    append: true,
  });
  Deno.utimeSync(writer.logPath, hourAgo, hourAgo);
  const { text, mtimeSecsAgo } = more(event(4));
  const worker = new Deno.Command(Deno.execPath(), {
    args: [
      ...RUN_WORKER,
      projectFile("tests/workers/append_under_lock.ts"),
      writer.logPath,
      "1500",
      third.slice(half) + "\n" + text,
      ...(mtimeSecsAgo === undefined ? [] : [String(mtimeSecsAgo)]),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = worker.stdout.pipeThrough(new TextDecoderStream())
    .getReader();
  await readText(reader, { marker: "locked" });
  const verify = await runCli(["verify", "--repair"], w.opts);
  await reader.cancel();
  assert.equal((await worker.status).code, 0);
  return { w, logPath: writer.logPath, verify };
}

Deno.test("verify --repair re-checks under the lock: a line finished meanwhile is not cut", async () => {
  using tmp = tempDir();
  const { w, logPath, verify } = await tornWhileLocked(
    tmp.path,
    (next) => ({ text: next + "\n" }),
  );
  assert.match(verify.stdout, /torn/, "verify saw the half-written line");
  assert.deepEqual(seqsOf(logPath), [1, 2, 3, 4]);
  assert.deepEqual(tornFiles(w.project), [], verify.stdout);
});

Deno.test("verify --repair cuts only the unfinished bytes it finds under the lock", async () => {
  using tmp = tempDir();
  const { w, logPath, verify } = await tornWhileLocked(
    tmp.path,
    // Complete events, then a new unfinished line, by a writer that then
    // looks dead again.
    (next) => ({ text: next + "\n" + next.slice(0, 20), mtimeSecsAgo: 3600 }),
  );
  assert.match(verify.stdout, /moved 20 torn bytes/, verify.stdout);
  assert.deepEqual(seqsOf(logPath), [1, 2, 3, 4]);
  const aside = tornFiles(w.project);
  assert.equal(aside.length, 1);
  assert.equal(Deno.readTextFileSync(aside[0]).length, 20);
});
