// Cold-process benchmarks beside the reference, in the same run, on the same
// machine: each side a fresh process, medians of 3 pairs, the ratio printed.
//
//   deno task bench:compare                 # every row
//   deno task bench:compare record list     # rows whose name contains a word
//
// The reference is ../shared/reference/ (the seed compiled in release mode),
// built here by its build.sh. Figures are wall-clock times of whole processes,
// or, where the reference times only the operation inside its process
// (append, start + end, read), the same operation timed the same way inside
// ours. Memory is the peak resident set size (GNU time's %M).
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeIndexes as makeIndexesIn } from "./_data.ts";

const root = fileURLToPath(new URL("../", import.meta.url));
const CLI = join(root, "cli.ts");
const RUN = [
  "run",
  "--no-prompt",
  "--allow-env",
  "--allow-read",
  "--allow-write",
  "--allow-run",
];
const PAIRS = 3;

function buildReference(): string {
  const script = join(root, "..", "shared", "reference", "build.sh");
  const out = new Deno.Command("bash", {
    args: [script],
    stdout: "piped",
    stderr: "inherit",
  }).outputSync();
  const path = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1);
  if (!out.success || !path) {
    throw new Error(`Cannot build the reference with ${script}`);
  }
  return path;
}

interface Run {
  /** Wall-clock milliseconds of the whole process. */
  wallMs: number;
  /** Peak resident set size in MB. */
  rssMb: number;
  /** What the process printed. */
  stdout: string;
}

/** Runs a command as a fresh process under GNU time. */
function run(
  cmd: string,
  args: string[],
  options: { env: Record<string, string>; cwd: string },
): Run {
  const rssFile = Deno.makeTempFileSync();
  const start = performance.now();
  const out = new Deno.Command("/usr/bin/time", {
    args: ["-f", "%M", "-o", rssFile, cmd, ...args],
    env: options.env,
    cwd: options.cwd,
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  const wallMs = performance.now() - start;
  const stdout = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed: ${
        new TextDecoder().decode(out.stderr)
      }`,
    );
  }
  const rssKb = Number(
    Deno.readTextFileSync(rssFile).trim().split("\n").at(-1),
  );
  Deno.removeSync(rssFile);
  return { wallMs, rssMb: rssKb / 1024, stdout };
}

function deno(
  args: string[],
  options: { env: Record<string, string>; cwd: string },
) {
  return run(Deno.execPath(), args, options);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** A zig home (as $HOME/.zig) and a git repository, fresh. */
function place(): { home: string; repo: string; env: Record<string, string> } {
  const home = Deno.makeTempDirSync({ prefix: "zig-compare-" });
  const repo = join(home, "repo");
  Deno.mkdirSync(join(repo, ".git"), { recursive: true });
  return {
    home,
    repo,
    env: { HOME: home, PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
  };
}

function sanitized(path: string): string {
  return path.replace(/^\/+/, "").replaceAll("/", "-");
}

/**
 * Writes a session of `count` events of about `bytes` each into the zig home
 * of `at`, indexed in both indexes; every 10 000th event is a step_failed.
 */
function makeSession(
  at: { home: string; repo: string },
  options: { count: number; bytes: number },
): string {
  const id = crypto.randomUUID();
  const project = join(at.home, ".zig", "projects", sanitized(at.repo));
  const dir = join(project, "logs", "sessions");
  Deno.mkdirSync(dir, { recursive: true });
  const log = join(dir, `${id}.jsonl`);
  const file = Deno.openSync(log, { create: true, write: true });
  const encoder = new TextEncoder();
  const ts = "2026-11-23T22:41:46.369218144+00:00";
  const envelope = (seq: number) =>
    `{"seq":${seq},"ts":"${ts}","zig_session_id":"${id}",`;
  let text = envelope(1) +
    `"type":"zig_session_started","workflow_name":"bench","workflow_path":"/bench.zwf","workspace_path":${
      JSON.stringify(project)
    },"cwd":null,"prompt":"bench","tier_count":1}\n` +
    envelope(2) + `"type":"tier_started","tier_index":0,"step_names":["s"]}\n` +
    envelope(3) +
    `"type":"step_started","step_name":"s","tier_index":0,"zag_session_id":"z","zag_command":"run","model":null,"prompt_preview":"p"}\n`;
  let seq = 3;
  while (seq < options.count - 2) {
    seq++;
    const head = envelope(seq);
    if (seq % 10_000 === 0) {
      text += head +
        `"type":"step_failed","step_name":"s","exit_code":1,"attempt":${seq},"error":"exited with code 1"}\n`;
    } else {
      const prefix = head +
        `"type":"step_output","step_name":"s","stream":"stdout","line":"`;
      const line = `output ${seq} `.padEnd(
        Math.max(0, options.bytes - prefix.length - 3),
        "x",
      );
      text += `${prefix}${line}"}\n`;
    }
    if (text.length > 1 << 20) {
      file.writeSync(encoder.encode(text));
      text = "";
    }
  }
  text += envelope(++seq) +
    `"type":"step_completed","step_name":"s","exit_code":0,"duration_ms":5,"saved_vars":[]}\n` +
    envelope(++seq) +
    `"type":"zig_session_ended","status":"success","duration_ms":9}\n`;
  file.writeSync(encoder.encode(text));
  file.close();
  const entry = {
    zig_session_id: id,
    workflow_name: "bench",
    workflow_path: "/bench.zwf",
    log_path: log,
    started_at: ts,
    ended_at: ts,
    status: "success",
    workspace_path: project,
  };
  Deno.writeTextFileSync(
    join(project, "logs", "index.json"),
    JSON.stringify({ sessions: [entry] }, null, 2),
  );
  return id;
}

/** Writes both indexes of `at`'s zig home with `count` ended sessions. */
function makeIndexes(at: { home: string; repo: string }, count: number): void {
  makeIndexesIn(join(at.home, ".zig"), { count, projectRoot: at.repo });
}

interface Pair {
  ref: number;
  ours: number;
  refRss?: number;
  oursRss?: number;
}

interface Row {
  name: string;
  unit: "ms" | "µs/event";
  target: string;
  /** Passes when the median ratio (ours / reference) meets the target. */
  limit: number;
  setup?: () => void;
  pair: () => Pair;
  memory?: boolean;
}

const ref = buildReference();
const cache: Record<string, unknown> = {};
function once<T>(key: string, make: () => T): T {
  return (cache[key] ??= make()) as T;
}

const recordInput = () =>
  once("record-input", () => {
    const path = Deno.makeTempFileSync({ suffix: ".txt" });
    const line = "x".repeat(99) + "\n";
    Deno.writeTextFileSync(path, line.repeat(1_000_000));
    return path;
  });
const log55 = () =>
  once("log55", () => {
    const at = place();
    const id = makeSession(at, { count: 200_000, bytes: 278 });
    const log = join(
      at.home,
      ".zig",
      "projects",
      sanitized(at.repo),
      "logs",
      "sessions",
      `${id}.jsonl`,
    );
    return { ...at, id, log };
  });
const log222 = () =>
  once("log222", () => {
    const at = place();
    const id = makeSession(at, { count: 800_000, bytes: 277 });
    const log = join(
      at.home,
      ".zig",
      "projects",
      sanitized(at.repo),
      "logs",
      "sessions",
      `${id}.jsonl`,
    );
    return { ...at, id, log };
  });
const index100k = () =>
  once("index100k", () => {
    const at = place();
    makeIndexes(at, 100_000);
    return at;
  });

function refWholeRead(
  at: { env: Record<string, string>; repo: string },
  log: string,
) {
  return run(ref, ["read", log], { env: at.env, cwd: at.repo });
}

function cliRow(
  name: string,
  options: {
    args: (id: string) => string[];
    log: () => ReturnType<typeof log55>;
    limit: number;
    target: string;
  },
): Row {
  return {
    name,
    unit: "ms",
    target: options.target,
    limit: options.limit,
    setup: options.log,
    pair() {
      const at = options.log();
      const r = refWholeRead(at, at.log);
      const o = deno([...RUN, CLI, ...options.args(at.id)], {
        env: at.env,
        cwd: at.repo,
      });
      return { ref: r.wallMs, ours: o.wallMs };
    },
  };
}

/** 200k step_output events of 100 B, one a call or `batch` a batch. */
function append(options: { batch?: number; limit: number }): Row {
  const { batch, limit } = options;
  return {
    name: batch === undefined
      ? "append 200k step_output of 100 B through stepOutput (cold)"
      : `append 200k step_output of 100 B through batch(), ${batch} a batch (cold)`,
    unit: "µs/event",
    target: `≤ ${limit}×`,
    limit,
    pair() {
      const a = place();
      const r = run(ref, ["append", "200000", "100"], {
        env: a.env,
        cwd: a.repo,
      });
      const b = place();
      const o = deno([
        ...RUN,
        join(root, "bench/cold/append.ts"),
        "200000",
        "100",
        ...(batch === undefined ? [] : [String(batch)]),
      ], { env: b.env, cwd: b.repo });
      Deno.removeSync(a.home, { recursive: true });
      Deno.removeSync(b.home, { recursive: true });
      return {
        ref: JSON.parse(r.stdout).ns_per_event / 1000,
        ours: JSON.parse(o.stdout).ns_per_event / 1000,
      };
    },
  };
}

function startEnd(count: number, limit: number, target: string): Row {
  return {
    name: `session start + end, ${
      count / 1000
    }k indexed (index written by the reference)`,
    unit: "ms",
    target,
    limit,
    pair() {
      const at = place();
      const r = run(ref, ["index-bench", String(count)], {
        env: at.env,
        cwd: at.repo,
      });
      const o = deno([...RUN, join(root, "bench/cold/start_end.ts")], {
        env: at.env,
        cwd: at.repo,
      });
      Deno.removeSync(at.home, { recursive: true });
      return {
        ref: JSON.parse(r.stdout).create_end_ns / 1e6,
        ours: JSON.parse(o.stdout).create_end_ns / 1e6,
      };
    },
  };
}

const ROWS: Row[] = [
  {
    name:
      "record -- cat FILE, 1M lines of 100 B (whole process; reference: append 1M)",
    unit: "ms",
    target: "≤ 0.6×",
    limit: 0.6,
    setup: recordInput,
    pair() {
      const a = place();
      const r = run(ref, ["append", "1000000", "100"], {
        env: a.env,
        cwd: a.repo,
      });
      const b = place();
      const o = deno([
        ...RUN,
        CLI,
        "record",
        "--quiet",
        "--",
        "cat",
        recordInput(),
      ], {
        env: b.env,
        cwd: b.repo,
      });
      Deno.removeSync(a.home, { recursive: true });
      Deno.removeSync(b.home, { recursive: true });
      return { ref: r.wallMs, ours: o.wallMs };
    },
  },
  append({ batch: undefined, limit: 0.75 }),
  append({ batch: 1000, limit: 0.5 }),
  startEnd(10_000, 0.5, "≤ 0.5×"),
  startEnd(100_000, 0.25, "≤ 0.25×"),
  {
    name: "readSessionEvents, 55 MB / 200k events (cold)",
    unit: "ms",
    target: "≤ 0.9×",
    limit: 0.9,
    setup: log55,
    pair() {
      const at = log55();
      const r = run(ref, ["read", at.log], { env: at.env, cwd: at.repo });
      const o = deno([...RUN, join(root, "bench/cold/read.ts"), at.log], {
        env: at.env,
        cwd: at.repo,
      });
      return {
        ref: JSON.parse(r.stdout).ns / 1e6,
        ours: JSON.parse(o.stdout).ns / 1e6,
      };
    },
  },
  cliRow(
    "events ID --type step_failed --json, 55 MB (whole process; reference: full read)",
    {
      args: (id) => ["events", id, "--type", "step_failed", "--json"],
      log: log55,
      limit: 0.5,
      target: "≤ 0.5×",
    },
  ),
  cliRow(
    "events ID --last 50, 222 MB / 800k events (whole process; reference: full read)",
    {
      args: (id) => ["events", id, "--last", "50"],
      log: log222,
      limit: 0.05,
      target: "≤ 0.05×",
    },
  ),
  cliRow("events ID --count, 222 MB (whole process; reference: full read)", {
    args: (id) => ["events", id, "--count"],
    log: log222,
    limit: 0.25,
    target: "≤ 0.25×",
  }),
  cliRow("show ID, 222 MB (whole process; reference: full read)", {
    args: (id) => ["show", id],
    log: log222,
    limit: 0.35,
    target: "≤ 0.35×",
  }),
  {
    name: "list --json, 100k indexed (whole process; reference: list)",
    unit: "ms",
    target: "≤ 1.0×, memory ≤ reference",
    limit: 1.0,
    memory: true,
    setup: index100k,
    pair() {
      const at = index100k();
      const r = run(ref, ["list"], { env: at.env, cwd: at.repo });
      const o = deno([...RUN, CLI, "list", "--json"], {
        env: at.env,
        cwd: at.repo,
      });
      return {
        ref: r.wallMs,
        ours: o.wallMs,
        refRss: r.rssMb,
        oursRss: o.rssMb,
      };
    },
  },
  {
    name: "list --limit 20, 100k indexed (whole process; reference: list)",
    unit: "ms",
    target: "≤ 0.3×",
    limit: 0.3,
    memory: true,
    setup: index100k,
    pair() {
      const at = index100k();
      const r = run(ref, ["list"], { env: at.env, cwd: at.repo });
      const o = deno([...RUN, CLI, "list", "--limit", "20"], {
        env: at.env,
        cwd: at.repo,
      });
      return {
        ref: r.wallMs,
        ours: o.wallMs,
        refRss: r.rssMb,
        oursRss: o.rssMb,
      };
    },
  },
];

const words = Deno.args.map((w) => w.toLowerCase());
const chosen = ROWS.filter((row) =>
  words.length === 0 || words.some((w) => row.name.toLowerCase().includes(w))
);
console.log(
  `Reference: ${ref}\nMachine: ${Deno.build.target}, ${navigator.hardwareConcurrency} cores; medians of ${PAIRS} pairs, each side a fresh process\n`,
);
let failed = 0;
for (const row of chosen) {
  row.setup?.();
  const pairs: Pair[] = [];
  for (let i = 0; i < PAIRS; i++) pairs.push(row.pair());
  const refMedian = median(pairs.map((p) => p.ref));
  const oursMedian = median(pairs.map((p) => p.ours));
  const ratios = pairs.map((p) => p.ours / p.ref);
  const ratio = oursMedian / refMedian;
  let ok = ratio <= row.limit;
  let memory = "";
  if (row.memory) {
    const refRss = median(pairs.map((p) => p.refRss!));
    const oursRss = median(pairs.map((p) => p.oursRss!));
    memory = `; memory ${oursRss.toFixed(0)} MB vs ${refRss.toFixed(0)} MB`;
    if (row.name.includes("memory ≤") || row.target.includes("memory")) {
      ok &&= oursRss <= refRss;
    }
  }
  if (!ok) failed++;
  const fmt = (v: number) =>
    row.unit === "ms" ? `${v.toFixed(1)} ms` : `${v.toFixed(2)} µs`;
  console.log(
    `${ok ? "meets" : "MISSES"}  ${row.name}\n        reference ${
      fmt(refMedian)
    }, ours ${fmt(oursMedian)}: ${ratio.toFixed(2)}× (pairs ${
      ratios.map((r) => r.toFixed(2)).join(", ")
    }), target ${row.target}${memory}`,
  );
}
console.log(
  `\n${chosen.length - failed} of ${chosen.length} rows meet their target`,
);
for (const key of ["log55", "log222", "index100k"]) {
  const at = cache[key] as { home: string } | undefined;
  if (at) Deno.removeSync(at.home, { recursive: true });
}
if (cache["record-input"]) Deno.removeSync(cache["record-input"] as string);
