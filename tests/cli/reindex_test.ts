import assert from "node:assert/strict";
import { join } from "node:path";
import {
  globalIndexPath,
  loadGlobalIndex,
  projectIndexPath,
  SessionWriter,
} from "../../mod.ts";
import { copyFixtureHome, runDeno, tempDir } from "../_helpers.ts";
import {
  CLI,
  CLI_FLAGS,
  CONFIG,
  ourStderr,
  runCli,
  workspace,
} from "./_helpers.ts";

function recordOne(w: ReturnType<typeof workspace>): void {
  SessionWriter.create({
    zigHome: w.home,
    cwd: w.repo,
    workflowName: "real",
    workflowPath: "real.zwf",
    tierCount: 1,
  }).ended("success", 1);
}

Deno.test("with every permission, a dangling symbolic link at the lock creates nothing outside the home", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  recordOne(w);
  const outside = join(tmp.path, "outside");
  Deno.mkdirSync(outside);
  const lock = `${projectIndexPath(w.project)}.lock`;
  Deno.removeSync(lock);
  Deno.symlinkSync(join(outside, "made.lock"), lock);
  // -A: Deno itself then follows links when it opens files.
  const r = await runDeno(["run", "-A", "--config", CONFIG, CLI, "reindex"], {
    cwd: w.repo,
    env: { ZIG_HOME: w.home },
  });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.equal(
    ourStderr(r.stderr),
    `zig-session: Cannot use the lock file "${lock}": it is a symbolic link, and lock files are never opened through one; remove it (no process needs it while no zig-session command runs)\n`,
  );
  assert.deepEqual([...Deno.readDirSync(outside)], []);
});

/** Whether this process runs as root (asked of `id`: no --allow-sys needed). */
async function isRoot(): Promise<boolean> {
  try {
    const out = await new Deno.Command("id", { args: ["-u"] }).output();
    return new TextDecoder().decode(out.stdout).trim() === "0";
  } catch {
    return false;
  }
}

Deno.test("a lock file the user may not open is a clear permission error", async () => {
  if (!(await isRoot())) {
    console.log("skipped: needs root to run the CLI as another user (nobody)");
    return;
  }
  using tmp = tempDir();
  Deno.chmodSync(tmp.path, 0o755);
  const w = workspace(tmp.path);
  recordOne(w);
  const lock = `${projectIndexPath(w.project)}.lock`;
  Deno.chmodSync(lock, 0o600); // root's, and nobody may not open it
  const denoDir = join(tmp.path, "deno-dir");
  Deno.mkdirSync(denoDir, { mode: 0o777 });
  Deno.chmodSync(denoDir, 0o777);
  const r = await new Deno.Command("setpriv", {
    args: [
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      Deno.execPath(),
      ...CLI_FLAGS,
      CLI,
      "reindex",
    ],
    cwd: w.repo,
    clearEnv: true,
    env: { ZIG_HOME: w.home, DENO_DIR: denoDir, HOME: denoDir },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = ourStderr(new TextDecoder().decode(r.stderr));
  assert.equal(r.code, 1, stderr);
  assert.equal(
    stderr,
    `zig-session: Cannot open the lock file at "${lock}": the file system denied access, check the owner and mode of the file and its directory\n`,
  );
});

Deno.test("reindex: rebuilds lost indexes from the logs", async () => {
  using tmp = tempDir();
  const home = copyFixtureHome(tmp.path);
  Deno.removeSync(globalIndexPath(home));
  Deno.writeTextFileSync(
    projectIndexPath(join(home, "projects", "home-ada-src-shop")),
    '{"sessions": []}',
  );
  const r = await runCli(["reindex", "--global"], { home, cwd: tmp.path });
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /home-ada-src-shop\/logs\/index\.json: 4 session\(s\)/,
  );
  assert.match(r.stdout, /sessions_index\.json: 5 session\(s\)/);
  assert.equal(loadGlobalIndex(globalIndexPath(home)).sessions.length, 5);
});
