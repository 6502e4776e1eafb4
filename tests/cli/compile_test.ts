// The CLI compiled with the compile task, run with only the permissions
// baked into the executable (needs a denort runtime: DENORT_BIN).
import assert from "node:assert/strict";
import { join } from "node:path";
import { CONFIG, workspace } from "./_helpers.ts";
import { lines, projectFile, tempDir } from "../_helpers.ts";

const denort = Deno.env.get("DENORT_BIN");
if (!denort) {
  console.log(
    "compile_test: skipping the compiled-binary test: DENORT_BIN is not set (deno compile needs a denort runtime, which this machine cannot download)",
  );
}

Deno.test({
  name:
    "compile: the CLI compiled with the compile task runs with its baked-in permissions",
  ignore: !denort,
  async fn() {
    using tmp = tempDir();
    const output = join(tmp.path, "zig-session");
    const task = JSON.parse(Deno.readTextFileSync(CONFIG)).tasks.compile
      .replace("--output zig-session", `--output ${output}`);
    const compile = await new Deno.Command("sh", {
      args: ["-c", task],
      cwd: projectFile("."),
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(compile.code, 0, new TextDecoder().decode(compile.stderr));
    const w = workspace(tmp.path);
    const run = (args: string[]) =>
      new Deno.Command(output, {
        args,
        cwd: w.repo,
        env: { ZIG_HOME: w.home, PATH: Deno.env.get("PATH") ?? "" },
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
    const rec = await run(["record", "--quiet", "--", "echo", "compiled"]);
    assert.equal(rec.code, 0, new TextDecoder().decode(rec.stderr));
    const listed = new TextDecoder().decode(
      (await run(["list", "--json"])).stdout,
    );
    assert.equal(JSON.parse(listed)[0].state, "success");
    assert.equal(lines(join(w.project, "logs", "index.json")).length > 0, true);
  },
});
