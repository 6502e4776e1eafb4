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

Deno.test("demo (the README's first command) records and shows a workflow", async () => {
  using tmp = tempDir();
  const r = await runCli(["demo"], { home: tmp.path });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\$ zig-session list\nID\s+WORKFLOW/);
  assert.match(r.stdout, /demo\s+success/);
  assert.match(r.stdout, /tier 1 .* build\n\s+build\s+completed/);
  assert.match(r.stdout, /\[build\] warning: unused variable/);
  const home = /into (\S+)/.exec(r.stdout)![1];
  Deno.removeSync(home, { recursive: true });
});
