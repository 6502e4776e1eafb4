// `zig-session stats`: what a terminal is shown.
import assert from "node:assert/strict";
import { join } from "node:path";
import { tempDir } from "../_helpers.ts";
import {
  controlsIn,
  HOSTILE,
  hostileSession,
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
  assert.match(human.stdout, /wf\\x1b\]0;pwned\\x07\s+st\\x1b\[8mep\s+1/);
  const json = JSON.parse((await runCli(["stats", "--json"], w.opts)).stdout);
  assert.equal(json.workflows[0].workflow, HOSTILE.workflow);
  assert.equal(json.steps[0].step, HOSTILE.step);
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
