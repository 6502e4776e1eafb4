// Internal to `serve`: the bearer token (flag, environment, serve.toml or a
// random one) and whether the address bound needs a chosen one.
import { join } from "node:path";
import { UsageError } from "../_cli/_args.ts";

/** Where the token came from. */
export type TokenSource =
  | "--token"
  | "ZIG_SERVE_TOKEN"
  | "serve.toml"
  | "generated";

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

/** The token: --token, else $ZIG_SERVE_TOKEN, else serve.toml, else random. */
export function resolveToken(
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

/** Refuses a generated token on an address beyond this machine. */
export function requireChosenToken(host: string, source: TokenSource): void {
  if (!isLoopback(host) && source === "generated") {
    throw new UsageError(
      `Binding ${host} serves the sessions beyond this machine: choose a token with --token, ZIG_SERVE_TOKEN or serve.toml`,
    );
  }
}
