// Commands declared once (lib/_cli/_command.ts): --help and the parser come
// from the same options, so the help lists exactly what the parser accepts.
import assert from "node:assert/strict";
import { defineCommand } from "../../lib/_cli/_command.ts";
import { UsageError } from "../../lib/_cli/_args.ts";
import { demo } from "../../lib/_cli/demo.ts";
import { events } from "../../lib/_cli/events.ts";
import { end } from "../../lib/_cli/end.ts";
import { exportCommand } from "../../lib/_cli/export.ts";
import { gc } from "../../lib/_cli/gc.ts";
import { list } from "../../lib/_cli/list.ts";
import { listen } from "../../lib/_cli/listen.ts";
import { reindex } from "../../lib/_cli/reindex.ts";
import { record } from "../../lib/_cli/record.ts";
import { search } from "../../lib/_cli/search.ts";
import { serve } from "../../lib/_cli/serve.ts";
import { show } from "../../lib/_cli/show.ts";
import { start } from "../../lib/_cli/start.ts";
import { stats } from "../../lib/_cli/stats.ts";
import { verify } from "../../lib/_cli/verify.ts";
import { wait } from "../../lib/_cli/wait.ts";
import { tempDir } from "../_helpers.ts";
import { runCli } from "./_helpers.ts";

const CONVERTED = [
  gc,
  reindex,
  verify,
  stats,
  wait,
  demo,
  exportCommand,
  serve,
  list,
  show,
  events,
  listen,
  search,
  record,
  start,
  end,
];

/** The options the Options section of a help text lists, by long name. */
function listedOptions(help: string): string[] {
  const section = help.split("\nOptions:\n")[1] ?? "";
  return [...section.matchAll(/^ {2}(?:-\w, )?--([\w-]+)/gm)].map((m) => m[1]);
}

Deno.test("every converted command's --help lists every option its parser accepts, and no other", async () => {
  using tmp = tempDir();
  for (const command of CONVERTED) {
    const printed = await runCli([command.name, "--help"], { home: tmp.path });
    assert.equal(printed.code, 0, command.name);
    assert.equal(printed.stdout, command.help(), command.name);
    const accepted = Object.keys(command.parserOptions).sort();
    assert.deepEqual(
      listedOptions(printed.stdout).sort(),
      accepted,
      command.name,
    );
    // Each option with its help text and, for a value, its value's name.
    for (const [name, option] of Object.entries(command.options)) {
      const value = option.type === "string" ? ` ${option.value}` : "";
      const short = option.short ? `-${option.short}, ` : "";
      const line = printed.stdout.split("\n").find((l) =>
        l.startsWith(`  ${short}--${name}${value} `)
      );
      assert.ok(line, `${command.name} --${name}: no help line`);
      assert.ok(
        line.includes(option.help.split("\n")[0]),
        `${command.name} --${name}: ${line}`,
      );
      // ...and in the usage line.
      assert.match(
        printed.stdout,
        new RegExp(
          `^Usage: zig-session ${command.name} .*\\[--${name}[\\] ]`,
          "m",
        ),
      );
    }
  }
});

Deno.test("every option a converted command's help lists, its parser accepts; others are refused", async () => {
  using tmp = tempDir();
  for (const command of CONVERTED) {
    const ctx = {
      cwd: tmp.path,
      zigHome: tmp.path,
      out: { write() {}, isTerminal: false, color: false },
      err: { write() {}, isTerminal: false, color: false },
    };
    for (const name of listedOptions(command.help())) {
      const option = command.parserOptions[name];
      const argv = option.type === "string"
        ? [`--${name}`, "x"]
        : [`--${name}`];
      try {
        command.parse(argv, ctx);
      } catch (error) {
        // A bad value or a missing id may be refused: never the option.
        assert.ok(error instanceof UsageError, String(error));
        assert.doesNotMatch(error.message, /Unknown option/, `--${name}`);
      }
    }
    const bogus = await runCli([command.name, "--bogus"], { home: tmp.path });
    assert.equal(bogus.code, 2, command.name);
    assert.equal(
      bogus.stderr,
      // record without -- also says where the command's own options go.
      `zig-session: Unknown option --bogus${
        command.name === "record"
          ? "; if that option is the command's, put the command after --"
          : ""
      }\nRun 'zig-session ${command.name} --help' for usage\n`,
    );
  }
});

Deno.test("the parser of a declared command: typed flags, its own messages, negative numbers as values", () => {
  const seen: unknown[] = [];
  const command = defineCommand({
    name: "probe",
    summary: "a command of the test",
    positionals: "[ID]",
    options: {
      tag: { type: "string", multiple: true, value: "T", help: "a tag" },
      last: { type: "string", value: "N", default: "10", help: "how many" },
      json: { type: "boolean", short: "j", help: "JSON" },
    },
    flags: (values, positionals) => ({ ...values, positionals }),
    run: (flags) => (seen.push(flags), 0),
  });
  let out = "";
  const ctx = {
    cwd: "/",
    out: {
      write: (t: string) => void (out += t),
      isTerminal: false,
      color: false,
    },
    err: { write() {}, isTerminal: false, color: false },
  };
  assert.deepEqual(command.parse(["a", "--tag", "x", "--tag=y", "-j"], ctx), {
    tag: ["x", "y"],
    last: undefined,
    json: true,
    positionals: ["a"],
  });
  assert.deepEqual(command.parse([], ctx), {
    tag: [],
    last: undefined,
    json: false,
    positionals: [],
  });
  // A negative number is taken as the value, for the flags to judge.
  assert.equal(command.parse(["--last", "-1"], ctx)?.last, "-1");
  const refused: Array<[string[], string]> = [
    [["--last"], "Missing the value of --last"],
    [
      ["--last", "--json"],
      'Missing the value of --last before "--json" (a value that starts with "-" is written --last=VALUE)',
    ],
    [["--json=1"], "Option --json takes no value"],
    [["--nope"], "Unknown option --nope"],
  ];
  for (const [argv, message] of refused) {
    assert.throws(
      () => command.parse(argv, ctx),
      (error: unknown) =>
        error instanceof UsageError && error.message === message,
      argv.join(" "),
    );
  }
  assert.equal(command.parse(["-h"], ctx), undefined);
  assert.equal(out, command.help());
  assert.equal(
    out,
    `zig-session probe: a command of the test

Usage: zig-session probe [ID] [--tag T]... [--last N] [--json]

Options:
  --tag T     a tag (repeatable)
  --last N    how many (default 10)
  -j, --json  JSON
  -h, --help  print this help
`,
  );
});
