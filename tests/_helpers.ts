// Shared helpers of the tests.
import { join } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import {
  formatTimestamp,
  nowTimestamp,
  parseTimestamp,
  SessionWriter,
  type SessionWriterOptions,
} from "../mod.ts";

/** The reference implementation's zig home, as copied into the project. */
export const FIXTURE_HOME = fromFileUrl(
  new URL("./fixtures/zig-home/.zig", import.meta.url),
);
/** The zig home path the fixtures were written with. */
export const FIXTURE_HOME_PATH = "/home/ada/.zig";
/** The project dir of the fixtures' git sessions. */
export const FIXTURE_PROJECT = join(
  FIXTURE_HOME,
  "projects",
  "home-ada-src-shop",
);

/** A fresh temporary directory, removed when disposed. */
export function tempDir(): { path: string } & Disposable {
  const path = Deno.makeTempDirSync({ prefix: "zig-session-test-" });
  return {
    path,
    [Symbol.dispose]() {
      Deno.removeSync(path, { recursive: true });
    },
  };
}

/**
 * When the reference wrote the fixtures: copies get this modification time,
 * so that their open session looks as old as its events say (a fresh copy
 * would count as freshly written).
 */
export const FIXTURE_WRITTEN_AT = new Date("2026-11-23T22:41:47Z");

/** Copies the fixture zig home into `dir` and returns the copy's path. */
export function copyFixtureHome(dir: string): string {
  const target = join(dir, ".zig");
  copyTree(FIXTURE_HOME, target);
  return target;
}

function copyTree(from: string, to: string): void {
  Deno.mkdirSync(to, { recursive: true });
  for (const item of Deno.readDirSync(from)) {
    const a = join(from, item.name);
    const b = join(to, item.name);
    if (item.isDirectory) copyTree(a, b);
    else {
      Deno.copyFileSync(a, b);
      Deno.chmodSync(b, 0o644);
      Deno.utimeSync(b, FIXTURE_WRITTEN_AT, FIXTURE_WRITTEN_AT);
    }
  }
}

/** Absolute path of a file of the project. */
export function projectFile(path: string): string {
  return fromFileUrl(new URL(`../${path}`, import.meta.url));
}

/** `deno run` with the permissions the workers in tests/workers/ need. */
export const RUN_WORKER: readonly string[] = [
  "run",
  "--allow-read",
  "--allow-write",
  "--allow-env",
];

/** Runs `deno` with arguments; returns code, stdout and stderr as text. */
export async function runDeno(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; stdin?: string } = {},
): Promise<
  { code: number; signal: Deno.Signal | null; stdout: string; stderr: string }
> {
  const command = new Deno.Command(Deno.execPath(), {
    args,
    env: options.env,
    cwd: options.cwd,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  });
  const child = command.spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const out = await child.output();
  const decoder = new TextDecoder();
  return {
    code: out.code,
    signal: out.signal,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

/** Reads the non-empty lines of a file. */
export function lines(path: string): string[] {
  return Deno.readTextFileSync(path).split("\n").filter((l) => l !== "");
}

/** A clock that returns the given timestamps in order, then fails. */
export function scriptedClock(stamps: string[]): () => string {
  let i = 0;
  return () => {
    if (i >= stamps.length) throw new Error("The scripted clock ran out");
    return stamps[i++];
  };
}

/** A writer of a new session in project "/p" of the zig home `home`. */
export function testWriter(
  home: string,
  options: Partial<SessionWriterOptions> = {},
): SessionWriter {
  return SessionWriter.create({
    zigHome: home,
    projectRoot: "/p",
    workflowName: "w",
    workflowPath: "w",
    tierCount: 1,
    ...options,
  });
}

/**
 * Reads text from a stream until `marker` has been seen (or, without one,
 * until the stream ends); fails if the stream ends first.
 */
export async function readText(
  reader: ReadableStreamDefaultReader<string>,
  options: { marker?: string; seen?: string } = {},
): Promise<string> {
  let seen = options.seen ?? "";
  while (options.marker === undefined || !seen.includes(options.marker)) {
    const { value, done } = await reader.read();
    if (done) {
      if (options.marker === undefined) return seen;
      throw new Error(`The stream ended before "${options.marker}":\n${seen}`);
    }
    seen += value;
  }
  return seen;
}

/**
 * Makes a session log look written `seconds` ago: every event's `ts` moved
 * back by that much, and the file's modification time set to then. Done
 * under the log's lock, in place, so that a writer appending to it meanwhile
 * loses nothing.
 */
export function ageLog(path: string, seconds: number): void {
  const file = Deno.openSync(path, { read: true, write: true });
  try {
    file.lockSync(true);
    const text = new TextDecoder().decode(Deno.readFileSync(path));
    const shift = BigInt(Math.round(seconds * 1e9));
    const aged = text.replace(
      /"ts":"([^"]+)"/g,
      (_, ts: string) =>
        `"ts":"${formatTimestamp(parseTimestamp(ts)! - shift)}"`,
    );
    const bytes = new TextEncoder().encode(aged);
    file.truncateSync(0);
    file.seekSync(0, Deno.SeekMode.Start);
    let offset = 0;
    while (offset < bytes.length) {
      offset += file.writeSync(bytes.subarray(offset));
    }
    const then = new Date(Date.now() - seconds * 1000);
    file.utimeSync(then, then);
  } finally {
    file.close();
  }
}

/**
 * Writes `count` session logs straight into a project's sessions dir (no
 * index), fast enough for thousands: each a `zig_session_started` line and,
 * unless `open`, a `zig_session_ended` one. Started a day ago, a second
 * apart. Returns their ids in start order.
 */
export function writeBulkLogs(
  project: string,
  options: { count: number; open?: boolean; workflow?: string },
): string[] {
  const dir = join(project, "logs", "sessions");
  Deno.mkdirSync(dir, { recursive: true });
  const base = Date.now() - 86_400_000;
  const ids: string[] = [];
  for (let i = 0; i < options.count; i++) {
    const id = crypto.randomUUID();
    const ts = new Date(base + i * 1000).toISOString();
    const head = { zig_session_id: id };
    let text = JSON.stringify({
      seq: 1,
      ts,
      ...head,
      type: "zig_session_started",
      workflow_name: options.workflow ?? "bulk",
      workflow_path: "bulk.zwf",
      workspace_path: project,
      cwd: project,
      prompt: null,
      tier_count: 1,
    }) + "\n";
    if (!options.open) {
      text += JSON.stringify({
        seq: 2,
        ts,
        ...head,
        type: "zig_session_ended",
        status: "success",
        duration_ms: 0,
      }) + "\n";
    }
    Deno.writeTextFileSync(join(dir, `${id}.jsonl`), text);
    ids.push(id);
  }
  return ids;
}

/** What {@linkcode appendLongEvent} writes. */
export interface LongEventOptions {
  /** The event's seq. */
  seq: number;
  /** The session's id. */
  sessionId: string;
  /** How many "x" fill the middle of the event's `line`. */
  fill: number;
  /** Text before the fill (JSON-escaped when written). */
  head?: string;
  /** Text after the fill (JSON-escaped when written). */
  tail?: string;
  /** The event's `ts`; default now. */
  ts?: string;
  /** Raw JSON written after `line`'s value, before the closing brace. */
  after?: string;
  /** Whether the line ends with a newline; default true. */
  newline?: boolean;
}

/**
 * Appends a step_output event whose `line` is `head`, `fill` times "x", then
 * `tail`, written a megabyte at a time: a line too long to hold, without
 * holding it here either.
 */
export function appendLongEvent(path: string, options: LongEventOptions) {
  const encoder = new TextEncoder();
  const escape = (text: string) => JSON.stringify(text).slice(1, -1);
  const file = Deno.openSync(path, { append: true });
  try {
    const write = (text: string | Uint8Array) => {
      const bytes = typeof text === "string" ? encoder.encode(text) : text;
      for (let at = 0; at < bytes.length;) {
        at += file.writeSync(bytes.subarray(at));
      }
    };
    write(
      `{"seq":${options.seq},"ts":"${
        options.ts ?? nowTimestamp()
      }","zig_session_id":"${options.sessionId}","type":"step_output","step_name":"s","stream":"stdout","line":"${
        escape(options.head ?? "")
      }`,
    );
    const chunk = encoder.encode("x".repeat(1 << 20));
    for (let left = options.fill; left > 0; left -= chunk.length) {
      write(left >= chunk.length ? chunk : chunk.subarray(0, left));
    }
    write(
      `${escape(options.tail ?? "")}"${options.after ?? ""}}${
        options.newline === false ? "" : "\n"
      }`,
    );
  } finally {
    file.close();
  }
}

/** What {@linkcode appendMessyLog} wrote. */
export interface MessyLog {
  /** Every complete line, as text (U+FFFD where a byte is not UTF-8). */
  lines: string[];
  /** Their numbers, from 1, of the lines that are not JSON. */
  malformed: number[];
}

/**
 * Appends `count` lines of everything a reader meets to a log: mostly
 * step_output lines as zig writes them, and among them other events, values
 * that need escapes, other spacing, blank lines, JSON that is no event,
 * malformed lines, a line with a byte that is not UTF-8; then, unless
 * `torn: false`, a torn last line. Seeded: the same log every time.
 */
export function appendMessyLog(
  path: string,
  options: { sessionId: string; count: number; seq?: number; torn?: boolean },
): MessyLog {
  let seed = 42;
  const random = () =>
    (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const id = options.sessionId;
  const start = Deno.readFileSync(path);
  const first = new TextDecoder().decode(start).split("\n").length;
  const envelope = (seq: number) => ({
    seq,
    ts: `2026-11-23T22:41:${String(seq % 60).padStart(2, "0")}.${
      String(seq).padStart(9, "0")
    }+00:00`,
    zig_session_id: id,
  });
  const texts: string[] = [];
  const bytes: Uint8Array[] = [];
  const malformed: number[] = [];
  const encoder = new TextEncoder();
  let seq = options.seq ?? 2;
  for (let i = 0; i < options.count; i++) {
    const r = random();
    const s = seq++;
    let text: string;
    if (r < 0.7) {
      text = JSON.stringify({
        ...envelope(s),
        type: "step_output",
        step_name: ["build", "test", "lint"][s % 3],
        stream: s % 5 === 0 ? "stderr" : "stdout",
        line: `output ${s} ` + "x".repeat(Math.floor(random() * 200)),
      });
    } else if (r < 0.75) {
      text = JSON.stringify({
        ...envelope(s),
        type: "step_output",
        step_name: "build",
        stream: "stdout",
        line: ['a "quote"', "tab\there", "\u001b[31mred", "back\\slash"][s % 4],
      });
    } else if (r < 0.8) {
      text = JSON.stringify({
        ...envelope(s),
        type: "step_failed",
        step_name: "test",
        exit_code: 1,
        attempt: s,
        error: "exited with code 1",
      });
    } else if (r < 0.83) {
      text = JSON.stringify({
        ...envelope(s),
        type: "heartbeat",
        interval_secs: 10,
      });
    } else if (r < 0.85) {
      text = JSON.stringify({
        ...envelope(s),
        type: "custom_kind",
        data: { type: "step_failed" },
      });
    } else if (r < 0.87) {
      // Valid JSON, other spacing.
      text = JSON.stringify(
        {
          ...envelope(s),
          type: "step_output",
          step_name: "build",
          stream: "stdout",
          line: "spaced",
        },
        null,
        1,
      ).replaceAll("\n", "");
    } else if (r < 0.89) {
      text = ["", "   ", "null", "42", "[]"][s % 5];
    } else if (r < 0.93) {
      // Malformed: cut short, a bad escape, two lines run together, not JSON.
      const whole = JSON.stringify({
        ...envelope(s),
        type: "step_output",
        step_name: "build",
        stream: "stdout",
        line: "cut",
      });
      text = [
        whole.slice(0, 40),
        whole.replace('"cut"', '"c\\qut"'),
        whole.slice(0, 60) + whole,
        "not json at all",
      ][s % 4];
      malformed.push(first + i);
    } else {
      text = JSON.stringify({
        ...envelope(s),
        type: "step_output",
        step_name: "build",
        stream: "stdout",
        line: "plain",
      });
    }
    texts.push(text);
    bytes.push(encoder.encode(text + "\n"));
  }
  // A byte that is not UTF-8, inside a value, near the end.
  const bad = encoder.encode(
    JSON.stringify({
      ...envelope(seq++),
      type: "step_output",
      step_name: "build",
      stream: "stdout",
      line: "bad?byte",
    }) + "\n",
  );
  bad[bad.indexOf(63)] = 0xff;
  bytes.splice(bytes.length - 3, 0, bad);
  texts.splice(texts.length - 3, 0, new TextDecoder().decode(bad).slice(0, -1));
  for (let k = 0; k < malformed.length; k++) {
    if (malformed[k] >= first + texts.length - 4) malformed[k]++;
  }
  if (options.torn !== false) {
    bytes.push(
      encoder.encode(
        JSON.stringify({ ...envelope(seq), type: "heartbeat" }).slice(0, 30),
      ),
    );
  }
  const file = Deno.openSync(path, { append: true });
  try {
    for (const b of bytes) {
      for (let at = 0; at < b.length;) at += file.writeSync(b.subarray(at));
    }
  } finally {
    file.close();
  }
  const all = new TextDecoder().decode(start).split("\n").slice(0, -1);
  return { lines: [...all, ...texts], malformed };
}
