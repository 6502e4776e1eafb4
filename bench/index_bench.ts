// Starting and ending a session with 10k sessions already indexed: the
// reference takes 80 ms (without a lock, replacing nothing atomically).
import {
  globalIndexPath,
  projectDir,
  projectIndexPath,
  SessionWriter,
} from "../mod.ts";
import { makeIndexes } from "./_data.ts";

const home = Deno.makeTempDirSync({ prefix: "zig-bench-index-" });
const projectRoot = "/bench/project";
makeIndexes(home, { count: 10_000, projectRoot });
const indexes = [
  globalIndexPath(home),
  projectIndexPath(projectDir({ zigHome: home, projectRoot })),
];

/** Rewrites an index as another process would: same text, new file. */
function touchedByAnotherProcess(path: string) {
  const copy = `${path}.other`;
  Deno.copyFileSync(path, copy);
  Deno.renameSync(copy, path);
}

Deno.bench(
  "session start + end, 10k indexed, this process wrote the indexes last",
  { n: 30, warmup: 3 },
  () => {
    create().ended("success", 1);
  },
);

function create() {
  return SessionWriter.create({
    zigHome: home,
    projectRoot,
    workflowName: "bench",
    workflowPath: "bench.zwf",
    tierCount: 1,
  });
}

// When another process wrote the indexes since this one did, each must be
// parsed again: the cold path. Start and end are timed apart (a bench times
// one span); their sum is the cold start + end.
Deno.bench("session start, 10k indexed, another process wrote them last", {
  n: 30,
  warmup: 3,
}, (b) => {
  for (const path of indexes) touchedByAnotherProcess(path);
  b.start();
  const writer = create();
  b.end();
  writer.ended("success", 1);
});

Deno.bench("session end, 10k indexed, another process wrote them last", {
  n: 30,
  warmup: 3,
}, (b) => {
  const writer = create();
  for (const path of indexes) touchedByAnotherProcess(path);
  b.start();
  writer.ended("success", 1);
  b.end();
});

globalThis.addEventListener(
  "unload",
  () => Deno.removeSync(home, { recursive: true }),
);
