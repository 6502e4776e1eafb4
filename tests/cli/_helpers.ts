// Shared helpers of the CLI tests: the CLI in process (fast) and as a real
// subprocess with the permissions the executable carries.
import { join } from "node:path";
import { main } from "../../cli.ts";
import { projectDir, SessionWriter } from "../../mod.ts";
import { projectFile } from "../_helpers.ts";
import type { Context, Writer } from "../../lib/_cli/common.ts";

/** What a CLI run printed and returned. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The entry point of the CLI. */
export const CLI = projectFile("cli.ts");
/** The project's deno.json. */
export const CONFIG = projectFile("deno.json");
/**
 * The permissions the CLI runs with, written out (a permission set in
 * deno.json would make Deno print an "experimental" warning on every run).
 * The same flags stand in deno.json's demo, install and compile tasks and in
 * the release workflow: tests/cli/install_test.ts checks that they agree.
 *
 * - env: the zig home (`ZIG_HOME`, `HOME`, `USERPROFILE`), `serve`'s token,
 *   `export`'s OpenTelemetry settings (`OTEL_*`) and `HOSTNAME`;
 * - read and write, unscoped: the zig home comes from the environment;
 * - run: `record` starts any command;
 * - net: `serve` listens (it narrows itself at run time), `export` sends to a
 *   collector;
 * - sys=hostname: the host name `export` reports.
 */
export const PERMISSION_FLAGS: readonly string[] = [
  "--allow-env=ZIG_HOME,HOME,USERPROFILE,ZIG_SERVE_TOKEN,OTEL_*,HOSTNAME",
  "--allow-read",
  "--allow-write",
  "--allow-run",
  "--allow-net",
  "--allow-sys=hostname",
];

/** `deno run` with the permissions the executable carries. */
export const CLI_FLAGS: readonly string[] = [
  "run",
  "--no-prompt",
  "--config",
  CONFIG,
  ...PERMISSION_FLAGS,
];

/** Deno's warning about permissions in the config file. */
export const EXPERIMENTAL_WARNING =
  "Permissions in the config file is an experimental feature";

/**
 * The CLI's stderr, checked: Deno's experimental warning must never show (a
 * user would see it), so this throws if it does.
 */
export function ourStderr(text: string): string {
  if (text.includes(EXPERIMENTAL_WARNING)) {
    throw new Error(`Deno's experimental warning was printed:\n${text}`);
  }
  return text;
}

/** Options of a CLI run. */
export interface CliOptions {
  /** The zig home. */
  home: string;
  /** The working directory; default the zig home. */
  cwd?: string;
  /** More environment variables (subprocess only). */
  env?: Record<string, string>;
}

/** The CLI as a real subprocess, not yet started. */
export function cliCommand(args: string[], options: CliOptions): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: [...CLI_FLAGS, CLI, ...args],
    cwd: options.cwd ?? options.home,
    env: {
      ZIG_HOME: options.home,
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      ...options.env,
    },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** Runs the CLI as a real subprocess and waits for it. */
export async function cliProcess(
  args: string[],
  options: CliOptions,
): Promise<CliResult> {
  const out = await cliCommand(args, options).output();
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: ourStderr(decoder.decode(out.stderr)),
  };
}

function capture(isTerminal = false): Writer & { text: string } {
  return {
    text: "",
    write(text: string) {
      this.text += text;
    },
    isTerminal,
    color: false,
  };
}

/**
 * Runs the CLI in this process through `main(args, ctx)`: for commands that
 * need no real process (no signals, no permissions, no child command).
 */
export async function runCli(
  args: string[],
  options: CliOptions & { terminal?: boolean },
): Promise<CliResult> {
  const out = capture(options.terminal);
  const err = capture(options.terminal);
  const ctx: Context = {
    zigHome: options.home,
    cwd: options.cwd ?? options.home,
    out,
    err,
  };
  const code = await main(args, ctx);
  return { code, stdout: out.text, stderr: err.text };
}

/** A zig home plus a git repository to run commands in. */
export function workspace(root: string): {
  home: string;
  repo: string;
  project: string;
  opts: { home: string; cwd: string };
} {
  const home = join(root, "zig");
  const repo = join(root, "repo");
  Deno.mkdirSync(join(repo, ".git"), { recursive: true });
  Deno.mkdirSync(home);
  const project = projectDir({ zigHome: home, projectRoot: repo });
  return { home, repo, project, opts: { home, cwd: repo } };
}

/**
 * The control characters in text a terminal is shown (C0 but newline and
 * tab, DEL, C1), as code points: what could move its cursor or restyle it.
 */
export function controlsIn(text: string): number[] {
  const found: number[] = [];
  for (const c of text) {
    const code = c.codePointAt(0)!;
    if (code === 10 || code === 9) continue;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) found.push(code);
  }
  return found;
}

/** Terminal escape sequences, as a hostile log or index may hold them. */
export const HOSTILE = {
  workflow: "wf\x1b]0;pwned\x07",
  prompt: "do it\nnow\x1b[2J",
  step: "st\x1b[8mep",
  model: "m\u009b31m",
  line: "\x1b[H\x1b[2Jconnection refused\r",
  error: "bad\x1b[5m",
  reason: "skip\x7f",
} as const;

/**
 * Records a failed session in the workspace's project whose every text
 * field holds terminal escape sequences ({@linkcode HOSTILE}).
 */
export function hostileSession(
  w: { home: string; repo: string },
): SessionWriter {
  const writer = SessionWriter.create({
    zigHome: w.home,
    cwd: w.repo,
    workflowName: HOSTILE.workflow,
    workflowPath: "flows/\x1b[1m.zwf",
    prompt: HOSTILE.prompt,
    tierCount: 1,
  });
  writer.tierStarted(0, [HOSTILE.step, "other"]);
  writer.stepStarted({
    stepName: HOSTILE.step,
    tierIndex: 0,
    zagSessionId: "z",
    zagCommand: "cmd \x1b[1m",
    model: HOSTILE.model,
    promptPreview: "p",
  });
  writer.stepOutput({
    stepName: HOSTILE.step,
    stream: "stdout",
    line: HOSTILE.line,
  });
  writer.stepFailed({
    stepName: HOSTILE.step,
    exitCode: 1,
    attempt: 1,
    error: HOSTILE.error,
  });
  writer.stepSkipped("other", HOSTILE.reason);
  writer.ended("failure", 10);
  return writer;
}

/**
 * Indexes `count` ended sessions of the workspace's project, in its index
 * and the global one, whose logs do not exist (removed by hand): what
 * commands reading many sessions must not drown their answer in.
 */
export function indexWithoutLogs(
  w: { home: string; project: string },
  count: number,
): void {
  const sessions = join(w.project, "logs", "sessions");
  Deno.mkdirSync(sessions, { recursive: true });
  const base = Date.now() - 86_400_000;
  const project = [];
  const global = [];
  for (let i = 0; i < count; i++) {
    const id = crypto.randomUUID();
    const at = (ms: number) =>
      new Date(base + ms).toISOString().replace("Z", "+00:00");
    const common = {
      zig_session_id: id,
      workflow_name: "gone",
      log_path: join(sessions, `${id}.jsonl`),
      started_at: at(i * 1000),
      ended_at: at(i * 1000 + 500),
      status: i % 4 === 0 ? "failure" : "success",
    };
    project.push({ ...common, workflow_path: "w.zwf" });
    global.push({ ...common, project: w.project });
  }
  Deno.writeTextFileSync(
    join(w.project, "logs", "index.json"),
    JSON.stringify({ sessions: project }, null, 2),
  );
  Deno.writeTextFileSync(
    join(w.home, "sessions_index.json"),
    JSON.stringify({ sessions: global }, null, 2),
  );
}
