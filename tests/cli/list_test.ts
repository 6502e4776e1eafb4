import assert from "node:assert/strict";
import { tempDir, testWriter } from "../_helpers.ts";
import { runCli, workspace } from "./_helpers.ts";

Deno.test("list --limit 0 prints no session; --limit 1 prints one", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  for (const name of ["first", "second"]) {
    testWriter(w.home, { projectRoot: w.repo, workflowName: name })
      .ended("success", 1);
  }
  const none = await runCli(["list", "--limit", "0"], w.opts);
  assert.deepEqual(none, { code: 0, stdout: "", stderr: "" });
  const noneJson = await runCli(["list", "--limit", "0", "--json"], w.opts);
  assert.deepEqual(JSON.parse(noneJson.stdout), []);
  const one = await runCli(["list", "--limit", "1", "--json"], w.opts);
  assert.equal(JSON.parse(one.stdout).length, 1);
});

Deno.test("list: a misused option says what is wrong, in our words", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const cases: Array<[string[], string]> = [
    [["list", "--limit"], "Missing the value of --limit"],
    [
      ["list", "--workflow", "--json"],
      'Missing the value of --workflow before "--json" (a value that starts with "-" is written --workflow=VALUE)',
    ],
    [["list", "--json=yes"], "Option --json takes no value"],
    [
      ["list", "extra"],
      'Unexpected argument "extra": zig-session list takes options only',
    ],
    [
      ["list", "--limit", "-1"],
      'Invalid --limit "-1": expected a non-negative integer',
    ],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(args, w.opts);
    assert.equal(r.code, 2, args.join(" "));
    assert.equal(
      r.stderr,
      `zig-session: ${message}\nRun 'zig-session list --help' for usage\n`,
    );
  }
});
