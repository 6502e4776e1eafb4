// The CLI, run as a real subprocess with exactly the permissions the compile
// task bakes in (CLI_FLAGS of tests/cli/_helpers.ts).
import assert from "node:assert/strict";
import { join } from "node:path";
import { CLI, cliProcess, CONFIG, workspace } from "./cli/_helpers.ts";
import { lines, projectFile, tempDir } from "./_helpers.ts";

const cli = cliProcess;

// ---------------------------------------------------------------- usage

Deno.test("cli: help for the program and every command; usage errors exit 2 with a hint", async () => {
  using tmp = tempDir();
  const top = await cli(["--help"], { home: tmp.path });
  assert.equal(top.code, 0);
  const commands = [
    "record",
    "start",
    "end",
    "list",
    "show",
    "events",
    "listen",
    "search",
    "stats",
    "wait",
    "gc",
    "reindex",
    "verify",
  ];
  for (const c of commands) {
    assert.match(top.stdout, new RegExp(`^  ${c} `, "m"));
  }
  const helps = await Promise.all(
    commands.map((c) => cli([c, "--help"], { home: tmp.path })),
  );
  helps.forEach((h, i) => {
    assert.equal(h.code, 0, commands[i]);
    assert.match(
      h.stdout,
      new RegExp(
        `^zig-session ${commands[i]}: .*\\n\\nUsage: zig-session ${
          commands[i]
        }`,
      ),
      commands[i],
    );
  });
  const cases: Array<[string[], RegExp]> = [
    [
      ["frobnicate"],
      /Unknown command "frobnicate"\nRun 'zig-session --help' for usage\n$/,
    ],
    [
      ["list", "--colour"],
      /Unknown option --colour\nRun 'zig-session list --help' for usage\n$/,
    ],
    [["record"], /Missing the command to record/],
    [
      ["record", "ls", "-la"],
      /Unknown option -l; if that option is the command's, put the command after --/,
    ],
    [["events"], /Missing the session id/],
    [
      ["list", "--limit", "ten"],
      /Invalid --limit "ten": expected a non-negative integer/,
    ],
    [["list", "--since", "yesterday"], /Invalid --since "yesterday"/],
    [["list", "--status", "done"], /Invalid --status "done"/],
    [["wait", "abc", "--timeout", "soon"], /Invalid --timeout "soon"/],
    [["end", "abc", "--status", "ok"], /Invalid --status "ok"/],
  ];
  const results = await Promise.all(
    cases.map(([args]) => cli(args, { home: tmp.path })),
  );
  results.forEach((r, i) => {
    assert.equal(r.code, 2, `${cases[i][0].join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, cases[i][1]);
    assert.doesNotMatch(r.stderr, /\bat .*\.ts:\d+/, "no stack trace");
  });
  const none = await cli([], { home: tmp.path });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /Usage: zig-session <command>/);
});

Deno.test("cli: a missing permission names the flag to add", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--allow-env", "--allow-read", CLI, "start"],
    cwd: w.repo,
    env: { ZIG_HOME: w.home },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 1);
  assert.match(
    new TextDecoder().decode(out.stderr),
    new RegExp(
      `write access is not granted, run again with --allow-write=${w.home}`,
    ),
  );
});

// ---------------------------------------------------------------- binary

const denort = Deno.env.get("DENORT_BIN");
if (!denort) {
  console.log(
    "cli_test: skipping the compiled-binary test: DENORT_BIN is not set (deno compile needs a denort runtime, which this machine cannot download)",
  );
}

Deno.test({
  name: "cli compiled with the compile task runs with its baked-in permissions",
  ignore: !denort,
  async fn() {
    using tmp = tempDir();
    const output = join(tmp.path, "zig-session");
    const task = JSON.parse(Deno.readTextFileSync(CONFIG)).tasks.compile
      .replace("--output zig-session", `--output ${output}`);
    const compile = await new Deno.Command("sh", {
      args: ["-c", task],
      cwd: projectFile("."),
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(compile.code, 0, new TextDecoder().decode(compile.stderr));
    const w = workspace(tmp.path);
    const run = (args: string[]) =>
      new Deno.Command(output, {
        args,
        cwd: w.repo,
        env: { ZIG_HOME: w.home, PATH: Deno.env.get("PATH") ?? "" },
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
    const rec = await run(["record", "--quiet", "--", "echo", "compiled"]);
    assert.equal(rec.code, 0, new TextDecoder().decode(rec.stderr));
    const listed = new TextDecoder().decode(
      (await run(["list", "--json"])).stdout,
    );
    assert.equal(JSON.parse(listed)[0].state, "success");
    assert.equal(lines(join(w.project, "logs", "index.json")).length > 0, true);
  },
});
