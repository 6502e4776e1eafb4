import assert from "node:assert/strict";
import { join } from "node:path";
import {
  findProjectRoot,
  globalIndexPath,
  projectDir,
  projectDirOfIndex,
  projectDirOfLog,
  projectIndexPath,
  projectsDir,
  sanitizeProjectPath,
  sessionLogPath,
  sessionsDir,
  sessionsDirOfIndex,
  ZigError,
  zigHome,
  zigHomeOfProjectDir,
} from "../mod.ts";
import { projectFile, runDeno, tempDir } from "./_helpers.ts";

Deno.test("sanitizing removes the leading slash and turns the others into dashes", () => {
  assert.equal(sanitizeProjectPath("/home/ada/src/shop"), "home-ada-src-shop");
  assert.equal(sanitizeProjectPath("/a"), "a");
});

Deno.test("the project dir is under projects/ inside a repository, the zig home outside", () => {
  using tmp = tempDir();
  const repo = join(tmp.path, "repo");
  Deno.mkdirSync(join(repo, "deep", "er"), { recursive: true });
  Deno.writeTextFileSync(join(repo, ".git"), "gitdir: elsewhere\n"); // a worktree's .git is a file
  assert.equal(findProjectRoot(join(repo, "deep", "er")), repo);
  const home = join(tmp.path, "home");
  assert.equal(
    projectDir({ zigHome: home, cwd: join(repo, "deep") }),
    join(home, "projects", sanitizeProjectPath(repo)),
  );
  assert.equal(findProjectRoot(tmp.path), undefined);
  assert.equal(projectDir({ zigHome: home, cwd: tmp.path }), home);
  assert.equal(
    projectDir({ zigHome: home, projectRoot: "/x/y" }),
    join(home, "projects", "x-y"),
  );
});

Deno.test("layout paths match zig's", () => {
  assert.equal(
    sessionsDir("/h/.zig/projects/p"),
    "/h/.zig/projects/p/logs/sessions",
  );
  assert.equal(
    projectIndexPath("/h/.zig/projects/p"),
    "/h/.zig/projects/p/logs/index.json",
  );
  assert.equal(globalIndexPath("/h/.zig"), "/h/.zig/sessions_index.json");
  assert.equal(
    sessionLogPath("/h/.zig", "id"),
    "/h/.zig/logs/sessions/id.jsonl",
  );
  assert.equal(zigHome({ zigHome: "/explicit" }), "/explicit");
});

Deno.test("the layout read backwards: each log and index gives back its project dir and zig home", () => {
  const home = "/h/.zig";
  const repo = "/src/shop";
  for (
    const project of [
      home,
      projectDir({ zigHome: home, projectRoot: repo }),
      join(projectsDir(home), "a-projects-b"),
    ]
  ) {
    assert.equal(projectDirOfLog(sessionLogPath(project, "id-1")), project);
    assert.equal(projectDirOfIndex(projectIndexPath(project)), project);
    assert.equal(
      sessionsDirOfIndex(projectIndexPath(project)),
      sessionsDir(project),
    );
    assert.equal(zigHomeOfProjectDir(project), home);
  }
  assert.equal(projectsDir(home), "/h/.zig/projects");
  // A zig home that is itself named "projects" is no project of another home.
  assert.equal(zigHomeOfProjectDir("/h/projects"), "/h/projects");
});

async function homeWithEnv(
  env: Record<string, string>,
  flags = ["--allow-env"],
) {
  const script = projectFile("tests/workers/print_zig_home.ts");
  return await runDeno(["run", ...flags, script], {
    env: { PATH: Deno.env.get("PATH") ?? "", ...env },
  });
}

Deno.test("the zig home is $ZIG_HOME, else $HOME/.zig, else $USERPROFILE/.zig", async () => {
  const envWithout = (keep: Record<string, string>) => keep;
  // Run with a cleared environment so that the test's own HOME does not leak in.
  const cases: Array<[Record<string, string>, string]> = [
    [{ ZIG_HOME: "/z", HOME: "/h" }, "/z"],
    [{ HOME: "/h" }, "/h/.zig"],
    [{ USERPROFILE: "/u" }, "/u/.zig"],
  ];
  for (const [env, expected] of cases) {
    const script = projectFile("tests/workers/print_zig_home.ts");
    const command = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-env", script],
      env: envWithout(env),
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    });
    const out = await command.output();
    assert.equal(
      new TextDecoder().decode(out.stdout).trim(),
      expected,
      new TextDecoder().decode(out.stderr),
    );
  }
});

Deno.test("no HOME at all is a clear not_found error", async () => {
  const script = projectFile("tests/workers/print_zig_home.ts");
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-env", script],
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assert.match(
    stdout,
    /^not_found: Cannot find the zig home: neither ZIG_HOME nor HOME/,
  );
});

Deno.test("without env access the error names the flag to add", async () => {
  const r = await homeWithEnv({ HOME: "/h" }, []);
  assert.match(
    r.stdout,
    /^permission: .*--allow-env=ZIG_HOME,HOME,USERPROFILE/,
  );
});

Deno.test("a relative ZIG_HOME (or HOME) is refused: it would be a different home in each directory", async () => {
  using tmp = tempDir();
  const script = projectFile("tests/workers/print_zig_home.ts");
  for (
    const [env, name, value] of [
      [{ ZIG_HOME: "rel/zig" }, "ZIG_HOME", "rel/zig"],
      [{ ZIG_HOME: ".zig", HOME: "/h" }, "ZIG_HOME", ".zig"],
      [{ HOME: "home" }, "HOME", "home"],
    ] as const
  ) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-env", "--allow-read", script],
      env,
      clearEnv: true,
      cwd: tmp.path,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(
      new TextDecoder().decode(out.stdout),
      `parse: ${name} "${value}" is a relative path, which would name a different zig home in each directory: set it to an absolute path, such as "${
        join(tmp.path, value)
      }"\n`,
    );
  }
  // An explicit zigHome option is a path like any other: resolved once.
  assert.equal(zigHome({ zigHome: "rel" }), join(Deno.cwd(), "rel"));
});

Deno.test("a zig home that is no directory is a clear error, not permission advice", async () => {
  using tmp = tempDir();
  const file = join(tmp.path, "a-file");
  Deno.writeTextFileSync(file, "");
  const script = projectFile("tests/workers/print_zig_home.ts");
  for (const home of ["/dev/null", file, join(file, "below")]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-env", "--allow-read", script],
      env: { ZIG_HOME: home },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(
      new TextDecoder().decode(out.stdout),
      `io: The zig home "${home}" (from ZIG_HOME) is not a directory: set ZIG_HOME to a directory, or pass zigHome\n`,
    );
  }
  assert.throws(
    () => zigHome({ zigHome: file }),
    (e) => e instanceof ZigError && e.kind === "io" && e.path === file,
  );
});
