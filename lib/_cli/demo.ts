// `zig-session demo` (the README's first command): records a short workflow
// into a temporary zig home, then shows list, show and events of it.
import { type CommandSpec, type Context, parseCommand } from "./common.ts";
import { end, record, start } from "./record.ts";
import { list, show } from "./query.ts";
import { events } from "./events.ts";

export const DEMO: CommandSpec = {
  name: "demo",
  summary: "record a demo workflow and show it with list, show and events",
  usage: "Usage: zig-session demo",
  details:
    `Records a two-tier workflow (start, two recorded steps, end) into a new
temporary zig home, never yours, then runs list, show and events on it and
says where the files are.`,
  options: {},
};

/** `zig-session demo`. */
export async function demo(argv: string[], parent: Context): Promise<number> {
  if (!parseCommand(DEMO, { argv, ctx: parent })) return 0;
  const home = Deno.makeTempDirSync({ prefix: "zig-session-demo-" });
  const ctx: Context = { ...parent, zigHome: home };
  const say = (text: string) => parent.out.write(`\n\x24 ${text}\n`);
  parent.out.write(`Recording a demo workflow into ${home}\n`);

  say("zig-session start --workflow demo --tiers 2");
  let id = "";
  start([
    "--workflow",
    "demo",
    "--tiers",
    "2",
    "--prompt",
    "show what a session looks like",
  ], {
    ...ctx,
    out: {
      ...ctx.out,
      write: (text) => (id = text.trim(), parent.out.write(text)),
    },
  });
  const steps: Array<[string, string, string]> = [
    ["plan", "0", "echo 'planning the change'; echo 'two files to touch'"],
    [
      "build",
      "1",
      "echo 'compiling'; echo 'warning: unused variable' >&2; sleep 0.2; echo done",
    ],
  ];
  for (const [step, tier, script] of steps) {
    say(
      `zig-session record --session ${
        id.slice(0, 8)
      } --step ${step} --tier ${tier} -- sh -c "${script}"`,
    );
    const code = await record([
      "--session",
      id,
      "--step",
      step,
      "--tier",
      tier,
      "--",
      "sh",
      "-c",
      script,
    ], ctx);
    if (code !== 0) return code;
  }
  say(`zig-session end ${id.slice(0, 8)}`);
  await end([id], ctx);
  say("zig-session list");
  list([], ctx);
  say(`zig-session show ${id.slice(0, 8)}`);
  await show([id], ctx);
  say(`zig-session events ${id.slice(0, 8)}`);
  await events([id], ctx);
  parent.out.write(`\nThe files are in ${home}\n`);
  return 0;
}
