// `zig-session stats`: what a terminal is shown.
import assert from "node:assert/strict";
import { join } from "node:path";
import { copyFixtureHome, tempDir, testWriter } from "../_helpers.ts";
import {
  controlsIn,
  HOSTILE,
  hostileSession,
  indexWithoutLogs,
  runCli,
  workspace,
} from "./_helpers.ts";

Deno.test("stats: control characters in workflow and step names are shown visibly; --json keeps them", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  hostileSession(w);
  const human = await runCli(["stats"], w.opts);
  assert.equal(human.code, 0, human.stderr);
  assert.deepEqual(controlsIn(human.stdout), [], human.stdout);
  assert.match(human.stdout, /^wf\\x1b\]0;pwned\\x07\/st\\x1b\[8mep\s+1/m);
  const json = JSON.parse((await runCli(["stats", "--json"], w.opts)).stdout);
  assert.equal(json.workflows[0].workflow, HOSTILE.workflow);
  assert.equal(json.steps[0].step, HOSTILE.step);
});

Deno.test("stats counts steps per workflow (workflow/step): steps of different workflows are never mixed", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const run = (workflow: string, steps: Array<[string, boolean]>) => {
    const writer = testWriter(w.home, {
      projectRoot: w.repo,
      workflowName: workflow,
    });
    for (const [step, ok] of steps) {
      writer.stepStarted({
        stepName: step,
        tierIndex: 0,
        zagSessionId: "z",
        zagCommand: "c",
        promptPreview: "p",
      });
      if (ok) {
        writer.stepCompleted({ stepName: step, exitCode: 0, durationMs: 5 });
      } else {writer.stepFailed({
          stepName: step,
          exitCode: 1,
          attempt: 1,
          error: "e",
        });}
    }
    writer.ended("success");
  };
  run("build", [["test", true], ["lint", true]]);
  run("deploy", [["test", false]]);
  run("build", [["test", true]]);
  const r = await runCli(["stats"], w.opts);
  assert.equal(r.code, 0, r.stderr);
  const steps = r.stdout.split("\n\n")[1].trimEnd().split("\n");
  assert.match(steps[0], /^WORKFLOW\/STEP\s+RUNS\s+FAILED/);
  // Each workflow's steps together; "test" of build and of deploy apart.
  assert.deepEqual(
    steps.slice(1).map((line) => line.split(/\s+/).slice(0, 3)),
    [["build/test", "2", "0.0%"], ["build/lint", "1", "0.0%"], [
      "deploy/test",
      "1",
      "100.0%",
    ]],
  );
});

Deno.test("stats --global over thousands of indexed sessions whose logs are gone: a few warnings and the fix, not one per session", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  indexWithoutLogs(w, 3000);
  const r = await runCli(["stats", "--global"], w.opts);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^gone\s+3000\s+25\.0%\s+500ms\s+500ms$/m);
  const warnings = r.stderr.trimEnd().split("\n");
  assert.ok(warnings.length <= 6, `${warnings.length} lines:\n${r.stderr}`);
  assert.match(warnings[0], /skipped session \S+: its log ".*" does not exist/);
  assert.match(
    warnings.at(-1)!,
    /3000 indexed session\(s\) have no log .*zig-session verify .*zig-session reindex/,
  );
  // The project's own, and --json, the same.
  const own = await runCli(["stats", "--json"], w.opts);
  assert.equal(JSON.parse(own.stdout).workflows[0].runs, 3000);
  assert.ok(own.stderr.split("\n").length <= 7, own.stderr);
});

Deno.test("stats: an index entry that leads out of the zig home is skipped with a warning, the others counted", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const good = await runCli(
    ["record", "--workflow", "good", "--", "true"],
    w.opts,
  );
  assert.equal(good.code, 0, good.stderr);
  const indexPath = join(w.project, "logs", "index.json");
  const index = JSON.parse(Deno.readTextFileSync(indexPath));
  index.sessions.push({
    ...index.sessions[0],
    zig_session_id: "evil",
    log_path: "/etc/passwd",
  });
  Deno.writeTextFileSync(indexPath, JSON.stringify(index, null, 2));
  const result = await runCli(["stats", "--json"], w.opts);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /evil.*is not followed/);
  assert.equal(JSON.parse(result.stdout).workflows[0].runs, 2);
});

Deno.test("stats: per workflow and per step, from the index and the logs", async () => {
  using tmp = tempDir();
  const home = copyFixtureHome(tmp.path);
  const r = await runCli(["stats", "--global", "--json"], {
    home,
    cwd: tmp.path,
  });
  assert.equal(r.code, 0, r.stderr);
  const { workflows, steps } = JSON.parse(r.stdout);
  const wf = Object.fromEntries(
    workflows.map((w: { workflow: string }) => [w.workflow, w]),
  );
  assert.equal(wf["wf-success"].runs, 2);
  assert.equal(wf["wf-success"].failure_rate, 0);
  assert.equal(wf["wf-failure"].failure_rate, 1);
  assert.equal(wf["wf-running"].failures, 1, "abandoned counts as failed");
  const build = steps.find((s: { step: string }) => s.step === "build");
  assert.deepEqual([build.runs, build.failures], [1, 2]);
  const plan = steps.find((s: { step: string; workflow: string }) =>
    s.step === "plan"
  );
  assert.equal(plan.median_ms, 1234);
  const text = await runCli(["stats", "--global", "--workflow", "wf-failure"], {
    home,
    cwd: tmp.path,
  });
  assert.match(text.stdout, /^wf-failure\s+1\s+100\.0%/m);
});
