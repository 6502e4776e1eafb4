import assert from "node:assert/strict";
import { join } from "node:path";
import { globalIndexPath, SessionWriter } from "../../mod.ts";
import { tempDir } from "../_helpers.ts";
import { runCli, workspace } from "./_helpers.ts";
import { snapshot } from "./_hostile.ts";

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
