// `events`, `listen` and `search`: the events of sessions, stored or live.
import {
  followSessionEvents,
  isKnownEventType,
  KNOWN_EVENT_TYPES,
  listSessions,
  ZigError,
} from "../../mod.ts";
import type {
  AnySessionEntry,
  ProblemHandler,
  SessionLogEvent,
} from "../../mod.ts";
import type { ScannedObject, StringVisitor } from "../_json_scan.ts";
import { type LongLine, readChunks, scanLogLines } from "../_log_lines.ts";
import { queryEvents } from "./_event_query.ts";
import {
  type CommandSpec,
  type Context,
  instant,
  intFlag,
  listFlag,
  locateLog,
  LogFinder,
  newestFirst,
  paint,
  parseCommand,
  parseSince,
  progress,
  resolveSession,
  scopeOf,
  sessionState,
  stringFlag,
  UsageError,
  visible,
  warn,
  WARNING_KINDS,
  Warnings,
  type Writer,
} from "./common.ts";
import { formatEvent } from "./format.ts";
import {
  eventLine,
  zigEventProblem,
  zigListening,
  zigParseError,
} from "./_zig_text.ts";

function checkTypes(types: string[]): void {
  for (const type of types) {
    if (!isKnownEventType(type)) {
      throw new UsageError(
        `Unknown event type "${type}": expected one of ${
          KNOWN_EVENT_TYPES.join(", ")
        }`,
      );
    }
  }
}

export const EVENTS: CommandSpec = {
  name: "events",
  summary: "print a session's stored events",
  usage:
    "Usage: zig-session events (ID | --latest) [--type T]... [--after-seq N] [--before-seq N]\n" +
    "                          [--last N] [--count] [--global] [--json]",
  details:
    `Each event prints as zig listen prints it (see listen --help); heartbeats,
which zig does not print, as "♥ heartbeat", and event types zig does not know
as their type and fields.

Options:
  --type T          only events of this type (repeatable)
  --after-seq N     only events with seq > N
  --before-seq N    only events with seq < N
  --last N          only the last N events (after the other filters)
  --count           print the number of events only
  --timestamps      prefix each line with the event's timestamp
  --json            NDJSON, each line exactly as stored`,
  options: {
    latest: { type: "boolean" },
    global: { type: "boolean" },
    type: { type: "string", multiple: true },
    "after-seq": { type: "string" },
    "before-seq": { type: "string" },
    last: { type: "string" },
    count: { type: "boolean" },
    json: { type: "boolean" },
    timestamps: { type: "boolean" },
  },
  positionals: true,
};

/** `zig-session events`. */
export function events(argv: string[], ctx: Context): number {
  const parsed = parseCommand(EVENTS, { argv, ctx });
  if (!parsed) return 0;
  if (parsed.positionals.length > 1) {
    throw new UsageError("Give one session id");
  }
  const types = listFlag(parsed, "type");
  checkTypes(types);
  const after = intFlag(parsed, "after-seq");
  const before = intFlag(parsed, "before-seq");
  const last = intFlag(parsed, "last");
  const found = resolveSession(ctx, {
    id: parsed.positionals[0],
    latest: parsed.values.latest === true,
    global: parsed.values.global === true,
  });
  const json = parsed.values.json === true;
  const timestamps = parsed.values.timestamps === true;
  const count = parsed.values.count === true;
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

export const LISTEN: CommandSpec = {
  name: "listen",
  summary: "print a session's events as they are written, until it ends",
  usage:
    "Usage: zig-session listen [ID | --latest | --active] [--json] [--timestamps] [--filter TYPE]...",
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
is not an event zig could read.

Options:
  --latest        the session that started last (the default without ID)
  --active        the newest session still running
  --global        look in every project
  --json          NDJSON events
  --timestamps    prefix each line with the event's timestamp
  --filter TYPE   only events of this type (repeatable)`,
  options: {
    latest: { type: "boolean" },
    active: { type: "boolean" },
    global: { type: "boolean" },
    json: { type: "boolean" },
    timestamps: { type: "boolean" },
    filter: { type: "string", multiple: true },
  },
  positionals: true,
};

/** `zig-session listen`. */
export async function listen(argv: string[], ctx: Context): Promise<number> {
  const parsed = parseCommand(LISTEN, { argv, ctx });
  if (!parsed) return 0;
  if (parsed.positionals.length > 1) {
    throw new UsageError("Give one session id");
  }
  const types = listFlag(parsed, "filter");
  checkTypes(types);
  const global = parsed.values.global === true;
  let found;
  if (parsed.values.active) {
    if (parsed.positionals.length > 0 || parsed.values.latest) {
      throw new UsageError("Give an ID, --latest or --active, not two of them");
    }
    const scope = scopeOf(ctx, global);
    const active = newestFirst(
      listSessions(scope.list).filter((e) =>
        e.status !== "success" && e.status !== "failure"
      ),
    )
      .map((entry) => ({ entry, logPath: locateLog(ctx, { entry, scope }) }))
      .filter((s): s is { entry: AnySessionEntry; logPath: string } =>
        s.logPath !== undefined
      )
      .find((s) =>
        sessionState(s.entry, { logPath: s.logPath }).state === "running"
      );
    if (!active) {
      ctx.err.write(
        `zig-session: no session is running in ${
          global ? "any project" : "this project (try --global)"
        }\n`,
      );
      return 1;
    }
    found = active;
  } else {
    found = resolveSession(ctx, {
      id: parsed.positionals[0],
      latest: parsed.values.latest === true || parsed.positionals.length === 0,
      global,
    });
  }
  const controller = new AbortController();
  let abandoned = false;
  const watchdog = setInterval(() => {
    if (
      sessionState(found.entry, { logPath: found.logPath }).state ===
        "abandoned"
    ) {
      abandoned = true;
      controller.abort();
    }
  }, 1000);
  const json = parsed.values.json === true;
  const timestamps = parsed.values.timestamps === true;
  let ended = false;
  ctx.err.write(zigListening(found.logPath) + "\n");
  const warning = warn(ctx);
  // zig's words on stderr, control characters shown visibly on a terminal.
  const parseError = (reason: string, text: string) => {
    const line = zigParseError(reason, text);
    ctx.err.write((ctx.err.isTerminal ? visible(line) : line) + "\n");
  };
  const onProblem: ProblemHandler = (problem) => {
    // A line that does not parse.
    if (problem.text !== undefined && problem.reason !== undefined) {
      parseError(problem.reason, problem.text);
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
        parseError(problem, JSON.stringify(event));
        continue;
      }
      const line = eventLine(event, { out: ctx.out, timestamps });
      if (line !== undefined) ctx.out.write(line + "\n");
    }
  } finally {
    clearInterval(watchdog);
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

export const SEARCH: CommandSpec = {
  name: "search",
  summary: "find events whose text matches, across session logs",
  usage:
    "Usage: zig-session search QUERY [--regex] [--ignore-case] [--type T]... [--session ID]\n" +
    "                          [--since D] [--global] [--json]",
  details:
    `Matches QUERY against the values of each event's fields (output lines,
prompts, errors, step names...), not its keys or envelope. Results stream as
they are found: session id prefix, seq, and the event as events prints it;
when the match is in a field that line does not show (a step's agent session
id, a prompt preview, a workflow path...), the line ends with that field as
field="value" (a long value cut around the match), so every hit shows.

Options:
  --regex          QUERY is a JavaScript regular expression
  -i, --ignore-case
  --type T         only events of this type (repeatable)
  --session ID     only this session
  --since D        only sessions started since D (date, timestamp, or 2h, 7d)
  --global         every project's sessions
  --json           NDJSON of the matching events, as stored`,
  options: {
    regex: { type: "boolean" },
    "ignore-case": { type: "boolean", short: "i" },
    type: { type: "string", multiple: true },
    session: { type: "string" },
    since: { type: "string" },
    global: { type: "boolean" },
    json: { type: "boolean" },
  },
  positionals: true,
};

/** Every string in a value, depth first. */
function anyString(value: unknown, test: (s: string) => boolean): boolean {
  if (typeof value === "string") return test(value);
  if (value === null || typeof value !== "object") return false;
  for (const v of Array.isArray(value) ? value : Object.values(value)) {
    if (anyString(v, test)) return true;
  }
  return false;
}

const ESCAPES: Record<string, string> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

/** Undoes JSON escapes in a whole line, so that values read as they are. */
function unescapeLine(line: string): string {
  // Most escaped lines hold only escaped quotes: undo those the cheap way.
  const quotesOnly = line.replaceAll('\\"', '"');
  if (!quotesOnly.includes("\\")) return quotesOnly;
  return line.replace(
    /\\(?:u([0-9a-fA-F]{4})|(.))/g,
    (_, hex: string | undefined, c: string) =>
      hex ? String.fromCharCode(parseInt(hex, 16)) : ESCAPES[c] ?? c,
  );
}

const ENVELOPE = new Set(["seq", "ts", "zig_session_id", "type"]);

const WINDOW = 1 << 20;
const OVERLAP = 64 * 1024;

/**
 * Matches the string values of a line too long to hold as they pass, in
 * windows of 1 MiB that overlap by 64 KiB (more for a longer query): a match
 * longer than the overlap can be missed; none is made up.
 */
class LongMatch implements StringVisitor {
  matched = false;
  #test: (window: string, from: number, final: boolean) => boolean;
  #overlap: number;
  #skip = true;
  #window = "";
  #from = 0;

  constructor(
    test: (window: string, from: number, final: boolean) => boolean,
    overlap: number,
  ) {
    this.#test = test;
    this.#overlap = overlap;
  }

  open(key: string | undefined): void {
    this.#skip = this.matched || (key !== undefined && ENVELOPE.has(key));
    this.#window = "";
    this.#from = 0;
  }

  piece(text: string): void {
    if (this.#skip) return;
    this.#window += text;
    if (this.#window.length >= WINDOW + this.#overlap) this.#judge(false);
  }

  close(): void {
    if (!this.#skip) this.#judge(true);
    this.#window = "";
  }

  #judge(final: boolean): void {
    const window = this.#window;
    if (this.#test(window, this.#from, final)) {
      this.matched = true;
      this.#skip = true;
      return;
    }
    // Keep the last `overlap` characters, and one before them as context.
    let keep = Math.max(1, window.length - this.#overlap);
    const c = window.charCodeAt(keep);
    if (c >= 0xdc00 && c <= 0xdfff) keep--; // not half a surrogate pair
    this.#window = window.slice(keep - 1);
    this.#from = 1;
  }
}

/** A long event as `search` shows it: long values cut to their start. */
function shownEvent(object: ScannedObject): SessionLogEvent {
  const event: Record<string, unknown> = { ...object.members };
  for (const [key, cut] of Object.entries(object.cut)) {
    event[key] = cut.preview === undefined
      ? `[${cut.stored} characters not shown: --json prints the event whole]`
      : `${cut.preview}… [${
        cut.length! - cut.preview.length
      } more characters: --json prints the event whole]`;
  }
  return event as unknown as SessionLogEvent;
}

/** Writes a long line as stored, a chunk at a time. */
async function writeLine(
  path: string,
  long: LongLine,
  out: { write(text: string): void },
): Promise<void> {
  const decoder = new TextDecoder();
  for await (
    const bytes of readChunks(path, {
      offset: long.offset,
      length: long.length,
    })
  ) {
    out.write(decoder.decode(bytes, { stream: true }));
  }
  out.write(decoder.decode() + "\n");
}

/** Builds the matcher: a cheap test on the raw line, then one on the values. */
function matcher(
  query: string,
  options: { regex: boolean; ignoreCase: boolean },
) {
  let test: (s: string) => boolean;
  let raw: (line: string) => boolean;
  // Tests a window of a long string whose real text starts at `from`.
  let long: (window: string, from: number, final: boolean) => boolean = (
    window,
  ) => test(window);
  if (options.regex) {
    let re: RegExp;
    try {
      re = new RegExp(query, options.ignoreCase ? "iu" : "u");
    } catch (error) {
      throw new UsageError(
        `Invalid --regex "${query}": ${(error as Error).message}`,
      );
    }
    test = (s) => re.test(s);
    const global = new RegExp(re.source, re.flags + "g");
    long = (window, from, final) => {
      global.lastIndex = from;
      let m: RegExpExecArray | null;
      while ((m = global.exec(window)) !== null) {
        // A match that touches the window's end may owe it to the cut ($,
        // \b, lookahead): the next window, which overlaps, judges it.
        if (final || m.index + m[0].length < window.length) return true;
        global.lastIndex = m.index + 1;
      }
      return false;
    };
    // A value that matches also matches somewhere in its line once the
    // line's escapes are undone, unless the pattern looks at what surrounds
    // the match (anchors, boundaries, lookbehind): those lines are parsed.
    const contextual = /[$^]|\\[bBAzZ]|\(\?<[=!]/.test(query);
    raw = contextual
      ? () => true
      : (line) =>
        re.test(line) || (line.includes("\\") && re.test(unescapeLine(line)));
  } else if (options.ignoreCase) {
    const needle = query.toLowerCase();
    test = (s) => s.toLowerCase().includes(needle);
    raw = (line) => line.includes("\\") || line.toLowerCase().includes(needle);
  } else {
    const escaped = JSON.stringify(query).slice(1, -1);
    test = (s) => s.includes(query);
    raw = (line) =>
      line.includes(escaped) || (escaped !== query && line.includes(query));
  }
  return {
    raw,
    long: () => new LongMatch(long, Math.max(OVERLAP, query.length)),
    event(event: Record<string, unknown>): boolean {
      for (const key in event) {
        if (!ENVELOPE.has(key) && anyString(event[key], test)) return true;
      }
      return false;
    },
    /** The fields whose values match, each with its first matching string. */
    fields(event: Record<string, unknown>): Array<[string, string]> {
      const found: Array<[string, string]> = [];
      for (const key in event) {
        if (ENVELOPE.has(key)) continue;
        let hit: string | undefined;
        anyString(event[key], (s) => test(s) && (hit = s) !== undefined);
        if (hit !== undefined) found.push([key, hit]);
      }
      return found;
    },
    /** Where the match is in a matching string, to cut it around. */
    at(s: string): number {
      if (options.regex) {
        return new RegExp(query, options.ignoreCase ? "iu" : "u").exec(s)
          ?.index ?? 0;
      }
      return Math.max(
        0,
        options.ignoreCase
          ? s.toLowerCase().indexOf(query.toLowerCase())
          : s.indexOf(query),
      );
    },
  };
}

const PLAIN: Writer = { write() {}, isTerminal: false, color: false };

/**
 * What a search hit's line leaves out: each matching field whose matching
 * text the line does not show, as ` field="value"` (a long value cut around
 * the match), so that every hit shows why it matched.
 */
function hiddenMatches(
  event: SessionLogEvent,
  match: ReturnType<typeof matcher>,
): string {
  const line = formatEvent(event, { out: PLAIN });
  let context = "";
  for (
    const [key, hit] of match.fields(
      event as unknown as Record<string, unknown>,
    )
  ) {
    if (line.includes(visible(hit))) continue;
    let value = hit;
    if (value.length > 120) {
      const at = match.at(value);
      const from = Math.max(0, at - 50);
      // Cut by code units: a surrogate pair cut in two becomes U+FFFD.
      value = ((from > 0 ? "…" : "") + value.slice(from, from + 120) +
        (from + 120 < value.length ? "…" : "")).toWellFormed();
    }
    context += ` ${visible(key)}=${visible(JSON.stringify(value))}`;
  }
  return context;
}

/** `zig-session search`. */
export async function search(argv: string[], ctx: Context): Promise<number> {
  const parsed = parseCommand(SEARCH, { argv, ctx });
  if (!parsed) return 0;
  if (parsed.positionals.length !== 1) {
    throw new UsageError("Give one QUERY (quote it if it has spaces)");
  }
  const types = listFlag(parsed, "type");
  checkTypes(types);
  const query = parsed.positionals[0];
  const match = matcher(query, {
    regex: parsed.values.regex === true,
    ignoreCase: parsed.values["ignore-case"] === true,
  });
  const global = parsed.values.global === true;
  const sinceFlag = stringFlag(parsed, "since");
  const since = sinceFlag === undefined ? undefined : parseSince(sinceFlag);
  let sessions: Array<{ entry: AnySessionEntry; logPath: string }>;
  const sessionFlag = stringFlag(parsed, "session");
  const warnings = new Warnings(ctx);
  if (sessionFlag !== undefined) {
    sessions = [resolveSession(ctx, { id: sessionFlag, global })];
  } else {
    const scope = scopeOf(ctx, global);
    const logs = new LogFinder(scope, warnings);
    sessions = newestFirst(
      listSessions({ ...scope.list, onProblem: warnings.onProblem }),
    )
      .filter((e) => since === undefined || instant(e.started_at) >= since)
      .flatMap((entry) => {
        const logPath = logs.find(entry, { exists: true });
        return logPath === undefined ? [] : [{ entry, logPath }];
      });
  }
  const typeNeedles = types.map((t) => `"type":"${t}"`);
  const json = parsed.values.json === true;
  const dim = paint(ctx.out, "dim");
  const onProblem = warnings.onProblem;
  const bar = progress(ctx, "searching");
  let matches = 0;
  for (const [i, { entry, logPath }] of sessions.entries()) {
    bar.tick(i, sessions.length);
    try {
      const longs = new Map<number, LongMatch>();
      const strings = (line: number) => {
        const long = match.long();
        longs.set(line, long);
        return long;
      };
      for await (
        const { text, line, long } of scanLogLines(logPath, {
          onProblem,
          strings,
        })
      ) {
        if (long !== undefined) {
          const matched = longs.get(line)?.matched;
          longs.delete(line);
          const members = long.object?.members;
          if (
            !matched || typeof members?.seq !== "number" ||
            typeof members.type !== "string"
          ) continue;
          if (types.length > 0 && !types.includes(members.type)) continue;
          matches++;
          bar.done();
          if (json) {
            await writeLine(logPath, long, ctx.out);
          } else {
            ctx.out.write(
              `${dim(`${entry.zig_session_id.slice(0, 8)} #${members.seq}`)} ${
                formatEvent(shownEvent(long.object!), { out: ctx.out })
              }\n`,
            );
          }
          continue;
        }
        if (
          typeNeedles.length > 0 && !typeNeedles.some((n) => text.includes(n))
        ) continue;
        if (!match.raw(text)) continue;
        let event: SessionLogEvent;
        try {
          event = JSON.parse(text);
        } catch {
          continue;
        }
        if (types.length > 0 && !types.includes(event.type)) continue;
        if (!match.event(event as unknown as Record<string, unknown>)) continue;
        matches++;
        bar.done();
        if (json) {
          ctx.out.write(text + "\n");
          continue;
        }
        // What matched but the line leaves out ends its first line.
        const [head, ...rest] = formatEvent(event, { out: ctx.out }).split(
          "\n",
        );
        ctx.out.write(
          [
            `${
              dim(visible(`${entry.zig_session_id.slice(0, 8)} #${event.seq}`))
            } ${head}${dim(hiddenMatches(event, match))}`,
            ...rest,
          ].join("\n") + "\n",
        );
      }
    } catch (error) {
      warnings.add(
        error instanceof ZigError && error.kind === "not_found"
          ? WARNING_KINDS.missingLog
          : WARNING_KINDS.unreadable,
        `skipped ${logPath}: ${(error as Error).message}`,
      );
    }
  }
  bar.done();
  warnings.summarize();
  if (!json && matches === 0) ctx.err.write("No matches\n");
  return matches > 0 ? 0 : 1;
}
