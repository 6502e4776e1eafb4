/**
 * The `zig-session` command line: records any command as a session and
 * queries sessions, serves a live page and exports to OpenTelemetry. Built on
 * the module (`mod.ts`) and a few of its internals.
 *
 * ```sh
 * zig-session record --workflow build -- make test
 * zig-session list
 * zig-session listen --latest
 * ```
 *
 * @module
 */
import { ZigError } from "./mod.ts";
import {
  type Context,
  streamWriter,
  UsageError,
  visible,
} from "./lib/_cli/common.ts";
import { record } from "./lib/_cli/record.ts";
import { start } from "./lib/_cli/start.ts";
import { end } from "./lib/_cli/end.ts";
import { list } from "./lib/_cli/list.ts";
import { show } from "./lib/_cli/show.ts";
import { events } from "./lib/_cli/events.ts";
import { listen } from "./lib/_cli/listen.ts";
import { search } from "./lib/_cli/search.ts";
import { stats } from "./lib/_cli/stats.ts";
import { wait } from "./lib/_cli/wait.ts";
import { gc } from "./lib/_cli/gc.ts";
import { reindex } from "./lib/_cli/reindex.ts";
import { verify } from "./lib/_cli/verify.ts";
import { demo } from "./lib/_cli/demo.ts";
import { exportCommand } from "./lib/_cli/export.ts";
import { serve } from "./lib/_cli/serve.ts";
import type { CommandContext } from "./lib/_cli/_command.ts";

type Command = (
  argv: string[],
  ctx: CommandContext,
) => number | Promise<number>;

const COMMANDS: Record<string, [Command, string]> = {
  record: [record.main, record.summary],
  start: [start.main, start.summary],
  end: [end.main, end.summary],
  list: [list.main, list.summary],
  // Shorter than its --help's first line, which is too wide for this list.
  show: [show.main, "show a session's summary and timeline"],
  events: [events.main, events.summary],
  listen: [listen.main, listen.summary],
  search: [search.main, search.summary],
  stats: [stats.main, stats.summary],
  wait: [wait.main, wait.summary],
  gc: [gc.main, gc.summary],
  reindex: [reindex.main, reindex.summary],
  verify: [verify.main, verify.summary],
  export: [exportCommand.main, exportCommand.summary],
  serve: [serve.main, serve.summary],
};

export const VERSION = "0.1.0";

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    "zig-session: the session log of the zig workflow runner",
    "",
    "Usage: zig-session <command> [options]",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([name, [, about]]) =>
      `  ${name.padEnd(width)}  ${about}`
    ),
    "",
    "Every command has --help. Sessions are named by id or unique id prefix.",
    "The zig home is $ZIG_HOME, else $HOME/.zig. NO_COLOR turns colors off.",
    "",
  ].join("\n");
}

/** Runs the CLI with `args`; returns the exit code. */
export async function main(args: string[], ctx: Context): Promise<number> {
  const [name, ...rest] = args;
  if (
    name === undefined || name === "help" || name === "--help" || name === "-h"
  ) {
    (name === undefined ? ctx.err : ctx.out).write(help());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V") {
    ctx.out.write(`zig-session ${VERSION}\n`);
    return 0;
  }
  const command: Command | undefined = name === "demo"
    ? demo.main
    : Object.hasOwn(COMMANDS, name)
    ? COMMANDS[name][0]
    : undefined;
  try {
    if (!command) {
      throw new UsageError(`Unknown command "${name}"`);
    }
    return await command(rest, { ...ctx, cli: main });
  } catch (error) {
    if (error instanceof UsageError) {
      const topic = command === undefined
        ? "zig-session --help"
        : `zig-session ${name} --help`;
      ctx.err.write(
        `zig-session: ${visible(error.message)}\nRun '${topic}' for usage\n`,
      );
      return 2;
    }
    if (error instanceof ZigError) {
      ctx.err.write(`zig-session: ${visible(error.message)}\n`);
      return 1;
    }
    if (error instanceof Deno.errors.NotCapable) {
      const access = /Requires (\w+) access/.exec(error.message)?.[1];
      ctx.err.write(
        `zig-session: ${error.message.replace(/\.$/, "")}${
          access ? ` (add --allow-${access})` : ""
        }\n`,
      );
      return 1;
    }
    throw error;
  }
}

if (import.meta.main) {
  const code = await main(Deno.args, {
    cwd: Deno.cwd(),
    out: streamWriter(Deno.stdout),
    err: streamWriter(Deno.stderr),
  });
  Deno.exit(code);
}
