// `zig-session list`: recovering a corrupt index safely, and sessions whose
// writer was killed before indexing them.
import assert from "node:assert/strict";
import { join } from "node:path";
import { projectIndexPath } from "../../mod.ts";
import { tempDir, writeBulkLogs } from "../_helpers.ts";
import { cliCommand, cliProcess, ourStderr, workspace } from "./_helpers.ts";

const LOGS = 2000;
/** A project index cut short by a crash: it does not parse. */
const CORRUPT = '{\n  "sessions": [\n    {\n      "zig_session_id": "3fa1';

function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

/** The index is the corrupt file, or complete; never missing or partial. */
function assertCorruptOrComplete(
  path: string,
  when: string,
): "corrupt" | "complete" {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    assert.fail(`${when}: the index is gone (${error})`);
  }
  if (text === CORRUPT) return "corrupt";
  let sessions: unknown[];
  try {
    sessions = JSON.parse(text).sessions;
  } catch {
    assert.fail(`${when}: the index is neither the corrupt one nor valid JSON`);
  }
  assert.equal(sessions.length, LOGS, `${when}: the index is incomplete`);
  return "complete";
}

/** Waits until a file whose name starts with `prefix` is in `dir`. */
async function appears(
  dir: string,
  options: { prefix: string; until: Promise<unknown> },
): Promise<boolean> {
  let over = false;
  options.until.finally(() => over = true);
  while (!over) {
    if (names(dir).some((n) => n.startsWith(options.prefix))) return true;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return false;
}

Deno.test("cli list: recovery of a corrupt index killed at any instant leaves the corrupt index or a complete one", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  writeBulkLogs(w.project, { count: LOGS });
  const index = projectIndexPath(w.project);
  const logsDir = join(w.project, "logs");

  // How long an uninterrupted run takes, to spread the kills over it.
  Deno.writeTextFileSync(index, CORRUPT);
  let started = performance.now();
  const whole = await cliProcess(["list", "--json"], w.opts);
  const runMs = performance.now() - started;
  assert.equal(whole.code, 0, whole.stderr);
  assert.equal(JSON.parse(whole.stdout).length, LOGS);

  const outcomes: string[] = [];
  const kills: Array<number | "on copy"> = [
    "on copy",
    ...[0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9].map((f) => Math.round(f * runMs)),
  ];
  for (const kill of kills) {
    Deno.writeTextFileSync(index, CORRUPT);
    const child = cliCommand(["list", "--json"], w.opts).spawn();
    const output = child.output();
    started = performance.now();
    if (kill === "on copy") {
      // Killed once the corrupt bytes are kept aside and the rebuild is under
      // way: the moment the old code had no index at all.
      const seen = await appears(logsDir, {
        prefix: "index.json.corrupt-",
        until: output,
      });
      assert.ok(seen, "the recovery keeps the corrupt bytes aside");
    } else {
      await new Promise((resolve) => setTimeout(resolve, kill));
    }
    try {
      child.kill("SIGKILL");
    } catch {
      // It had already finished.
    }
    const status = await output;
    const state = assertCorruptOrComplete(index, `killed ${kill}`);
    outcomes.push(`${kill}: ${status.signal ?? status.code} ${state}`);
    if (kill === "on copy") {
      assert.equal(status.signal, "SIGKILL", "killed during the rebuild");
      assert.equal(state, "corrupt");
    }
  }
  console.log(`runs of ${Math.round(runMs)} ms: ${outcomes.join(", ")}`);

  // The next run recovers it whole, and kept the corrupt bytes once.
  Deno.writeTextFileSync(index, CORRUPT);
  const after = await cliProcess(["list", "--json"], w.opts);
  assert.equal(after.code, 0, after.stderr);
  assert.equal(JSON.parse(after.stdout).length, LOGS);
  assert.equal(assertCorruptOrComplete(index, "after"), "complete");
  const left = names(logsDir);
  assert.deepEqual(
    left.filter((n) => n.includes(".tmp-")),
    [],
    "no temporary file outlives the next writer",
  );
  const copies = left.filter((n) => n.startsWith("index.json.corrupt-"));
  assert.equal(copies.length, 1, `one copy of the same bytes: ${copies}`);
  assert.equal(Deno.readTextFileSync(join(logsDir, copies[0])), CORRUPT);
});

const root = (() => {
  try {
    const id = new Deno.Command("id", { args: ["-u"] }).outputSync();
    return new TextDecoder().decode(id.stdout).trim() === "0";
  } catch {
    return false;
  }
})();
if (!root) {
  console.log(
    "list_test: skipping the full-disk test: mounting a tmpfs needs root",
  );
}

Deno.test({
  name:
    "cli list: a corrupt index that cannot be rebuilt on a full disk is an error, left in place (tmpfs)",
  ignore: !root,
  async fn() {
    using tmp = tempDir();
    const mount = join(tmp.path, "disk");
    Deno.mkdirSync(mount);
    const mounted = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mount],
    }).output();
    assert.ok(mounted.success, new TextDecoder().decode(mounted.stderr));
    try {
      const w = workspace(mount);
      writeBulkLogs(w.project, { count: 100 });
      const index = projectIndexPath(w.project);
      Deno.writeTextFileSync(index, CORRUPT);
      // Fill the disk, then free two pages: room for the copy of the
      // corrupt index, not for the rebuilt one (~40 KB).
      const reserve = join(mount, "reserve");
      Deno.writeFileSync(reserve, new Uint8Array(8192));
      const filler = join(mount, "filler");
      const file = Deno.openSync(filler, { write: true, create: true });
      try {
        const block = new Uint8Array(4096);
        while (true) file.writeSync(block);
      } catch (error) {
        assert.match(String(error), /No space left/);
      } finally {
        file.close();
      }
      Deno.removeSync(reserve);

      for (const run of ["first", "second"]) {
        const r = await cliProcess(["list"], w.opts);
        assert.equal(r.code, 1, `${run} run: ${r.stdout}${r.stderr}`);
        assert.equal(Deno.readTextFileSync(index), CORRUPT, `${run} run`);
        assert.match(
          r.stderr,
          /Cannot rebuild the corrupt index .*index\.json .*left in place.*No space left/,
        );
        assert.doesNotMatch(r.stderr, /No sessions/);
        assert.deepEqual(
          names(join(w.project, "logs")),
          ["index.json", "index.json.lock", "sessions"],
          "nothing half-written is left",
        );
      }

      Deno.removeSync(filler);
      const r = await cliProcess(["list", "--json"], w.opts);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).length, 100);
      assert.match(ourStderr(r.stderr), /did not parse.*rebuilt it/);
    } finally {
      await new Deno.Command("umount", { args: [mount] }).output();
    }
  },
});
