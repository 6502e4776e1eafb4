/**
 * The one error class of the module.
 *
 * @module
 */

/** What kind of failure a {@linkcode ZigError} reports. */
export type ZigErrorKind =
  | "io"
  | "parse"
  | "not_found"
  | "ambiguous"
  | "permission"
  | "corrupt";

/** Options of {@linkcode ZigError}. */
export interface ZigErrorOptions {
  /** What kind of failure this is. */
  kind: ZigErrorKind;
  /** The file at fault, when there is one. */
  path?: string;
  /** For `ambiguous`: the ids the prefix matched. */
  candidates?: string[];
  /** The error this one wraps. */
  cause?: unknown;
}

/**
 * Every failure the module reports. Messages are sentence case and name the
 * file or value at fault; `kind` says what went wrong.
 *
 * @example Usage
 * ```ts
 * import { ZigError } from "./error.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new ZigError("Session not found: 3fa1", { kind: "not_found" });
 * assert.equal(error.kind, "not_found");
 * ```
 */
export class ZigError extends Error {
  /** What kind of failure this is. */
  readonly kind: ZigErrorKind;
  /** The file at fault, when there is one. */
  readonly path?: string;
  /** For `ambiguous`: the ids the prefix matched. */
  readonly candidates?: string[];

  /**
   * Makes an error.
   *
   * @param message What went wrong, naming the file or value at fault.
   * @param options The kind, and the path, candidates or cause.
   */
  constructor(message: string, options: ZigErrorOptions) {
    super(message, { cause: options.cause });
    this.name = "ZigError";
    this.kind = options.kind;
    if (options.path !== undefined) this.path = options.path;
    if (options.candidates !== undefined) {
      this.candidates = options.candidates;
    }
  }
}
