// `zig-session listen`: a session's events as they are written.
import { followSessionEvents } from "../../mod.ts";
import type { ProblemHandler } from "../../mod.ts";
import { resolveSession, visible, warn } from "./common.ts";
import { checkEventTypes, UsageError } from "./_args.ts";
import { type CommandContext, defineCommand } from "./_command.ts";
import { activeSession, watchAbandoned } from "./_session_watch.ts";
import {
  eventLine,
  writeZigParseError,
  zigEventProblem,
  zigListening,
} from "./_zig_text.ts";

/** What `listen` is asked. */
export interface ListenFlags {
  /** The session, by id or unique prefix. */
  id?: string;
  latest: boolean;
  active: boolean;
  global: boolean;
  json: boolean;
  timestamps: boolean;
  /** Only events of these types; all when empty. */
  types: string[];
}

/** `zig-session listen`. */
export const listen = defineCommand({
  name: "listen",
  summary: "print a session's events as they are written, until it ends",
  positionals: "[ID]",
  details:
    `Prints what is already in the log, then each new event within milliseconds
of its write (file-change notifications, not polling). Exits 0 when the
session ends, at once if it already has; exits 1 if the session is abandoned
(nothing written to its log for 3 heartbeat intervals: its process gone).

The text is zig listen's, line for line (colors only on a terminal):
  ▶ zig session started: NAME (N tiers)
  ── tier N (STEP, STEP)                  tiers numbered from 1
    running step 'STEP' (zag CMD model=M, session=ID)...
  [STEP] LINE                             both streams (stderr yellow on a terminal)
    completed 'STEP' in Nms (saved: VAR, VAR)
    step 'STEP' failed (attempt N): ERROR
    skipping 'STEP' (REASON)
  ■ zig session ended (Success|Failure) in Nms
Heartbeats print nothing. On stderr: "listening to session log: PATH" first,
and "[parse error] ERROR: LINE" (its first 80 bytes, then …) for a line that
is not an event zig could read.`,
  options: {
    latest: {
      type: "boolean",
      help: "the session that started last (the default without ID)",
    },
    active: { type: "boolean", help: "the newest session still running" },
    global: { type: "boolean", help: "look in every project" },
    json: { type: "boolean", help: "NDJSON events" },
    timestamps: {
      type: "boolean",
      help: "prefix each line with the event's timestamp",
    },
    filter: {
      type: "string",
      multiple: true,
      value: "TYPE",
      help: "only events of this type",
    },
  },
  flags(values, positionals): ListenFlags {
    if (positionals.length > 1) throw new UsageError("Give one session id");
    checkEventTypes(values.filter);
    if (values.active && (positionals.length > 0 || values.latest)) {
      throw new UsageError("Give an ID, --latest or --active, not two of them");
    }
    const { filter: types, ...rest } = values;
    return { id: positionals[0], types, ...rest };
  },
  run,
});

async function run(flags: ListenFlags, ctx: CommandContext): Promise<number> {
  const { types, json, timestamps } = flags;
  const found = flags.active
    ? activeSession(ctx, flags.global)
    : resolveSession(ctx, {
      id: flags.id,
      latest: flags.latest || flags.id === undefined,
      global: flags.global,
    });
  if (!found) {
    ctx.err.write(
      `zig-session: no session is running in ${
        flags.global ? "any project" : "this project (try --global)"
      }\n`,
    );
    return 1;
  }
  const controller = new AbortController();
  let abandoned = false;
  const stopWatch = watchAbandoned(found, () => {
    abandoned = true;
    controller.abort();
  });
  let ended = false;
  ctx.err.write(zigListening(found.logPath) + "\n");
  const warning = warn(ctx);
  const onProblem: ProblemHandler = (problem) => {
    const { reason, text } = problem;
    // A line that does not parse: zig's words on stderr.
    if (text !== undefined && reason !== undefined) {
      writeZigParseError(ctx.err, { reason, text });
    } else warning(problem);
  };
  try {
    for await (
      const event of followSessionEvents(found.logPath, {
        signal: controller.signal,
        onProblem,
      })
    ) {
      if (event.type === "zig_session_ended") ended = true;
      if (types.length > 0 && !types.includes(event.type)) continue;
      if (json) {
        ctx.out.write(JSON.stringify(event) + "\n");
        continue;
      }
      const problem = zigEventProblem(event);
      if (problem !== undefined) {
        writeZigParseError(ctx.err, {
          reason: problem,
          text: JSON.stringify(event),
        });
        continue;
      }
      const line = eventLine(event, { out: ctx.out, timestamps });
      if (line !== undefined) ctx.out.write(line + "\n");
    }
  } finally {
    stopWatch();
  }
  if (!ended && abandoned) {
    ctx.err.write(
      `zig-session: session ${
        visible(found.entry.zig_session_id)
      } was abandoned: nothing written for 3 heartbeat intervals and no end event\n`,
    );
    return 1;
  }
  return 0;
}
