import assert from "node:assert/strict";
import { tempDir, testWriter } from "../_helpers.ts";
import { runCli, workspace } from "./_helpers.ts";
import { join } from "node:path";
import { globalIndexPath, SessionWriter } from "../../mod.ts";
import { snapshot } from "./_hostile.ts";

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

Deno.test("list refuses an index that a symbolic link leads out of the zig home, and prints none of its bytes", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  SessionWriter.create({
    zigHome: w.home,
    cwd: w.repo,
    workflowName: "real",
    workflowPath: "real.zwf",
    tierCount: 1,
  }).ended("success", 1);
  const outside = join(tmp.path, "outside");
  Deno.mkdirSync(outside);
  // The global index, then the project's logs folder, lead outside.
  const secret = join(outside, "secret.json");
  Deno.writeTextFileSync(secret, "root:x:0:0:SECRET\n");
  Deno.removeSync(globalIndexPath(w.home));
  Deno.symlinkSync(secret, globalIndexPath(w.home));
  const logs = join(w.project, "logs");
  Deno.renameSync(logs, join(outside, "logs"));
  Deno.symlinkSync(join(outside, "logs"), logs);
  const before = snapshot(outside);
  for (const args of [["list", "--global"], ["list"], ["list", "--json"]]) {
    const r = await runCli(args, w.opts);
    assert.equal(r.code, 1, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
    assert.equal(r.stdout, "");
    assert.match(
      r.stderr,
      /^zig-session: Refusing ".*": it resolves to ".*outside.*", outside the zig home/,
    );
    assert.ok(!r.stderr.includes("SECRET"), r.stderr);
  }
  assert.deepEqual(snapshot(outside), before);
});
