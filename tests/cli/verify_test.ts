import assert from "node:assert/strict";
import {
  loadProjectIndex,
  projectIndexPath,
  SessionWriter,
} from "../../mod.ts";
import { tempDir } from "../_helpers.ts";
import { cliProcess, runCli, workspace } from "./_helpers.ts";
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
