import assert from "node:assert/strict";
import { join } from "node:path";
import { tempDir } from "../_helpers.ts";
import { cliProcess, workspace } from "./_helpers.ts";

Deno.test("ZIG_HOME=/dev/null: record says the zig home is no directory, and runs nothing", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const marker = join(tmp.path, "ran");
  const r = await cliProcess(["record", "--", "touch", marker], {
    home: "/dev/null",
    cwd: w.repo,
  });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(
    r.stderr,
    'zig-session: The zig home "/dev/null" (from ZIG_HOME) is not a directory: set ZIG_HOME to a directory, or pass zigHome\n',
  );
  assert.equal(r.stdout, "");
  assert.throws(() => Deno.statSync(marker), Deno.errors.NotFound);
});

Deno.test("a relative ZIG_HOME is refused with the absolute path to set instead", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const r = await cliProcess(["record", "--", "true"], {
    home: "zig",
    cwd: w.repo,
  });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(
    r.stderr,
    `zig-session: ZIG_HOME "zig" is a relative path, which would name a different zig home in each directory: set it to an absolute path, such as "${
      join(w.repo, "zig")
    }"\n`,
  );
  assert.deepEqual([...Deno.readDirSync(w.repo)].map((e) => e.name), [".git"]);
});
