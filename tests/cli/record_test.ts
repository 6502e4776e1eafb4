// `zig-session record` beside maintenance commands run by other processes.
import assert from "node:assert/strict";
import {
  globalIndexPath,
  loadGlobalIndex,
  loadProjectIndex,
  projectIndexPath,
  rebuildIndex,
} from "../../mod.ts";
import { tempDir, writeBulkLogs } from "../_helpers.ts";
import { cliProcess, workspace } from "./_helpers.ts";

Deno.test("cli record: exits with its command's code while gc --force and reindex remove and rebuild around it", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  // Open sessions gc never removes, so that every reindex reads for a while.
  const open = writeBulkLogs(w.project, { count: 1000, open: true });
  rebuildIndex(projectIndexPath(w.project));
  rebuildIndex(globalIndexPath(w.home));

  let recording = true;
  const failures: string[] = [];
  const loop = async (args: string[][]) => {
    let runs = 0;
    while (recording || runs === 0) {
      const command = args[runs++ % args.length];
      const r = await cliProcess(command, w.opts);
      if (r.code !== 0) failures.push(`${command.join(" ")}: ${r.stderr}`);
    }
    return runs;
  };
  const gc = loop([["gc", "--force", "--keep", "0"]]);
  const reindex = loop([["reindex", "--global"], ["reindex"]]);
  const recorders = [0, 1, 2].map(async (p) => {
    for (let i = 0; i < 4; i++) {
      const code = [0, 1, 3][(p + i) % 3];
      const r = await cliProcess(
        ["record", "-q", "--", "sh", "-c", `exit ${code}`],
        w.opts,
      );
      if (r.code !== code) {
        failures.push(`record exit ${code} gave ${r.code}: ${r.stderr}`);
      }
    }
  });
  await Promise.all(recorders);
  recording = false;
  const runs = { gc: await gc, reindex: await reindex };
  console.log(
    `12 records beside ${runs.gc} gc and ${runs.reindex} reindex runs`,
  );
  assert.deepEqual(failures, []);
  // Once gc has had the last word, both indexes hold the open sessions only.
  const last = await cliProcess(["gc", "--force", "--keep", "0"], w.opts);
  assert.equal(last.code, 0, last.stderr);
  const indexes = {
    project: loadProjectIndex(projectIndexPath(w.project)).sessions,
    global: loadGlobalIndex(globalIndexPath(w.home)).sessions,
  };
  for (const [name, sessions] of Object.entries(indexes)) {
    const ids = sessions.map((e) => e.zig_session_id);
    assert.deepEqual(ids.sort(), [...open].sort(), `the ${name} index`);
  }
});
