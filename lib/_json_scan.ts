// Internal: checks one JSON text given in pieces, as JSON.parse would judge
// it, holding only the top-level members whose values are short. For lines
// too long to hold: their envelope (seq, ts, type...) is kept, their long
// values are only looked at as they pass.

/** Receives the decoded text of every string value (not keys) as it passes. */
export interface StringVisitor {
  /** A string starts, under the top-level member `key` (`undefined`: a key too long to keep). */
  open(key: string | undefined): void;
  /** The next piece of its text, escapes undone. */
  piece(text: string): void;
  /** The string ended. */
  close(): void;
}

/** A top-level member whose value was too long to keep. */
export interface CutValue {
  /** Length of the value as stored, in UTF-16 code units. */
  stored: number;
  /** For a string: its length, escapes undone. */
  length?: number;
  /** For a string: its start, escapes undone. */
  preview?: string;
}

/** What a scanned object kept. */
export interface ScannedObject {
  /** The members whose values were short enough to keep, parsed. */
  members: Record<string, unknown>;
  /** The members whose values were too long to keep. */
  cut: Record<string, CutValue>;
}

/** Options of {@linkcode JsonScanner}. */
export interface ScanOptions {
  /** Longest top-level value kept, in UTF-16 code units. Default 64 KiB. */
  keep?: number;
  /** Told about every string value. */
  strings?: StringVisitor;
}

const PREVIEW = 1000;

// States.
const VALUE = 0; // a value must come
const ARRAY_FIRST = 1; // after "[": a value or "]"
const KEY_FIRST = 2; // after "{": a key or "}"
const KEY = 3; // after "," in an object: a key
const COLON = 4;
const AFTER = 5; // after a value: "," or the container's end
const STRING = 6;
const NUMBER = 7;
const LITERAL = 8;
const DONE = 9; // the top-level value ended: only whitespace may follow
const FAILED = 10;

// Number states (after the last character seen).
const N_MINUS = 0;
const N_ZERO = 1;
const N_INT = 2;
const N_DOT = 3;
const N_FRAC = 4;
const N_E = 5;
const N_SIGN = 6;
const N_EXP = 7;

// A control character: invalid inside a string.
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f]/;
function hasControl(text: string): boolean {
  return CONTROL.test(text);
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * Checks a JSON object given in pieces, in one pass and in memory bounded by
 * `keep` (plus one byte per level of nesting), whatever the text's length.
 */
export class JsonScanner {
  #keep: number;
  #visitor: StringVisitor | undefined;
  #state = VALUE;
  #error: string | undefined;
  #stack = new Uint8Array(16); // 0: object, 1: array
  #depth = 0;
  #num = 0;
  #literal = "";
  #literalAt = 0;
  #held = ""; // the start of an escape cut by the end of a piece
  #inKey = false;
  #members: Record<string, unknown> = {};
  #cut: Record<string, CutValue> = {};
  // The top-level member being read.
  #keyRaw: string | undefined = "";
  #keyFrom = -1; // where the key's text starts in the current piece
  #key: string | undefined;
  #raw: string | undefined = "";
  #rawFrom = -1; // where the value's text starts in the current piece
  #stored = 0;
  // The string being read: decoded when someone needs its text.
  #decode = false;
  #visiting = false;
  #previewing = false;
  #preview = "";
  #length = 0;

  constructor(options: ScanOptions = {}) {
    this.#keep = options.keep ?? 64 * 1024;
    this.#visitor = options.strings;
  }

  /** Why the text is no JSON object, once that is known. */
  get error(): string | undefined {
    return this.#error;
  }

  /** Reads the next piece of the text. */
  push(piece: string): void {
    if (this.#state === FAILED) return;
    // An escape cut by the previous piece's end is read again with this one.
    const held = this.#held.length;
    const text = held > 0 ? this.#held + piece : piece;
    this.#held = "";
    if (this.#rawFrom >= 0) this.#rawFrom = 0;
    if (this.#keyFrom >= 0) this.#keyFrom = 0;
    const n = text.length;
    let i = 0;
    while (i < n) {
      if (this.#state === STRING) {
        i = this.#string(text, i);
        continue;
      }
      const c = text.charCodeAt(i);
      if (this.#state === NUMBER) {
        const next = this.#numberStep(c);
        if (next >= 0) {
          this.#num = next;
          i++;
          continue;
        }
        if (
          this.#num !== N_ZERO && this.#num !== N_INT &&
          this.#num !== N_FRAC && this.#num !== N_EXP
        ) {
          return this.#fail("a number cut short");
        }
        this.#valueEnded(text, i); // `c` is read again after the number
        continue;
      }
      if (this.#state === LITERAL) {
        if (c !== this.#literal.charCodeAt(this.#literalAt)) {
          return this.#fail(`an unexpected "${text[i]}"`);
        }
        i++;
        if (++this.#literalAt === this.#literal.length) {
          this.#valueEnded(text, i);
        }
        continue;
      }
      if (isSpace(c)) {
        i++;
        continue;
      }
      switch (this.#state) {
        case VALUE:
        case ARRAY_FIRST:
          if (this.#state === ARRAY_FIRST && c === 0x5d) {
            i++;
            this.#close(text, i);
            continue;
          }
          if (this.#depth === 0 && c !== 0x7b) {
            return this.#fail("it is not a JSON object");
          }
          if (this.#depth === 1) this.#startMember(i);
          i++;
          if (c === 0x7b) {
            this.#open(0);
            this.#state = KEY_FIRST;
          } else if (c === 0x5b) {
            this.#open(1);
            this.#state = ARRAY_FIRST;
          } else if (c === 0x22) {
            this.#startString(false);
          } else if (c === 0x2d || isDigit(c)) {
            this.#state = NUMBER;
            this.#num = c === 0x2d ? N_MINUS : c === 0x30 ? N_ZERO : N_INT;
          } else if (c === 0x74 || c === 0x66 || c === 0x6e) {
            this.#state = LITERAL;
            this.#literal = c === 0x74 ? "true" : c === 0x66 ? "false" : "null";
            this.#literalAt = 1;
          } else {
            return this.#fail(`an unexpected "${text[i - 1]}"`);
          }
          continue;
        case KEY_FIRST:
        case KEY:
          if (this.#state === KEY_FIRST && c === 0x7d) {
            i++;
            this.#close(text, i);
            continue;
          }
          if (c !== 0x22) return this.#fail(`an unexpected "${text[i]}"`);
          if (this.#depth === 1) {
            this.#keyRaw = "";
            this.#keyFrom = i;
          }
          i++;
          this.#startString(true);
          continue;
        case COLON:
          if (c !== 0x3a) return this.#fail(`an unexpected "${text[i]}"`);
          i++;
          this.#state = VALUE;
          continue;
        case AFTER: {
          const inArray = this.#stack[this.#depth - 1] === 1;
          i++;
          if (c === 0x2c) {
            this.#state = inArray ? VALUE : KEY;
          } else if (c === (inArray ? 0x5d : 0x7d)) {
            this.#close(text, i);
          } else {
            return this.#fail(`an unexpected "${text[i - 1]}"`);
          }
          continue;
        }
        default: // DONE
          return this.#fail(`text after the object ("${text[i]}")`);
      }
    }
    // Text held back is kept with the next piece, not twice.
    const kept = n - this.#held.length;
    if (this.#rawFrom >= 0) this.#keepRaw(text.slice(this.#rawFrom, kept));
    if (this.#keyFrom >= 0) this.#keepKey(text.slice(this.#keyFrom, kept));
  }

  /**
   * Reads a string's text from `i` up to its closing quote or the piece's
   * end; returns where reading goes on. Escapes and control characters are
   * judged (and escapes undone) by JSON.parse, a segment at a time.
   */
  #string(text: string, i: number): number {
    const n = text.length;
    let from = i;
    let quote: number;
    while (true) {
      quote = text.indexOf('"', from);
      if (quote < 0) break;
      let k = quote - 1;
      while (k >= i && text.charCodeAt(k) === 0x5c) k--;
      if ((quote - 1 - k) % 2 === 0) break; // not escaped: the string ends
      from = quote + 1;
    }
    let end = quote < 0 ? n : quote;
    if (quote < 0) {
      // Hold back an escape the piece's end cuts in two: a backslash among
      // the last 5 characters that starts an escape the piece does not end.
      let slash = n - 1;
      while (slash >= i && slash >= n - 5 && text.charCodeAt(slash) !== 0x5c) {
        slash--;
      }
      if (slash >= i && slash >= n - 5) {
        let k = slash - 1;
        while (k >= i && text.charCodeAt(k) === 0x5c) k--;
        const starts = (slash - 1 - k) % 2 === 0;
        const complete = slash + 1 < n &&
          (text.charCodeAt(slash + 1) !== 0x75 || slash + 5 < n);
        if (starts && !complete) end = slash;
      }
      this.#held = text.slice(end);
    }
    let segment = text.slice(i, end);
    if (segment.indexOf("\\") >= 0 || hasControl(segment)) {
      try {
        segment = JSON.parse('"' + segment + '"');
      } catch {
        this.#fail("a bad escape or a control character inside a string");
        return n;
      }
    }
    if (segment.length > 0) {
      if (this.#previewing) this.#length += segment.length;
      if (this.#decode) this.#emit(segment);
    }
    if (quote < 0) return n;
    this.#endString(text, quote + 1);
    return quote + 1;
  }

  /** Ends the text: what the object kept, or `undefined` when it is none (see `error`). */
  end(): ScannedObject | undefined {
    if (this.#state === FAILED) return undefined;
    if (this.#state !== DONE || this.#held !== "") {
      this.#error = this.#state === VALUE && this.#depth === 0
        ? "it is empty"
        : "it ends before the object does";
      this.#state = FAILED;
      return undefined;
    }
    return { members: this.#members, cut: this.#cut };
  }

  #fail(reason: string): void {
    this.#error = `it is not JSON: ${reason}`;
    this.#state = FAILED;
  }

  #numberStep(c: number): number {
    const digit = isDigit(c);
    switch (this.#num) {
      case N_MINUS:
        return c === 0x30 ? N_ZERO : digit ? N_INT : -1;
      case N_ZERO:
      case N_INT:
        if (digit && this.#num === N_INT) return N_INT;
        return c === 0x2e ? N_DOT : c === 0x65 || c === 0x45 ? N_E : -1;
      case N_DOT:
        return digit ? N_FRAC : -1;
      case N_FRAC:
        return digit ? N_FRAC : c === 0x65 || c === 0x45 ? N_E : -1;
      case N_E:
        return c === 0x2b || c === 0x2d ? N_SIGN : digit ? N_EXP : -1;
      default: // N_SIGN, N_EXP
        return digit ? N_EXP : -1;
    }
  }

  #open(kind: number): void {
    if (this.#depth === this.#stack.length) {
      const bigger = new Uint8Array(this.#stack.length * 2);
      bigger.set(this.#stack);
      this.#stack = bigger;
    }
    this.#stack[this.#depth++] = kind;
  }

  #close(text: string, end: number): void {
    this.#depth--;
    this.#valueEnded(text, end);
  }

  #startString(isKey: boolean): void {
    this.#state = STRING;
    this.#inKey = isKey;
    this.#visiting = !isKey && this.#visitor !== undefined;
    this.#previewing = !isKey && this.#depth === 1;
    this.#preview = "";
    this.#length = 0;
    this.#decode = this.#visiting || this.#previewing;
    if (this.#visiting) this.#visitor!.open(this.#key);
  }

  #emit(piece: string): void {
    if (this.#visiting) this.#visitor!.piece(piece);
    if (this.#previewing && this.#preview.length < PREVIEW) {
      this.#preview += piece.slice(0, PREVIEW - this.#preview.length);
      // Past the preview, only the length is still needed.
      if (this.#preview.length >= PREVIEW && !this.#visiting) {
        this.#decode = false;
      }
    }
  }

  #endString(text: string, end: number): void {
    if (this.#visiting) this.#visitor!.close();
    if (this.#inKey) {
      this.#state = COLON;
      if (this.#depth === 1) {
        this.#keepKey(text.slice(this.#keyFrom, end));
        this.#keyFrom = -1;
        this.#key = this.#keyRaw === undefined
          ? undefined
          : JSON.parse(this.#keyRaw);
      }
      return;
    }
    this.#valueEnded(text, end);
  }

  /** A value ended just before `end` in the current piece. */
  #valueEnded(text: string, end: number): void {
    if (this.#depth === 0) {
      this.#state = DONE;
    } else {
      this.#state = AFTER;
      if (this.#depth === 1) this.#endMember(text, end);
    }
  }

  #startMember(at: number): void {
    this.#previewing = false;
    this.#raw = "";
    this.#stored = 0;
    this.#rawFrom = at;
  }

  #keepRaw(piece: string): void {
    this.#stored += piece.length;
    if (this.#raw === undefined) return;
    if (this.#raw.length + piece.length > this.#keep) this.#raw = undefined;
    else this.#raw += piece;
  }

  #keepKey(piece: string): void {
    if (this.#keyRaw === undefined) return;
    if (this.#keyRaw.length + piece.length > this.#keep) {
      this.#keyRaw = undefined;
    } else this.#keyRaw += piece;
  }

  #endMember(text: string, end: number): void {
    this.#keepRaw(text.slice(this.#rawFrom, end));
    this.#rawFrom = -1;
    const key = this.#key;
    this.#key = undefined;
    if (key === undefined) return; // a key too long to keep: nobody asks for it
    delete this.#cut[key];
    if (this.#raw !== undefined) {
      Object.defineProperty(this.#members, key, {
        value: JSON.parse(this.#raw),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      return;
    }
    delete this.#members[key];
    const cut: CutValue = { stored: this.#stored };
    if (this.#previewing && this.#state === AFTER) {
      cut.length = this.#length;
      // Never end on half a surrogate pair.
      const last = this.#preview.charCodeAt(this.#preview.length - 1);
      cut.preview = last >= 0xd800 && last <= 0xdbff
        ? this.#preview.slice(0, -1)
        : this.#preview;
    }
    Object.defineProperty(this.#cut, key, {
      value: cut,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
}
