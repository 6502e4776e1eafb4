import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readSessionEvents } from "../../mod.ts";
import { tempDir } from "../_helpers.ts";
import { runCli, workspace } from "./_helpers.ts";

Deno.test("record --heartbeat 0s: usage error, and no session created", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  for (const interval of ["0s", "0ms", "0.5ms", "30d"]) {
    const r = await runCli(
      ["record", "--heartbeat", interval, "--", "true"],
      w.opts,
    );
    assert.equal(r.code, 2, interval);
    assert.equal(
      r.stderr,
      `zig-session: Invalid --heartbeat "${interval}": expected an interval of at least 1ms and at most 24d\nRun 'zig-session record --help' for usage\n`,
    );
  }
  assert.ok(!existsSync(w.project), "a project directory was created");
  const verify = await runCli(["verify", "--global"], w.opts);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
});

Deno.test("record --bogus -- echo hi: a clean unknown-option message", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const r = await runCli(["record", "--bogus", "--", "echo", "hi"], w.opts);
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr,
    "zig-session: Unknown option --bogus\nRun 'zig-session record --help' for usage\n",
  );
  assert.ok(!existsSync(w.project));
});

Deno.test("record of a command that does not exist: command not found, exit 127", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const r = await runCli(
    ["record", "--quiet", "--", "nosuchcmd-xyz", "arg"],
    w.opts,
  );
  assert.equal(r.code, 127);
  const [idLine, message, ...rest] = r.stderr.split("\n");
  assert.match(idLine, /^zig-session: session [0-9a-f-]{36}$/);
  assert.equal(message, "zig-session: command not found: nosuchcmd-xyz");
  assert.deepEqual(rest, [""]);
  const list = await runCli(["list", "--json"], w.opts);
  const [entry] = JSON.parse(list.stdout);
  assert.equal(entry.state, "failure");
  const events = await readSessionEvents(entry.log_path);
  const failed = events.find((e) => e.type === "step_failed");
  assert.ok(failed?.type === "step_failed");
  assert.equal(failed.error, "spawn failed: command not found: nosuchcmd-xyz");
  assert.equal(failed.exit_code, null);
});
