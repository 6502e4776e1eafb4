// Runs `zig-session serve` in this process, waits until it has given up its
// network permission, then tries to connect to the address in the first
// argument, and prints what happened as one JSON line. The test runs this
// with the executable's permission set.
import { main } from "../../cli.ts";

const [target, ...args] = Deno.args;
const encoder = new TextEncoder();
let url: string | undefined;
const err = {
  write(text: string) {
    Deno.stderr.writeSync(encoder.encode(text));
    url ??= /listening on (http:\/\/\S+)/.exec(text)?.[1];
  },
  isTerminal: false,
  color: false,
};
const out = { ...err, write: (text: string) => err.write(text) };
const serving = main(["serve", "--port", "0", ...args], {
  cwd: Deno.cwd(),
  out,
  err,
});
const granted = async (name: "net" | "run") =>
  (await Deno.permissions.query({ name })).state;
while (url === undefined || (await granted("net")) === "granted") {
  await new Promise((r) => setTimeout(r, 10));
}
const attempt = async (action: () => Promise<unknown>) => {
  try {
    await action();
    return "connected";
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  }
};
const [hostname, port] = target.split(":");
const report = {
  url,
  net: await granted("net"),
  run: await granted("run"),
  fetch: await attempt(() => fetch(`http://${target}/`)),
  connect: await attempt(() =>
    Deno.connect({ hostname, port: Number(port) }).then((c) => c.close())
  ),
};
Deno.stdout.writeSync(encoder.encode(JSON.stringify(report) + "\n"));
Deno.exit(await serving);
