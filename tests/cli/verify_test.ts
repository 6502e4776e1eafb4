import assert from "node:assert/strict";
import {
  loadProjectIndex,
  projectIndexPath,
  readSessionEvents,
  SessionWriter,
} from "../../mod.ts";
import {
  ageLog,
  copyFixtureHome,
  lines,
  projectFile,
  readText,
  RUN_WORKER,
  tempDir,
} from "../_helpers.ts";
import { cliCommand, cliProcess, runCli, workspace } from "./_helpers.ts";
import { join } from "node:path";
import { hostileHome, snapshot } from "./_hostile.ts";

Deno.test("verify flags events written after the session's end", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const writer = SessionWriter.create({
    zigHome: w.home,
    projectRoot: w.repo,
    workflowName: "w",
    workflowPath: "w.zwf",
    tierCount: 1,
  });
  writer.stepOutput({ stepName: "s", stream: "stdout", line: "before" });
  writer.ended("success", 1);
  const clean = await runCli(["verify"], w.opts);
  assert.equal(clean.code, 0, clean.stdout);
  // What a writer that did not check for the end (an older version) left.
  const late = (seq: number) =>
    JSON.stringify({
      seq,
      ts: new Date().toISOString().replace("Z", "+00:00"),
      zig_session_id: writer.sessionId,
      type: "step_output",
      step_name: "s",
      stream: "stdout",
      line: "late",
    }) + "\n";
  Deno.writeTextFileSync(writer.logPath, late(4) + late(5), { append: true });
  const r = await runCli(["verify"], w.opts);
  assert.equal(r.code, 1, r.stdout);
  assert.match(
    r.stdout,
    /line 4: 2 event\(s\) written after the session ended at line 3/,
  );
});

Deno.test("verify --repair never reads or cuts files that a symlinked sessions folder leads to", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const writer = SessionWriter.create({
    zigHome: w.home,
    cwd: w.repo,
    workflowName: "real",
    workflowPath: "real.zwf",
    tierCount: 1,
  });
  writer.ended("success", 1);
  // The sessions folder now leads outside, to files that are no session logs.
  const outside = join(tmp.path, "outside");
  const sessions = join(w.project, "logs", "sessions");
  Deno.renameSync(sessions, outside);
  Deno.symlinkSync(outside, sessions);
  Deno.writeTextFileSync(join(outside, "notes.jsonl"), '{"a":1}\n{"b":');
  const before = snapshot(outside);

  // A real process, with the executable's permissions.
  for (
    const args of [["verify", "--repair"], ["verify", "--repair", "--global"]]
  ) {
    const r = await cliProcess(args, w.opts);
    assert.equal(r.code, 1, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
    assert.deepEqual(snapshot(outside), before);
    assert.ok(
      r.stdout.includes(
        `"${sessions}" resolves to "${outside}", outside the zig home`,
      ),
      r.stdout,
    );
    assert.doesNotMatch(r.stdout, /notes\.jsonl|^repaired /m);
  }
});

Deno.test("verify --repair never cuts a log that is a hard link to another file", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const writer = SessionWriter.create({
    zigHome: w.home,
    cwd: w.repo,
    workflowName: "real",
    workflowPath: "real.zwf",
    tierCount: 1,
  });
  writer.close();
  // Torn, and a second name of a file outside the zig home.
  const victim = join(tmp.path, "victim.jsonl");
  Deno.writeTextFileSync(
    victim,
    Deno.readTextFileSync(writer.logPath) + '{"seq":2,"ty',
  );
  Deno.removeSync(writer.logPath);
  Deno.linkSync(victim, writer.logPath);
  ageLog(writer.logPath, 3600); // dead, or repair would leave it alone anyway
  const before = Deno.readTextFileSync(victim);
  const r = await runCli(["verify", "--repair"], w.opts);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /Not repairing ".*": it has 2 hard links/);
  assert.equal(Deno.readTextFileSync(victim), before);
  assert.deepEqual(
    [...Deno.readDirSync(tmp.path)].map((e) => e.name).sort(),
    ["repo", "victim.jsonl", "zig"],
  );
});

Deno.test("verify reports index entries that lead out of the zig home; --repair drops them", async () => {
  using tmp = tempDir();
  const h = hostileHome(tmp.path);
  const before = snapshot(h.outside);
  const r = await runCli(["verify"], h.opts);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  for (const id of Object.values(h.ids)) {
    // Once in the project index, once in the global one.
    const lines = r.stdout.split("\n").filter((l) =>
      l.includes(id) && l.includes("is not followed")
    );
    assert.equal(lines.length, 2, r.stdout);
  }
  const repaired = await runCli(["verify", "--repair", "--global"], h.opts);
  assert.equal(repaired.code, 0, repaired.stdout + repaired.stderr);
  assert.deepEqual(
    loadProjectIndex(projectIndexPath(h.project)).sessions.map((e) =>
      e.zig_session_id
    ),
    [h.realId],
  );
  assert.deepEqual(snapshot(h.outside), before);
});

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

Deno.test("verify: bytes that are not UTF-8 are reported with their line", async () => {
  using tmp = tempDir();
  const { home, repo, opts } = workspace(tmp.path);
  const w = SessionWriter.create({
    zigHome: home,
    projectRoot: repo,
    workflowName: "utf8",
    workflowPath: "w.zwf",
    tierCount: 1,
  });
  w.stepOutput({
    stepName: "s",
    stream: "stdout",
    line: "a real \ufffd, MARK",
  });
  w.ended("success", 1);
  const clean = await runCli(["verify"], opts);
  assert.equal(clean.code, 0, clean.stdout);
  // "MARK" becomes "M", 0xff, "RK": the same length, no longer UTF-8.
  const bytes = Deno.readFileSync(w.logPath);
  const text = new TextDecoder().decode(bytes);
  const at = new TextEncoder().encode(text.slice(0, text.indexOf("MARK")))
    .length;
  assert.equal(bytes[at + 1], "A".charCodeAt(0));
  bytes[at + 1] = 0xff;
  Deno.writeFileSync(w.logPath, bytes);
  const r = await runCli(["verify"], opts);
  assert.equal(r.code, 1, r.stdout);
  assert.match(
    r.stdout,
    /✗ .*\.jsonl: line 2: bytes that are not UTF-8 \(zig cannot read the log\)/,
  );
  assert.match(r.stdout, /1 problem\(s\) in 1 log\(s\)/);
});

Deno.test("verify: a lone surrogate escape (half an emoji, as older writers left) is reported with its line", async () => {
  using tmp = tempDir();
  const { home, repo, opts } = workspace(tmp.path);
  const w = SessionWriter.create({
    zigHome: home,
    projectRoot: repo,
    workflowName: "half",
    workflowPath: "w.zwf",
    tierCount: 1,
  });
  w.stepOutput({
    stepName: "s",
    stream: "stdout",
    line: "a \ud83d\ude00 MARK",
  });
  w.stepOutput({ stepName: "s", stream: "stdout", line: "a \\ud83d kept" });
  w.ended("success", 1);
  const clean = await runCli(["verify"], opts);
  assert.equal(clean.code, 0, clean.stdout);
  // What a writer cutting inside the emoji wrote: valid JSON, valid UTF-8,
  // and still a log zig rejects whole ("unexpected end of hex escape").
  const text = Deno.readTextFileSync(w.logPath);
  Deno.writeTextFileSync(w.logPath, text.replace("MARK", "\\ud83d"));
  const r = await runCli(["verify"], opts);
  assert.equal(r.code, 1, r.stdout);
  assert.match(
    r.stdout,
    /✗ .*\.jsonl: line 2: a lone surrogate \(half of a character\), which zig cannot read/,
  );
  assert.match(r.stdout, /1 problem\(s\) in 1 log\(s\)/);
});

Deno.test("verify reports a line longer than any string and checks the other logs (it failed with a TypeError)", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const make = () => {
    const writer = SessionWriter.create({
      zigHome: w.home,
      projectRoot: w.repo,
      workflowName: "w",
      workflowPath: "w.zwf",
      tierCount: 1,
    });
    writer.ended("success", 1);
    return writer;
  };
  const long = make();
  const other = make();
  // Another writer's huge last line: 540 MB (a sparse hole), no string holds it.
  const file = Deno.openSync(long.logPath, { append: true });
  file.writeSync(new TextEncoder().encode('{"seq":3,"line":"'));
  file.truncateSync(540_000_000);
  file.seekSync(0, Deno.SeekMode.End);
  file.writeSync(new TextEncoder().encode("\n"));
  file.close();
  // The other log, damaged too, so that its check is seen.
  Deno.writeTextFileSync(other.logPath, "torn", { append: true });
  const result = await runCli(["verify"], w.opts);
  assert.equal(result.code, 1, result.stderr);
  assert.match(
    result.stdout,
    /line 3: \d{9} bytes long, more than the 536870888 a text can hold/,
  );
  assert.match(
    result.stdout,
    new RegExp(`${other.sessionId}.jsonl: line 3: torn`),
  );
});

/** The session id `record` prints on stderr. */
function idFrom(stderr: string): string {
  const m = /session ([0-9a-f-]{36})/.exec(stderr);
  assert.ok(m, `no session id in: ${stderr}`);
  return m[1];
}

Deno.test("verify: finds a torn tail and index drift; --repair moves the bytes aside", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const a = idFrom(
    (await runCli(["record", "--quiet", "--", "echo", "a"], w.opts)).stderr,
  );
  const b = idFrom(
    (await runCli(["record", "--quiet", "--", "echo", "b"], w.opts)).stderr,
  );
  const clean = await runCli(["verify"], w.opts);
  assert.equal(clean.code, 0, clean.stdout + clean.stderr);
  assert.match(clean.stdout, /✓ 2 log\(s\) and their indexes are consistent/);
  const logA = join(w.project, "logs", "sessions", `${a}.jsonl`);
  const before = Deno.readTextFileSync(logA);
  const torn = '{"seq":99,"ts":"2026-11-23T22:4';
  Deno.writeTextFileSync(logA, torn, { append: true });
  Deno.removeSync(join(w.project, "logs", "sessions", `${b}.jsonl`));
  const broken = await runCli(["verify"], w.opts);
  assert.equal(broken.code, 1);
  assert.match(broken.stdout, /torn \(no newline/);
  assert.match(broken.stdout, new RegExp(`session ${b} has no log`));
  const repaired = await runCli(["verify", "--repair"], w.opts);
  assert.equal(repaired.code, 0, repaired.stdout + repaired.stderr);
  assert.match(repaired.stdout, /moved 31 torn bytes to .*\.torn-/);
  assert.equal(Deno.readTextFileSync(logA), before);
  const aside = [...Deno.readDirSync(join(w.project, "logs", "sessions"))].find(
    (e) => e.name.includes(".torn-"),
  );
  assert.equal(
    Deno.readTextFileSync(join(w.project, "logs", "sessions", aside!.name)),
    torn,
  );
  assert.equal(
    loadProjectIndex(projectIndexPath(w.project)).sessions.length,
    1,
  );
});

Deno.test("verify and reindex show progress on a terminal's stderr only", async () => {
  using tmp = tempDir();
  const home = copyFixtureHome(tmp.path);
  const opts = { home, cwd: tmp.path };
  for (const command of ["verify", "reindex"]) {
    const label = command === "verify" ? "verifying" : "reindexing";
    const terminal = await runCli([command, "--global"], {
      ...opts,
      terminal: true,
    });
    assert.match(terminal.stderr, new RegExp(`\\r\\x1b\\[K${label} \\d+/\\d+`));
    assert.doesNotMatch(terminal.stdout, new RegExp(label));
    const piped = await runCli([command, "--global"], opts);
    assert.doesNotMatch(piped.stderr, new RegExp(label));
  }
});
