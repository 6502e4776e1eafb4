// `zig-session demo` (the README's first command): records a short workflow
// into a temporary zig home, then shows list, show and events of it. It runs
// the other commands as a user would, through the CLI (ctx.cli).
import type { Context } from "./common.ts";
import { type CommandContext, defineCommand } from "./_command.ts";

/** `zig-session demo`. */
export const demo = defineCommand({
  name: "demo",
  summary: "record a demo workflow and show it with list, show and events",
  details:
    `Records a two-tier workflow (start, two recorded steps, end) into a new
temporary zig home, never yours, then runs list, show and events on it and
says where the files are.`,
  options: {},
  flags: () => ({}),
  run,
});

async function run(_flags: unknown, parent: CommandContext): Promise<number> {
  const home = Deno.makeTempDirSync({ prefix: "zig-session-demo-" });
  const ctx: Context = { ...parent, zigHome: home };
  const say = (text: string) => parent.out.write(`\n\x24 ${text}\n`);
  const cli = async (args: string[], shown: string, into = ctx) => {
    say(`zig-session ${shown}`);
    const code = await parent.cli(args, into);
    if (code !== 0) throw new DemoFailed(code);
  };
  parent.out.write(`Recording a demo workflow into ${home}\n`);
  try {
    let id = "";
    await cli(
      [
        "start",
        "--workflow",
        "demo",
        "--tiers",
        "2",
        "--prompt",
        "show what a session looks like",
      ],
      "start --workflow demo --tiers 2",
      {
        ...ctx,
        out: {
          ...ctx.out,
          write: (text) => (id = text.trim(), parent.out.write(text)),
        },
      },
    );
    const steps: Array<[string, string, string]> = [
      ["plan", "0", "echo 'planning the change'; echo 'two files to touch'"],
      [
        "build",
        "1",
        "echo 'compiling'; echo 'warning: unused variable' >&2; sleep 0.2; echo done",
      ],
    ];
    const short = id.slice(0, 8);
    for (const [step, tier, script] of steps) {
      const options = ["--step", step, "--tier", tier];
      await cli(
        ["record", "--session", id, ...options, "--", "sh", "-c", script],
        `record --session ${short} ${options.join(" ")} -- sh -c "${script}"`,
      );
    }
    await cli(["end", id], `end ${short}`);
    await cli(["list"], "list");
    await cli(["show", id], `show ${short}`);
    await cli(["events", id], `events ${short}`);
  } catch (error) {
    if (error instanceof DemoFailed) return error.code;
    throw error;
  }
  parent.out.write(`\nThe files are in ${home}\n`);
  return 0;
}

/** A command of the demo failed (it said why): the demo stops there. */
class DemoFailed extends Error {
  code: number;
  constructor(code: number) {
    super(`A command of the demo exited ${code}`);
    this.code = code;
  }
}
