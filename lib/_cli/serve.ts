// `serve`: a live web page of every session, and zig serve's session API.
import { join } from "node:path";
import { zigHome } from "../../mod.ts";
import config from "../../deno.json" with { type: "json" };
import { parseCount, UsageError } from "./_args.ts";
import { type CommandContext, defineCommand } from "./_command.ts";
import { startServer } from "../_serve/server.ts";

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

/** Where the token came from. */
type TokenSource = "--token" | "ZIG_SERVE_TOKEN" | "serve.toml" | "generated";

function envToken(): string | undefined {
  try {
    return Deno.env.get("ZIG_SERVE_TOKEN") || undefined;
  } catch {
    return undefined; // not permitted to read it: as if unset
  }
}

/** `token = "…"` under `[server]` in serve.toml, as zig reads it. */
export function tomlToken(text: string): string | undefined {
  let section = "";
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/^\s+|\s+$/g, "");
    const header = /^\[\s*([A-Za-z0-9_.-]+)\s*\]/.exec(line);
    if (header) {
      section = header[1];
      continue;
    }
    if (section !== "server") continue;
    const m = /^token\s*=\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)')\s*(#.*)?$/.exec(
      line,
    );
    if (m) {
      return m[1] !== undefined ? JSON.parse(`"${m[1]}"`) : m[2];
    }
  }
  return undefined;
}

function resolveToken(
  flag: string | undefined,
  home: string,
): { token: string; source: TokenSource } {
  if (flag !== undefined) {
    if (flag === "") throw new UsageError("Empty --token: give a token");
    return { token: flag, source: "--token" };
  }
  const env = envToken();
  if (env !== undefined) return { token: env, source: "ZIG_SERVE_TOKEN" };
  let toml: string | undefined;
  try {
    toml = Deno.readTextFileSync(join(home, "serve.toml"));
  } catch {
    toml = undefined;
  }
  const fromToml = toml === undefined ? undefined : tomlToken(toml);
  if (fromToml) return { token: fromToml, source: "serve.toml" };
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  const token = btoa(String.fromCharCode(...bytes)).replaceAll("+", "-")
    .replaceAll("/", "_");
  return { token, source: "generated" };
}

/** Whether a host name is this machine only. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h);
}

/** Starts the default browser on a URL (not waited for). */
function openBrowser(url: string): void {
  const [cmd, ...args] = Deno.build.os === "darwin"
    ? ["open", url]
    : Deno.build.os === "windows"
    ? ["cmd", "/c", "start", "", url]
    : ["xdg-open", url];
  const child = new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  child.status.catch(() => {});
  child.unref();
}

/** Gives up what serving does not need once the listener is bound. */
async function dropPermissions(): Promise<void> {
  for (const name of ["net", "run"] as const) {
    await Deno.permissions.revoke({ name });
  }
}

async function run(flags: ServeFlags, ctx: CommandContext): Promise<number> {
  const { host, port, global } = flags;
  const home = zigHome({ zigHome: ctx.zigHome });
  const { token, source } = resolveToken(flags.token, home);
  if (!isLoopback(host) && source === "generated") {
    throw new UsageError(
      `Binding ${host} serves the sessions beyond this machine: choose a token with --token, ZIG_SERVE_TOKEN or serve.toml`,
    );
  }
  // Listened for from the start: a signal while starting stops cleanly too.
  const stopped = Promise.withResolvers<Deno.Signal>();
  const listeners: Array<[Deno.Signal, () => void]> = [];
  const unlisten = () => {
    for (const [s, l] of listeners) Deno.removeSignalListener(s, l);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const listener = () => stopped.resolve(signal);
    try {
      Deno.addSignalListener(signal, listener);
      listeners.push([signal, listener]);
    } catch { /* SIGTERM does not exist on Windows */ }
  }
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
    unlisten();
    if (error instanceof Deno.errors.AddrInUse) {
      ctx.err.write(
        `zig-session: cannot listen on ${host}:${port}: the port is in use (choose another with --port, or 0 for any free one)\n`,
      );
      return 1;
    }
    throw error;
  }
  const scope = global ? "every project's sessions" : "this project's sessions";
  ctx.err.write(`zig-session serve: listening on ${server.url} (${scope})\n`);
  const pageUrl = source === "generated"
    ? `${server.url}/#token=${token}`
    : `${server.url}/`;
  if (source === "generated") {
    ctx.err.write(
      `Token: ${token} (generated; --token or ZIG_SERVE_TOKEN to choose one)\n`,
    );
  }
  if (flags.open) {
    try {
      openBrowser(pageUrl);
    } catch (error) {
      ctx.err.write(
        `zig-session: could not open a browser (${
          (error as Error).message
        }): open the URL below yourself\n`,
      );
    }
  }
  await dropPermissions();
  // Last, once ready: the page can be opened now.
  ctx.err.write(
    source === "generated"
      ? `Open ${pageUrl}\n`
      : `Open ${pageUrl} and enter the token (from ${source})\n`,
  );
  const signal = await Promise.race([
    stopped.promise,
    server.finished.then(() => undefined),
  ]);
  unlisten();
  const closed = await server.shutdown();
  ctx.err.write(
    `zig-session serve: ${signal ?? "stopped"}: closed ${closed} open stream${
      closed === 1 ? "" : "s"
    }, stopped\n`,
  );
  return 0;
}
