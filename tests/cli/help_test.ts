// The CLI's help and usage errors, in process through main(args, ctx): the
// program's help lists every command, each command has its own, and a usage
// error exits 2 with a hint and no stack trace.
import assert from "node:assert/strict";
import { runCli } from "./_helpers.ts";
import { tempDir } from "../_helpers.ts";

Deno.test("help for the program and every command; usage errors exit 2 with a hint", async () => {
  using tmp = tempDir();
  const top = await runCli(["--help"], { home: tmp.path });
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
    commands.map((c) => runCli([c, "--help"], { home: tmp.path })),
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
    cases.map(([args]) => runCli(args, { home: tmp.path })),
  );
  results.forEach((r, i) => {
    assert.equal(r.code, 2, `${cases[i][0].join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, cases[i][1]);
    assert.doesNotMatch(r.stderr, /\bat .*\.ts:\d+/, "no stack trace");
  });
  const none = await runCli([], { home: tmp.path });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /Usage: zig-session <command>/);
});
