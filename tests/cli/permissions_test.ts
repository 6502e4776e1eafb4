// The CLI as a real subprocess with fewer permissions than it needs: what
// it says is missing, and how to grant it.
import assert from "node:assert/strict";
import { CLI, workspace } from "./_helpers.ts";
import { tempDir } from "../_helpers.ts";

Deno.test("permissions: a missing permission names the flag to add", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--allow-env", "--allow-read", CLI, "start"],
    cwd: w.repo,
    env: { ZIG_HOME: w.home },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 1);
  assert.match(
    new TextDecoder().decode(out.stderr),
    new RegExp(
      `write access is not granted, run again with --allow-write=${w.home}`,
    ),
  );
});
