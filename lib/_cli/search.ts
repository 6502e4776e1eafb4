// `zig-session search`: events whose text matches, across session logs.
import { progress, Warnings } from "./common.ts";
import { checkEventTypes, parseSince, UsageError } from "./_args.ts";
import { type CommandContext, defineCommand } from "./_command.ts";
import { SINCE_OPTION } from "./_options.ts";
import {
  hitLine,
  type Matcher,
  matcher,
  matchingEvents,
  writeLine,
} from "./_search_match.ts";
import { searchedSessions } from "./_search_scope.ts";

/** What `search` is asked. */
export interface SearchFlags {
  /** The query, made a matcher (`--regex`, `--ignore-case` applied). */
  match: Matcher;
  types: string[];
  /** Only this session, by id or unique prefix. */
  session?: string;
  /** Sessions started since this instant (ns), if given. */
  since?: bigint;
  global: boolean;
  json: boolean;
}

/** `zig-session search`. */
export const search = defineCommand({
  name: "search",
  summary: "find events whose text matches, across session logs",
  positionals: "QUERY",
  details:
    `Matches QUERY against the values of each event's fields (output lines,
prompts, errors, step names...), not its keys or envelope. Results stream as
they are found: session id prefix, seq, and the event as events prints it;
when the match is in a field that line does not show (a step's agent session
id, a prompt preview, a workflow path...), the line ends with that field as
field="value" (a long value cut around the match), so every hit shows.`,
  options: {
    regex: {
      type: "boolean",
      help: "QUERY is a JavaScript regular expression",
    },
    "ignore-case": { type: "boolean", short: "i", help: "ignore case" },
    type: {
      type: "string",
      multiple: true,
      value: "T",
      help: "only events of this type",
    },
    session: { type: "string", value: "ID", help: "only this session" },
    since: SINCE_OPTION,
    global: { type: "boolean", help: "every project's sessions" },
    json: {
      type: "boolean",
      help: "NDJSON of the matching events, as stored",
    },
  },
  flags(values, positionals): SearchFlags {
    if (positionals.length !== 1) {
      throw new UsageError("Give one QUERY (quote it if it has spaces)");
    }
    checkEventTypes(values.type);
    const match = matcher(positionals[0], {
      regex: values.regex,
      ignoreCase: values["ignore-case"],
    });
    return {
      match,
      types: values.type,
      since: values.since === undefined ? undefined : parseSince(values.since),
      session: values.session,
      global: values.global,
      json: values.json,
    };
  },
  run,
});

async function run(flags: SearchFlags, ctx: CommandContext): Promise<number> {
  const { match, types, json } = flags;
  const warnings = new Warnings(ctx);
  const sessions = searchedSessions(ctx, { ...flags, warnings });
  const onProblem = warnings.onProblem;
  const bar = progress(ctx, "searching");
  let matches = 0;
  for (const [i, { entry, logPath }] of sessions.entries()) {
    bar.tick(i, sessions.length);
    const id = entry.zig_session_id.slice(0, 8);
    try {
      for await (
        const hit of matchingEvents(logPath, { match, types, onProblem })
      ) {
        matches++;
        bar.done();
        if (json) {
          if (hit.long) await writeLine(logPath, hit.long, ctx.out);
          else ctx.out.write(hit.text + "\n");
          continue;
        }
        ctx.out.write(hitLine(hit, { id, match, out: ctx.out }) + "\n");
      }
    } catch (error) {
      warnings.skippedLog(logPath, error);
    }
  }
  bar.done();
  warnings.summarize();
  if (!json && matches === 0) ctx.err.write("No matches\n");
  return matches > 0 ? 0 : 1;
}
