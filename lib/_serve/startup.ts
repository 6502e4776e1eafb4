// Internal to `serve`: starting up and stopping around the server: the stop
// signals, the startup message (URL, token), the browser, the permissions
// given up once listening, and the closing line.
import type { Writer } from "../_cli/common.ts";
import type { TokenSource } from "./token.ts";

/** SIGINT and SIGTERM, listened for until {@linkcode StopSignals.unlisten}. */
export interface StopSignals {
  /** Resolves with the first signal received. */
  stopped: Promise<Deno.Signal>;
  unlisten(): void;
}

/** Starts listening for SIGINT and SIGTERM. */
export function listenForStop(): StopSignals {
  const stopped = Promise.withResolvers<Deno.Signal>();
  const listeners: Array<[Deno.Signal, () => void]> = [];
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const listener = () => stopped.resolve(signal);
    try {
      Deno.addSignalListener(signal, listener);
      listeners.push([signal, listener]);
    } catch { /* SIGTERM does not exist on Windows */ }
  }
  return {
    stopped: stopped.promise,
    unlisten() {
      for (const [s, l] of listeners) Deno.removeSignalListener(s, l);
    },
  };
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

/** What {@linkcode announce} tells. */
export interface AnnounceOptions {
  token: string;
  source: TokenSource;
  global: boolean;
  /** Open the page in the default browser. */
  open: boolean;
  err: Writer;
}

/**
 * Once listening: prints where and the token, opens the browser if asked,
 * gives up the network and run permissions, then prints the page's URL.
 */
export async function announce(
  url: string,
  options: AnnounceOptions,
): Promise<void> {
  const { token, source, global, err } = options;
  const scope = global ? "every project's sessions" : "this project's sessions";
  err.write(`zig-session serve: listening on ${url} (${scope})\n`);
  const pageUrl = source === "generated" ? `${url}/#token=${token}` : `${url}/`;
  if (source === "generated") {
    err.write(
      `Token: ${token} (generated; --token or ZIG_SERVE_TOKEN to choose one)\n`,
    );
  }
  if (options.open) {
    try {
      openBrowser(pageUrl);
    } catch (error) {
      err.write(
        `zig-session: could not open a browser (${
          (error as Error).message
        }): open the URL below yourself\n`,
      );
    }
  }
  await dropPermissions();
  // Last, once ready: the page can be opened now.
  err.write(
    source === "generated"
      ? `Open ${pageUrl}\n`
      : `Open ${pageUrl} and enter the token (from ${source})\n`,
  );
}

/** The last line: what stopped the server and how many streams it closed. */
export function stoppedLine(
  signal: Deno.Signal | undefined,
  closed: number,
): string {
  return `zig-session serve: ${
    signal ?? "stopped"
  }: closed ${closed} open stream${closed === 1 ? "" : "s"}, stopped\n`;
}
