// Internal to the CLI: the output of a recorded command, split into lines.

/** Output lines longer than this many bytes are split into several events. */
export const MAX_LINE_BYTES = 1 << 20;

/**
 * Splits output bytes into lines as events: invalid UTF-8 becomes U+FFFD, a
 * trailing `\r` is dropped, and a line longer than {@linkcode MAX_LINE_BYTES}
 * is cut (on a character boundary) into several events. The complete lines
 * of a chunk are decoded at once and handed over together; only a line that
 * runs over from one chunk to the next is held, as bytes.
 */
export class OutputLines {
  #parts: Uint8Array[] = [];
  #length = 0;
  // Bytes as they are: a byte order mark is text like any other.
  #decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  #emit: (lines: string[]) => void;

  /** @param emit Takes the lines of a chunk, in order. */
  constructor(emit: (lines: string[]) => void) {
    this.#emit = emit;
  }

  push(chunk: Uint8Array): void {
    const lines: string[] = [];
    const first = chunk.indexOf(10);
    if (first < 0) {
      this.#add(chunk, lines);
    } else {
      // The line held from earlier chunks ends here.
      this.#add(chunk.subarray(0, first), lines);
      this.#flush(true, lines);
      const last = chunk.lastIndexOf(10);
      if (last > first) this.#whole(chunk.subarray(first + 1, last), lines);
      this.#add(chunk.subarray(last + 1), lines);
    }
    if (lines.length > 0) this.#emit(lines);
  }

  /** The final line, even without its newline. */
  end(): void {
    if (this.#length === 0) return;
    const lines: string[] = [];
    this.#flush(true, lines);
    this.#emit(lines);
  }

  /** Complete lines, newlines between them but not after the last. */
  #whole(bytes: Uint8Array, lines: string[]): void {
    if (bytes.length > MAX_LINE_BYTES) {
      // Some line may be too long: line by line.
      let start = 0;
      for (;;) {
        const newline = bytes.indexOf(10, start);
        this.#add(
          bytes.subarray(start, newline < 0 ? bytes.length : newline),
          lines,
        );
        this.#flush(true, lines);
        if (newline < 0) return;
        start = newline + 1;
      }
    }
    // Decoded at once: a newline ends any broken UTF-8 sequence before it,
    // so this decodes each line as decoding it alone would.
    for (const line of this.#decoder.decode(bytes).split("\n")) {
      lines.push(
        line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line,
      );
    }
  }

  #add(bytes: Uint8Array, lines: string[]): void {
    let rest = bytes;
    while (this.#length + rest.length > MAX_LINE_BYTES) {
      let cut = MAX_LINE_BYTES - this.#length;
      // Back off to the start of a UTF-8 character.
      while (cut > 0 && (rest[cut] & 0xc0) === 0x80) cut--;
      if (cut === 0 && this.#length === 0) cut = MAX_LINE_BYTES;
      this.#parts.push(rest.subarray(0, cut));
      this.#length += cut;
      this.#flush(false, lines);
      rest = rest.subarray(cut);
    }
    if (rest.length > 0) {
      this.#parts.push(rest.slice());
      this.#length += rest.length;
    }
  }

  #flush(complete: boolean, lines: string[]): void {
    const joined = new Uint8Array(this.#length);
    let offset = 0;
    for (const part of this.#parts) {
      joined.set(part, offset);
      offset += part.length;
    }
    this.#parts = [];
    this.#length = 0;
    let text = this.#decoder.decode(joined);
    if (complete && text.endsWith("\r")) text = text.slice(0, -1);
    lines.push(text);
  }
}
