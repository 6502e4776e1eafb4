import assert from "node:assert/strict";
import { join } from "node:path";
import {
  globalIndexPath,
  loadGlobalIndex,
  loadProjectIndex,
  projectIndexPath,
} from "../../mod.ts";
import { tempDir } from "../_helpers.ts";
import { cliProcess, runCli } from "./_helpers.ts";
import { hostileHome, snapshot } from "./_hostile.ts";

Deno.test("gc never deletes, moves or creates a file outside the zig home, whatever an index entry names", async () => {
  using tmp = tempDir();
  const h = hostileHome(tmp.path);
  const before = snapshot(h.outside);
  const hostile = Object.values(h.ids);

  // A real process, with the executable's permissions.
  const r = await cliProcess(["gc", "--keep", "0", "--force"], h.opts);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(snapshot(h.outside), before);
  // The real session went; each hostile entry was skipped, and said so.
  assert.match(r.stdout, /removed 1 session\(s\)/);
  assert.equal(r.stderr.match(/skipped: /g)?.length, hostile.length);
  for (const id of hostile) {
    assert.ok(r.stderr.includes(id), `${id} not reported:\n${r.stderr}`);
  }
  assert.match(r.stderr, /is not followed/);
  const left = loadProjectIndex(projectIndexPath(h.project)).sessions
    .map((e) => e.zig_session_id);
  assert.deepEqual(left.sort(), [...hostile].sort());

  // The same from the global index.
  const g = await runCli(["gc", "--keep", "0", "--force", "--global"], h.opts);
  assert.equal(g.code, 0, g.stderr);
  assert.deepEqual(snapshot(h.outside), before);
  assert.equal(g.stderr.match(/skipped: /g)?.length, hostile.length);
  const global = loadGlobalIndex(globalIndexPath(h.home)).sessions
    .map((e) => e.zig_session_id);
  assert.deepEqual(global.sort(), [...hostile].sort());
  assert.ok(!global.includes(h.realId));
});

Deno.test("gc deletes nothing through a sessions folder that a symbolic link leads out of the home", async () => {
  using tmp = tempDir();
  const h = hostileHome(tmp.path);
  // The project's logs now live outside, through a link: its real log moves.
  const sessions = join(h.project, "logs", "sessions");
  const away = join(h.outside, "sessions");
  Deno.renameSync(sessions, away);
  Deno.symlinkSync(away, sessions);
  const before = snapshot(h.outside);
  const r = await runCli(["gc", "--keep", "0", "--force", "--global"], h.opts);
  assert.deepEqual(snapshot(h.outside), before);
  assert.match(r.stderr, /outside the zig home/);
  assert.ok(
    loadGlobalIndex(globalIndexPath(h.home)).sessions.some((e) =>
      e.zig_session_id === h.realId
    ),
    "the entry of a log that was not deleted stays",
  );
});
