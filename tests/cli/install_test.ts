// The ways in: `deno task install`, `deno task demo` (deno run with the
// flags), and the compile task and release workflow, all with one set of
// permission flags written out (never a permission set: Deno warns that those
// are experimental, in front of the user).
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { projectFile, tempDir } from "../_helpers.ts";
import {
  CLI_FLAGS,
  CONFIG,
  EXPERIMENTAL_WARNING,
  PERMISSION_FLAGS,
} from "./_helpers.ts";

const WORKFLOW = projectFile(".github/workflows/release.yml");
const config = JSON.parse(Deno.readTextFileSync(CONFIG));
const decoder = new TextDecoder();

/** Splits a command line into words as sh does (quotes; no expansion). */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /'([^']*)'|"((?:[^"\\]|\\.)*)"|(\\.|[^\s'"])+|(\s+)/g;
  let word: string | undefined;
  for (const m of line.matchAll(re)) {
    if (m[4] !== undefined) {
      if (word !== undefined) out.push(word);
      word = undefined;
    } else {
      word = (word ?? "") + (m[1] ?? m[2] ?? m[0]);
    }
  }
  if (word !== undefined) out.push(word);
  return out;
}

/** The words of a command that grant or deny permissions. */
function permissionWords(command: string[]): string[] {
  return command.filter((w) =>
    /^(--allow-|--deny-|-A$|-P|--permission-set)/.test(w)
  ).sort();
}

/** Every `deno compile` command line of the release workflow. */
function workflowCompiles(): string[][] {
  const text = Deno.readTextFileSync(WORKFLOW).replaceAll(/\\\n\s*/g, " ");
  return text.split("\n")
    .filter((l) => /\bdeno compile\b/.test(l))
    .map((l) => words(l.slice(l.indexOf("deno compile"))));
}

/** The environment of a child: PATH with this deno first, and `vars`. */
function childEnv(vars: Record<string, string>): Record<string, string> {
  const denoDir = Deno.env.get("DENO_DIR");
  return {
    PATH: `${dirname(Deno.execPath())}:${
      Deno.env.get("PATH") ?? "/usr/bin:/bin"
    }`,
    ...(denoDir ? { DENO_DIR: denoDir } : {}),
    NO_COLOR: "1",
    ...vars,
  };
}

Deno.test("install: compile, install, demo, the CLI tests and the release workflow use the same permission flags", () => {
  assert.equal(
    config.permissions,
    undefined,
    "deno.json keeps no permission set",
  );
  const expected = [...PERMISSION_FLAGS].sort();
  const sources: Array<[string, string[]]> = [
    ["the CLI tests (CLI_FLAGS)", [...CLI_FLAGS]],
    ...["demo", "install", "compile"].map((
      task,
    ): [string, string[]] => [`deno task ${task}`, words(config.tasks[task])]),
  ];
  const compiles = workflowCompiles();
  assert.ok(compiles.length > 0, "the release workflow runs deno compile");
  compiles.forEach((c) => sources.push(["the release workflow", c]));
  for (const [where, command] of sources) {
    assert.deepEqual(permissionWords(command), expected, where);
  }
  // Both builds embed the page files of `serve`.
  for (const command of [words(config.tasks.compile), ...compiles]) {
    const at = command.indexOf("--include");
    assert.equal(command[at + 1], "web/", command.join(" "));
    assert.equal(command.at(-1), "cli.ts");
  }
  assert.ok(Deno.statSync(projectFile("web")).isDirectory);
});

Deno.test("install: the release workflow builds every platform on a tag, with Deno 2.9.6 and SHA-256 sums", () => {
  const text = Deno.readTextFileSync(WORKFLOW);
  assert.ok(
    text.includes('\non:\n  push:\n    tags: ["v*"]\n'),
    "runs on a push of a v* tag",
  );
  assert.match(text, /deno-version: 2\.9\.6$/m);
  for (
    const target of [
      "x86_64-unknown-linux-gnu",
      "aarch64-unknown-linux-gnu",
      "x86_64-apple-darwin",
      "aarch64-apple-darwin",
      "x86_64-pc-windows-msvc",
    ]
  ) {
    assert.match(text, new RegExp(`^ +${target}\\b`, "m"), target);
  }
  const [compile] = workflowCompiles();
  assert.equal(compile[compile.indexOf("--target") + 1], "$target");
  assert.match(text, /sha256sum zig-session-\* > SHA256SUMS/);
  assert.match(text, /gh release create "\$GITHUB_REF_NAME" dist\/\*/);
});

Deno.test("install: deno task install puts a working zig-session on PATH, with no warning", async () => {
  using tmp = tempDir();
  const root = join(tmp.path, "root");
  const install = await new Deno.Command(Deno.execPath(), {
    args: ["task", "install"],
    cwd: dirname(CONFIG),
    env: childEnv({ DENO_INSTALL_ROOT: root, HOME: tmp.path }),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const installed = decoder.decode(install.stdout) +
    decoder.decode(install.stderr);
  assert.equal(install.code, 0, installed);
  assert.ok(!installed.includes(EXPERIMENTAL_WARNING), installed);

  const home = join(tmp.path, "zig");
  const work = join(tmp.path, "work");
  Deno.mkdirSync(join(work, ".git"), { recursive: true });
  const run = async (args: string[]) => {
    const out = await new Deno.Command("zig-session", {
      args,
      cwd: work,
      env: childEnv({
        PATH: `${join(root, "bin")}:${childEnv({}).PATH}`,
        HOME: tmp.path,
        ZIG_HOME: home,
      }),
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const result = {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
    assert.ok(!result.stderr.includes(EXPERIMENTAL_WARNING), result.stderr);
    return result;
  };
  const version = await run(["--version"]);
  assert.deepEqual(version, {
    code: 0,
    stdout: `zig-session ${config.version}\n`,
    stderr: "",
  });
  const empty = await run(["list"]);
  assert.deepEqual(empty, {
    code: 0,
    stdout: "",
    stderr: "No sessions in this project (try --global)\n",
  });
  const rec = await run(["record", "--quiet", "--", "echo", "installed"]);
  assert.equal(rec.code, 0, rec.stderr);
  assert.match(rec.stderr, /^zig-session: session [0-9a-f-]{36}\n$/);
  const list = await run(["list", "--json"]);
  const [entry] = JSON.parse(list.stdout);
  assert.equal(entry.state, "success");
  assert.ok(entry.log_path.startsWith(home), entry.log_path);
});

Deno.test("install: deno task demo, as the README says to run it, prints no warning", async () => {
  using tmp = tempDir();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "demo"],
    cwd: dirname(CONFIG),
    env: childEnv({ HOME: tmp.path, TMPDIR: tmp.path }),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = decoder.decode(out.stdout);
  const stderr = decoder.decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  assert.ok(!(stdout + stderr).includes(EXPERIMENTAL_WARNING), stderr);
  assert.match(
    stdout,
    new RegExp(`^Recording a demo workflow into ${tmp.path}/`),
  );
  assert.match(stdout, /demo\s+success/);
});
