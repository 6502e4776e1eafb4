/**
 * Text helpers for what goes into a session log.
 *
 * @module
 */

/**
 * Cuts a text to at most `maxChars` characters (Unicode code points), never
 * inside a surrogate pair, so that the result stays well-formed: use it for
 * previews such as `step_started`'s `prompt_preview`. `text.slice(0, n)`
 * counts UTF-16 units and can keep half of an emoji, which zig cannot read.
 *
 * @example Usage
 * ```ts
 * import { truncateText } from "./text.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(truncateText("ab😀cd", 3), "ab😀");
 * assert.equal(truncateText("a".repeat(199) + "😀 tail", 200), "a".repeat(199) + "😀");
 * assert.equal(truncateText("short", 200), "short");
 * ```
 *
 * @param text The text to cut.
 * @param maxChars The most characters to keep (a non-negative integer).
 * @returns `text` itself when it is short enough, else its first `maxChars`
 * characters.
 */
export function truncateText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text; // UTF-16 units >= characters
  let units = 0;
  for (let chars = 0; chars < maxChars && units < text.length; chars++) {
    const code = text.charCodeAt(units);
    const next = text.charCodeAt(units + 1);
    units += code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 &&
        next <= 0xdfff
      ? 2
      : 1;
  }
  return text.slice(0, units);
}
