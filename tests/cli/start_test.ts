// `zig-session start` killed at any instant: nothing it logged is invisible,
// `reindex` restores both indexes, and its temporary files do not stay.
import assert from "node:assert/strict";
import { basename, join } from "node:path";
import {
  globalIndexPath,
  loadGlobalIndex,
  loadProjectIndex,
  projectIndexPath,
  readSessionEvents,
  rebuildIndex,
  summarizeLog,
} from "../../mod.ts";
import {
  CLI,
  CLI_FLAGS,
  cliCommand,
  cliProcess,
  workspace,
} from "./_helpers.ts";
import { tempDir, writeBulkLogs } from "../_helpers.ts";

type Workspace = ReturnType<typeof workspace>;

function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name);
}

/** The ids of the logs that have a start event (others hold no session). */
function loggedIds(w: Workspace): string[] {
  const dir = join(w.project, "logs", "sessions");
  return names(dir)
    .filter((n) => n.endsWith(".jsonl"))
    .filter((n) => summarizeLog(join(dir, n)).first !== undefined)
    .map((n) => basename(n, ".jsonl"))
    .sort();
}

async function listedIds(w: Workspace, global: boolean): Promise<string[]> {
  const r = await cliProcess(
    ["list", "--json", ...(global ? ["--global"] : [])],
    w.opts,
  );
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as Array<{ zig_session_id: string }>)
    .map((e) => e.zig_session_id).sort();
}

function indexedIds(w: Workspace) {
  const ids = (sessions: Array<{ zig_session_id: string }>) =>
    sessions.map((e) => e.zig_session_id).sort();
  return {
    project: ids(loadProjectIndex(projectIndexPath(w.project)).sessions),
    global: ids(loadGlobalIndex(globalIndexPath(w.home)).sessions),
  };
}

function temps(w: Workspace): string[] {
  return [
    ...names(join(w.project, "logs")).filter((n) =>
      n.startsWith("index.json.tmp-")
    ),
    ...names(w.home).filter((n) => n.startsWith("sessions_index.json.tmp-")),
  ];
}

/** Every logged session is listed, then `reindex` puts it in both indexes. */
async function assertNothingInvisible(w: Workspace): Promise<void> {
  const logged = loggedIds(w);
  assert.deepEqual(await listedIds(w, false), logged, "list");
  assert.deepEqual(await listedIds(w, true), logged, "list --global");
  const r = await cliProcess(["reindex"], w.opts);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(indexedIds(w), { project: logged, global: logged });
  // Markers stay only for sessions with no listable log (killed before
  // their first line), until they are old enough to belong to no live writer.
  assert.deepEqual(
    [...names(join(w.project, "logs")), ...names(w.home)]
      .filter((n) => n.includes(".pending-"))
      .filter((n) => logged.includes(n.replace(/^.*\.pending-/, ""))),
    [],
    "reindex removes the markers of the sessions it indexed",
  );
}

const strace = (() => {
  try {
    return new Deno.Command("strace", {
      args: ["-V"],
      stdout: "null",
      stderr: "null",
    }).outputSync().success;
  } catch {
    return false;
  }
})();
if (!strace) {
  console.log(
    "start_test: skipping the kills at chosen syscalls: strace is not installed (apt-get install strace)",
  );
}

Deno.test({
  name:
    "cli start killed at its first and second index renames (strace): listed, restored by reindex, temporary files removed by the next writer",
  ignore: !strace,
  async fn() {
    using tmp = tempDir();
    const w = workspace(tmp.path);
    writeBulkLogs(w.project, { count: 5 });
    rebuildIndex(projectIndexPath(w.project));
    rebuildIndex(globalIndexPath(w.home));
    const before = await cliProcess(["start"], w.opts); // warms Deno's cache
    assert.equal(before.code, 0, before.stderr);

    // A real SIGKILL, delivered as the process enters its Nth rename: the
    // 1st renames the project index's temporary file over it, the 2nd the
    // global index's.
    const left: string[][] = [];
    for (const when of [1, 2]) {
      const killed = await new Deno.Command("strace", {
        args: [
          "-f",
          "-o",
          "/dev/null",
          "-e",
          "trace=rename",
          "-e",
          `inject=rename:signal=SIGKILL:when=${when}`,
          Deno.execPath(),
          ...CLI_FLAGS,
          CLI,
          "start",
        ],
        cwd: w.repo,
        env: { ZIG_HOME: w.home },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(killed.stdout.length, 0, "killed before printing its id");
      assert.notEqual(killed.code, 0);
      left.push(temps(w).map((n) => n.replace(/tmp-.*/, "tmp-…")));
    }
    // The second start, the first's next writer of the project index,
    // removed the temporary file the first left.
    assert.deepEqual(left, [["index.json.tmp-…"], [
      "sessions_index.json.tmp-…",
    ]]);
    const logged = loggedIds(w);
    const indexed = indexedIds(w);
    const [first, second] = logged.filter((id) => !indexed.global.includes(id));
    assert.ok(first && second, `two sessions missing from the global index`);
    assert.equal(
      [first, second].filter((id) => !indexed.project.includes(id)).length,
      1,
      "one in no index at all, one in the project index only",
    );
    // The next writer of each index removes the dead writers' temporary files.
    const next = await cliProcess(["start"], w.opts);
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual(temps(w), []);

    await assertNothingInvisible(w);
  },
});

/** Resolves once a session log is created in `dir` (or `until` settles). */
async function logCreated(dir: string, until: Promise<unknown>): Promise<void> {
  const watcher = Deno.watchFs(dir, { recursive: false });
  const seen = (async () => {
    for await (const event of watcher) {
      if (
        event.kind === "create" && event.paths.some((p) => p.endsWith(".jsonl"))
      ) return;
    }
  })();
  try {
    await Promise.race([seen, until]);
  } finally {
    watcher.close();
  }
}

Deno.test("cli start killed at varied instants after its log appears: every session it logged is listed, and reindex restores both indexes", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  // Indexes large enough that writing them takes a while.
  writeBulkLogs(w.project, { count: 600 });
  rebuildIndex(projectIndexPath(w.project));
  rebuildIndex(globalIndexPath(w.home));
  const sessions = join(w.project, "logs", "sessions");

  const outcomes: string[] = [];
  for (const delay of [0, 1, 2, 3, 5, 7, 9, 12, 15, 20, 30]) {
    const child = cliCommand(["start"], w.opts).spawn();
    const output = child.output();
    await logCreated(sessions, output);
    await new Promise((resolve) => setTimeout(resolve, delay));
    try {
      child.kill("SIGKILL");
    } catch {
      // It had already finished.
    }
    const status = await output;
    outcomes.push(`${delay}ms: ${status.signal ?? status.code}`);
  }
  const indexed = indexedIds(w);
  const logged = loggedIds(w);
  console.log(
    `${outcomes.join(", ")}; ${
      logged.length - indexed.project.length
    } log(s) missing from the project index, ${
      logged.length - indexed.global.length
    } from the global one`,
  );
  await assertNothingInvisible(w);
});

// Moved from tests/cli_test.ts: real processes in parallel.
Deno.test("cli start, record --session from parallel processes, end: one gapless session", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const started = await cliProcess(
    ["start", "--workflow", "pipeline", "--tiers", "2"],
    w.opts,
  );
  assert.equal(started.code, 0, started.stderr);
  const id = started.stdout.trim();
  assert.match(id, /^[0-9a-f-]{36}$/);
  const steps = await Promise.all(
    ["a", "b", "c", "d"].map((step) =>
      cliProcess([
        "record",
        "--session",
        id.slice(0, 8),
        "--step",
        step,
        "--tier",
        "1",
        "--quiet",
        "--",
        "sh",
        "-c",
        `for i in 1 2 3 4 5 6 7 8 9 10; do echo ${step}$i; done`,
      ], w.opts)
    ),
  );
  for (const s of steps) assert.equal(s.code, 0, s.stderr);
  const ended = await cliProcess(
    ["end", id.slice(0, 8), "--status", "success"],
    w.opts,
  );
  assert.equal(ended.code, 0, ended.stderr);
  const events = await readSessionEvents(
    join(w.project, "logs", "sessions", `${id}.jsonl`),
  );
  assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1));
  assert.equal(events.filter((e) => e.type === "step_output").length, 40);
  assert.equal(events.filter((e) => e.type === "step_completed").length, 4);
  assert.equal(events.at(-1)?.type, "zig_session_ended");
  assert.equal(
    loadGlobalIndex(globalIndexPath(w.home)).sessions[0].status,
    "success",
  );
  const again = await cliProcess(["end", id], w.opts);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /has already ended \(success\)/);
  const late = await cliProcess(
    ["record", "--session", id, "--", "true"],
    w.opts,
  );
  assert.equal(late.code, 1);
  assert.match(late.stderr, /has already ended/);
});
