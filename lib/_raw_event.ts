// Internal: zig's event lines read from their raw text, without JSON.parse.
//
// zig writes each event as compact JSON, its envelope first and always in
// this order (serde's order of the fields, the tag right after them):
//
//   {"seq":N,"ts":"…","zig_session_id":"…","type":"…",…}
//
// A line in exactly that shape whose strings hold no quote, no backslash and
// no control character is certainly JSON, and its values are its raw text:
// the expressions below recognise such lines in one native pass each. Any
// other line (escapes, other spacing, other key orders) is parsed as before,
// so that what a query finds never depends on this shortcut: only its speed.

/** A JSON string without escapes, quotes or control characters, captured. */
const STRING = '"([^"\\\\\\x00-\\x1f]*)"';
/** The same, not captured. */
const PLAIN = '"[^"\\\\\\x00-\\x1f]*"';
/** `seq` as JSON writes an integer below 10^15 (exact as a double). */
const SEQ_PLAIN = "(?:0|[1-9][0-9]{0,14})";

function sticky(source: string): RegExp {
  return new RegExp(source, "y");
}

/**
 * A whole `step_output` line in zig's shape, `ts` and `step_name` captured.
 * Set `lastIndex` to the line's start; a match ends with the line.
 */
export const OUTPUT_STEP = sticky(
  `\\{"seq":${SEQ_PLAIN},"ts":${STRING},"zig_session_id":${PLAIN},"type":"step_output","step_name":${STRING},"stream":${PLAIN},"line":${PLAIN}\\}(?=\\n|$)`,
);

/** {@linkcode OUTPUT_STEP} capturing nothing: whether a line is one, cheaply. */
export const OUTPUT_SHAPE = sticky(
  `\\{"seq":${SEQ_PLAIN},"ts":${PLAIN},"zig_session_id":${PLAIN},"type":"step_output","step_name":${PLAIN},"stream":${PLAIN},"line":${PLAIN}\\}(?=\\n|$)`,
);

/**
 * A run of whole `step_output` lines in zig's shape, each with its newline:
 * matches (possibly nothing) from `lastIndex`, which it leaves where the run
 * ends. One native pass over many lines, instead of a call for each.
 */
export const OUTPUT_RUN = sticky(
  outputRun(PLAIN),
);

function outputRun(step: string): string {
  return `(?:\\{"seq":${SEQ_PLAIN},"ts":${PLAIN},"zig_session_id":${PLAIN},"type":"step_output","step_name":${step},"stream":${PLAIN},"line":${PLAIN}\\}\\n)*`;
}

/**
 * {@linkcode OUTPUT_RUN} for the lines of one step, given its name as
 * {@linkcode OUTPUT_STEP} captured it (no quote, backslash or control).
 */
export function outputRunOf(step: string): RegExp {
  return sticky(
    outputRun(`"${step.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&")}"`),
  );
}

/**
 * Whether `text` from `start` holds a `step_output` line in zig's shape,
 * which is then certainly an event (valid JSON, envelope complete).
 */
export function isOutputLine(text: string, start: number): boolean {
  OUTPUT_SHAPE.lastIndex = start;
  return OUTPUT_SHAPE.test(text);
}

const TS = ',"ts":"';
const ID = '","zig_session_id":"';
const STEP = '","type":"step_output","step_name":"';
const STREAM = '","stream":"';
const LINE = '","line":"';

/**
 * Builds the `step_output` events of lines in zig's shape from their raw
 * text: equal to what JSON.parse makes of them (same keys in the same order,
 * same values), with fewer strings made: a session id or step name equal to
 * the last one is the same string.
 */
export class OutputEvents {
  #id = "";
  #step = "";

  /** The event the line at `start` holds; `undefined` when it is not in that shape. */
  build(text: string, start: number): Record<string, unknown> | undefined {
    OUTPUT_SHAPE.lastIndex = start;
    if (!OUTPUT_SHAPE.test(text)) return undefined;
    return this.known(text, start, OUTPUT_SHAPE.lastIndex);
  }

  /**
   * The event of a line known to be in that shape (a line of a run
   * {@linkcode OUTPUT_RUN} matched), from `start` to just after its "}".
   */
  known(text: string, start: number, end: number): Record<string, unknown> {
    // In this shape every string is plain: each ends at the next quote.
    let i = start + 7;
    let seq = 0;
    for (
      let c = text.charCodeAt(i);
      c >= 48 && c <= 57;
      c = text.charCodeAt(++i)
    ) {
      seq = seq * 10 + (c - 48);
    }
    const tsStart = i + TS.length;
    const tsEnd = text.indexOf('"', tsStart);
    const idStart = tsEnd + ID.length;
    const idEnd = text.indexOf('"', idStart);
    let id = this.#id;
    if (idEnd - idStart !== id.length || !text.startsWith(id, idStart)) {
      id = this.#id = text.slice(idStart, idEnd);
    }
    const stepStart = idEnd + STEP.length;
    const stepEnd = text.indexOf('"', stepStart);
    let step = this.#step;
    if (
      stepEnd - stepStart !== step.length || !text.startsWith(step, stepStart)
    ) {
      step = this.#step = text.slice(stepStart, stepEnd);
    }
    const streamStart = stepEnd + STREAM.length;
    const streamEnd = text.indexOf('"', streamStart);
    const stream = streamEnd - streamStart !== 6
      ? text.slice(streamStart, streamEnd)
      : text.startsWith("stdout", streamStart)
      ? "stdout"
      : text.startsWith("stderr", streamStart)
      ? "stderr"
      : text.slice(streamStart, streamEnd);
    return {
      seq,
      ts: text.slice(tsStart, tsEnd),
      zig_session_id: id,
      type: "step_output",
      step_name: step,
      stream,
      line: text.slice(streamEnd + LINE.length, end - 2),
    };
  }
}
