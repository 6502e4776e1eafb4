// `zig-session wait`: waiting for sessions to end.
import { followSessionEvents } from "../../mod.ts";
import { resolveSession, visible, warn } from "./common.ts";
import { parseDuration, UsageError } from "./_args.ts";
import { type CommandContext, defineCommand } from "./_command.ts";
import { firstEnded, watchAbandoned } from "./_session_watch.ts";

/** What `wait` is asked. */
export interface WaitFlags {
  /** The sessions, by id or unique prefix. */
  ids: string[];
  /** How long to wait, in milliseconds, and the option as given. */
  timeout?: { ms: number; text: string };
  any: boolean;
  global: boolean;
}

/** `zig-session wait`. */
export const wait = defineCommand({
  name: "wait",
  summary: "wait for sessions to end",
  positionals: "ID...",
  details:
    `Exits 0 when every session succeeded, 1 when any failed or was abandoned
(its process died without ending it), 124 on timeout. With --any, returns as
soon as one ends, with the result of the session that ended first, whatever
the order of the ids (of sessions that have already ended: the earliest end;
at the same instant, a failure before a success); prints only that one.`,
  options: {
    timeout: {
      type: "string",
      value: "D",
      help: "give up after D (90s, 5m, 2h), exit 124",
    },
    any: { type: "boolean", help: "return when the first session ends" },
    global: {
      type: "boolean",
      help: "look the ids up in every project, not this one first",
    },
  },
  flags(values, positionals): WaitFlags {
    if (positionals.length === 0) {
      throw new UsageError("Give at least one session id to wait for");
    }
    const text = values.timeout;
    return {
      ids: positionals,
      timeout: text === undefined
        ? undefined
        : { ms: parseDuration(text, "--timeout"), text },
      any: values.any,
      global: values.global,
    };
  },
  run,
});

async function run(flags: WaitFlags, ctx: CommandContext): Promise<number> {
  const { any, global } = flags;
  const timeoutMs = flags.timeout?.ms;
  const found = flags.ids.map((id) => resolveSession(ctx, { id, global }));
  const ended = any ? firstEnded(found) : undefined;
  if (ended) {
    ctx.out.write(`${ended.session.entry.zig_session_id} ${ended.state}\n`);
    return ended.state === "success" ? 0 : 1;
  }
  const controller = new AbortController();
  let timedOut = false;
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const results: Array<string | undefined> = found.map(() => undefined);
  let first: string | undefined;
  const report = (i: number, result: string) => {
    if (any && first !== undefined) return; // the first to end decides
    first ??= result;
    results[i] = result;
    ctx.out.write(
      `${visible(found[i].entry.zig_session_id)} ${visible(String(result))}\n`,
    );
    if (any) controller.abort();
  };
  const watchers = found.map(async (s, i) => {
    const mine = new AbortController();
    const stop = () => mine.abort();
    controller.signal.addEventListener("abort", stop);
    const stopWatch = watchAbandoned(s, () => {
      report(i, "abandoned");
      mine.abort();
    });
    try {
      for await (
        const event of followSessionEvents(s.logPath, {
          signal: mine.signal,
          onProblem: warn(ctx),
        })
      ) {
        if (event.type === "zig_session_ended") report(i, event.status);
      }
    } finally {
      stopWatch();
      controller.signal.removeEventListener("abort", stop);
    }
  });
  await Promise.all(watchers);
  clearTimeout(timer);
  const done = results.filter((r) => r !== undefined);
  if (any && first !== undefined) return first === "success" ? 0 : 1;
  if (timedOut && done.length < results.length) {
    ctx.err.write(
      `zig-session: timed out after ${flags.timeout?.text} with ${
        results.length - done.length
      } session(s) still running\n`,
    );
    return 124;
  }
  return results.every((r) => r === "success") ? 0 : 1;
}
