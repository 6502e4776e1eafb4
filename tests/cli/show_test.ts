import assert from "node:assert/strict";
import { tempDir } from "../_helpers.ts";
import { runCli } from "./_helpers.ts";
import { hostileHome } from "./_hostile.ts";

Deno.test("show refuses an index entry whose log_path or id leads out of the zig home, and prints none of its bytes", async () => {
  using tmp = tempDir();
  const h = hostileHome(tmp.path);
  for (const id of Object.values(h.ids)) {
    for (const args of [["show", id], ["show", id, "--json"]]) {
      const r = await runCli(args, h.opts);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /is not followed: /);
      assert.match(r.stderr, /run zig-session reindex/);
      assert.ok(!r.stderr.includes("SECRET"), r.stderr);
    }
  }
  const ok = await runCli(["show", h.realId, "--json"], h.opts);
  assert.equal(ok.code, 0, ok.stderr);
});
