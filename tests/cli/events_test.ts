import assert from "node:assert/strict";
import { tempDir } from "../_helpers.ts";
import { runCli } from "./_helpers.ts";
import { hostileHome, snapshot } from "./_hostile.ts";

Deno.test("events refuses an index entry whose log_path or id leads out of the zig home, and prints none of its bytes", async () => {
  using tmp = tempDir();
  const h = hostileHome(tmp.path);
  const before = snapshot(h.outside);
  for (const id of Object.values(h.ids)) {
    for (const args of [["events", id], ["events", id, "--json"]]) {
      const r = await runCli(args, h.opts);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /is not followed/);
      assert.ok(r.stderr.includes(id), r.stderr);
      assert.ok(!r.stderr.includes("SECRET"), r.stderr);
    }
  }
  // The real session still reads.
  const ok = await runCli(["events", h.realId, "--count"], h.opts);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout.trim(), "2");
  assert.deepEqual(snapshot(h.outside), before);
});

Deno.test("search skips an entry that leads out of the zig home, and says so", async () => {
  using tmp = tempDir();
  const h = hostileHome(tmp.path);
  const r = await runCli(["search", "real.zwf"], h.opts);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.includes(h.realId), r.stdout);
  assert.equal(r.stderr.match(/skipped: .*is not followed/g)?.length, 3);
  assert.ok(!(r.stdout + r.stderr).includes("SECRET"));
});
