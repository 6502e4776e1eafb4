import assert from "node:assert/strict";
import { tempDir } from "../_helpers.ts";
import { runCli } from "./_helpers.ts";

Deno.test("demo --help shows the help and records nothing", async () => {
  using tmp = tempDir();
  for (const flag of ["--help", "-h"]) {
    const r = await runCli(["demo", flag], { home: tmp.path });
    assert.equal(r.code, 0);
    assert.match(
      r.stdout,
      /^zig-session demo: .*\n\nUsage: zig-session demo\n/,
    );
    assert.doesNotMatch(r.stdout, /Recording/);
    assert.equal(r.stderr, "");
  }
  const bad = await runCli(["demo", "--bogus"], { home: tmp.path });
  assert.equal(bad.code, 2);
  assert.equal(
    bad.stderr,
    "zig-session: Unknown option --bogus\nRun 'zig-session demo --help' for usage\n",
  );
});
