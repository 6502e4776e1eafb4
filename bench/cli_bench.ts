// The CLI as a user runs it: whole processes, with the compile task's
// permissions. Targets: list with 10k sessions under 150 ms; listen within
// 5 ms of an append; search at 200 MB/s or more with bounded memory.
import { join } from "node:path";
import { SessionWriter } from "../mod.ts";
import { makeIndexes, makeLog } from "./_data.ts";
import { CLI as CLI_PATH, CLI_FLAGS } from "../tests/cli/_helpers.ts";

const CLI = [...CLI_FLAGS, CLI_PATH];

function cli(args: string[], home: string, cwd = home) {
  return new Deno.Command(Deno.execPath(), {
    args: [...CLI, ...args],
    env: { ZIG_HOME: home },
    cwd,
    stdout: "piped",
    stderr: "null",
  });
}

// list: 10k sessions indexed.
const listHome = Deno.makeTempDirSync({ prefix: "zig-bench-list-" });
makeIndexes(listHome, { count: 10_000, projectRoot: "/bench/project" });

Deno.bench("list --global, 10k sessions indexed (whole process)", {
  n: 20,
  warmup: 2,
}, async () => {
  const out = await cli(["list", "--global"], listHome).output();
  if (!out.success) throw new Error("list failed");
});

Deno.bench("list --global --limit 20, 10k sessions indexed (whole process)", {
  n: 20,
  warmup: 2,
}, async () => {
  const out = await cli(["list", "--global", "--limit", "20"], listHome)
    .output();
  if (!out.success) throw new Error("list failed");
});

// listen: time from an append to its line on listen's stdout.
const listenHome = Deno.makeTempDirSync({ prefix: "zig-bench-listen-" });
const writer = SessionWriter.create({
  zigHome: listenHome,
  cwd: "/",
  workflowName: "listen-bench",
  workflowPath: "bench.zwf",
  tierCount: 1,
});
const listener = cli(["listen", writer.sessionId], listenHome, "/").spawn();
const lines = listener.stdout.pipeThrough(new TextDecoderStream()).getReader();
let buffered = "";
async function waitFor(marker: string) {
  while (!buffered.includes(marker)) {
    const { value, done } = await lines.read();
    if (done) throw new Error("listen exited");
    buffered += value;
  }
  buffered = buffered.slice(buffered.indexOf(marker) + marker.length);
}
await waitFor("▶ session");
let n = 0;

Deno.bench(
  "listen: append to printed line",
  { n: 300, warmup: 20 },
  async (b) => {
    const marker = `mark-${++n}-end`;
    b.start();
    writer.stepOutput({ stepName: "s", stream: "stdout", line: marker });
    await waitFor(marker);
    b.end();
  },
);

// search: 1 GB of logs in 100 sessions.
const searchHome = Deno.makeTempDirSync({ prefix: "zig-bench-search-" });
const sessions = join(searchHome, "logs", "sessions");
Deno.mkdirSync(sessions, { recursive: true });
const index = [];
let bytes = 0;
for (let i = 0; i < 100; i++) {
  const id = crypto.randomUUID();
  const dir = Deno.makeTempDirSync();
  const log = makeLog(dir, { count: 36_000, bytes: 280 });
  Deno.renameSync(log, join(sessions, `${id}.jsonl`));
  Deno.removeSync(dir);
  bytes += Deno.statSync(join(sessions, `${id}.jsonl`)).size;
  index.push({
    zig_session_id: id,
    workflow_name: "bench",
    workflow_path: "bench.zwf",
    log_path: join(sessions, `${id}.jsonl`),
    started_at: "2026-11-23T22:41:46+00:00",
    ended_at: null,
    status: null,
    workspace_path: searchHome,
  });
}
Deno.writeTextFileSync(
  join(searchHome, "logs", "index.json"),
  JSON.stringify({ sessions: index }, null, 2),
);
console.error(`search corpus: ${(bytes / 1e9).toFixed(2)} GB in 100 logs`);

Deno.bench("search a rare word in ~1 GB of logs (whole process)", {
  n: 3,
  warmup: 1,
}, async () => {
  const out = await cli(["search", "needle-that-is-not-there"], searchHome, "/")
    .output();
  if (out.code !== 1) throw new Error(`search exited ${out.code}`);
});

Deno.bench("search a regex in ~1 GB of logs (whole process)", {
  n: 3,
  warmup: 1,
}, async () => {
  const out = await cli(
    ["search", "--regex", "output 3599[0-9] "],
    searchHome,
    "/",
  ).output();
  if (!out.success) throw new Error(`search exited ${out.code}`);
});

globalThis.addEventListener("unload", () => {
  try {
    listener.kill();
  } catch {
    // already gone
  }
  writer.close();
  for (const dir of [listHome, listenHome, searchHome]) {
    Deno.removeSync(dir, { recursive: true });
  }
});
