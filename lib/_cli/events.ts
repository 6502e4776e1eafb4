// `zig-session events`: a session's stored events.
import { resolveSession, warn } from "./common.ts";
import { checkEventTypes, parseCount, UsageError } from "./_args.ts";
import { type CommandContext, defineCommand } from "./_command.ts";
import { queryEvents } from "./_event_query.ts";
import { eventLine } from "./_zig_text.ts";

/** What `events` is asked. */
export interface EventsFlags {
  /** The session, by id or unique prefix. */
  id?: string;
  latest: boolean;
  global: boolean;
  types: string[];
  after?: number;
  before?: number;
  last?: number;
  count: boolean;
  timestamps: boolean;
  json: boolean;
}

/** `zig-session events`. */
export const events = defineCommand({
  name: "events",
  summary: "print a session's stored events",
  positionals: "[ID]",
  details:
    `Each event prints as zig listen prints it (see listen --help); heartbeats,
which zig does not print, as "♥ heartbeat", and event types zig does not know
as their type and fields.`,
  options: {
    latest: { type: "boolean", help: "the session that started last" },
    global: { type: "boolean", help: "look in every project" },
    type: {
      type: "string",
      multiple: true,
      value: "T",
      help: "only events of this type",
    },
    "after-seq": {
      type: "string",
      value: "N",
      help: "only events with seq > N",
    },
    "before-seq": {
      type: "string",
      value: "N",
      help: "only events with seq < N",
    },
    last: {
      type: "string",
      value: "N",
      help: "only the last N events (after the other filters)",
    },
    count: { type: "boolean", help: "print the number of events only" },
    timestamps: {
      type: "boolean",
      help: "prefix each line with the event's timestamp",
    },
    json: { type: "boolean", help: "NDJSON, each line exactly as stored" },
  },
  flags(values, positionals): EventsFlags {
    if (positionals.length > 1) throw new UsageError("Give one session id");
    checkEventTypes(values.type);
    return {
      id: positionals[0],
      latest: values.latest,
      global: values.global,
      types: values.type,
      after: parseCount(values["after-seq"], "--after-seq"),
      before: parseCount(values["before-seq"], "--before-seq"),
      last: parseCount(values.last, "--last"),
      count: values.count,
      timestamps: values.timestamps,
      json: values.json,
    };
  },
  run,
});

function run(flags: EventsFlags, ctx: CommandContext): number {
  const { types, after, before, last, count, json, timestamps } = flags;
  const found = resolveSession(ctx, {
    id: flags.id,
    latest: flags.latest,
    global: flags.global,
  });
  // Lines go out in batches: one write per line costs a system call each.
  let out = "";
  const n = queryEvents(found.logPath, {
    query: { types, after, before, last, count },
    sink: {
      onProblem: warn(ctx),
      event(text, event) {
        out += (json ? text : eventLine(event ?? JSON.parse(text), {
          out: ctx.out,
          timestamps,
          all: true,
        })!) + "\n";
        if (out.length >= 1 << 16) {
          ctx.out.write(out);
          out = "";
        }
      },
    },
  });
  if (count) out += `${n}\n`;
  if (out !== "") ctx.out.write(out);
  return 0;
}
