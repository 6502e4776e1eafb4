// `serve`: a live web page of every session, and zig serve's session API.
import { zigHome } from "../../mod.ts";
import config from "../../deno.json" with { type: "json" };
import { parseCount, UsageError } from "./_args.ts";
import { type CommandContext, defineCommand } from "./_command.ts";
import { startServer } from "../_serve/server.ts";
import { announce, listenForStop, stoppedLine } from "../_serve/startup.ts";
import { requireChosenToken, resolveToken } from "../_serve/token.ts";

/** What `serve` is asked. */
export interface ServeFlags {
  host: string;
  port: number;
  token?: string;
  global: boolean;
  open: boolean;
}

/** `zig-session serve`. */
export const serve = defineCommand({
  name: "serve",
  summary: "serve a live web page of every session, and zig serve's API",
  details:
    `Serves the page at / (session list, live states, each step's output as it
is written) and zig serve's session routes under /api/v1 (compatible, plus
state, filters, a summary and an all-sessions stream). Stop it with Ctrl-C or
SIGTERM: open streams are closed cleanly.

The token: --token, else $ZIG_SERVE_TOKEN, else [server] token in
<zig home>/serve.toml, else a random one, printed with a URL that logs the
page in. Every API route but /api/v1/health needs it: as
"Authorization: Bearer T", a ?token= parameter, or the page's cookie.

Once listening, the process gives up its network permission (the listener
keeps accepting; nothing can connect out) and its permission to run programs.`,
  options: {
    host: {
      type: "string",
      value: "H",
      default: "127.0.0.1",
      help: "address to bind; any other than loopback needs a token\n" +
        "given by --token, $ZIG_SERVE_TOKEN or serve.toml",
    },
    port: {
      type: "string",
      value: "N",
      default: "3000",
      help: "port (0 picks a free one)",
    },
    token: { type: "string", value: "T", help: "the bearer token" },
    global: {
      type: "boolean",
      help: "every project's sessions by default (?global=0 narrows)",
    },
    open: { type: "boolean", help: "open the page in the default browser" },
  },
  flags(values): ServeFlags {
    const host = (values.host ?? "127.0.0.1").replace(/^\[|\]$/g, "");
    if (host === "") throw new UsageError("Empty --host: give an address");
    const port = parseCount(values.port, "--port") ?? 3000;
    if (port > 65535) {
      throw new UsageError(`Invalid --port "${port}": expected 0 to 65535`);
    }
    return {
      host,
      port,
      token: values.token,
      global: values.global,
      open: values.open,
    };
  },
  run,
});

async function run(flags: ServeFlags, ctx: CommandContext): Promise<number> {
  const { host, port, global } = flags;
  const home = zigHome({ zigHome: ctx.zigHome });
  const { token, source } = resolveToken(flags.token, home);
  requireChosenToken(host, source);
  // Listened for from the start: a signal while starting stops cleanly too.
  const stop = listenForStop();
  let server;
  try {
    server = await startServer({
      ctx: { ...ctx, zigHome: home },
      hostname: host,
      port,
      token,
      global,
      version: config.version,
    });
  } catch (error) {
    stop.unlisten();
    if (error instanceof Deno.errors.AddrInUse) {
      ctx.err.write(
        `zig-session: cannot listen on ${host}:${port}: the port is in use (choose another with --port, or 0 for any free one)\n`,
      );
      return 1;
    }
    throw error;
  }
  await announce(server.url, {
    token,
    source,
    global,
    open: flags.open,
    err: ctx.err,
  });
  const signal = await Promise.race([
    stop.stopped,
    server.finished.then(() => undefined),
  ]);
  stop.unlisten();
  ctx.err.write(stoppedLine(signal, await server.shutdown()));
  return 0;
}
