// The reference implementation (../shared/reference/, built by .ci/run and
// named by ZIG_REFERENCE_BIN): checks that zig can read what we write.
import assert from "node:assert/strict";

/** Path of the reference binary, or `undefined` with the reason it is missing. */
export function referenceBinary(): { path?: string; why?: string } {
  const path = Deno.env.get("ZIG_REFERENCE_BIN");
  if (!path) {
    return {
      why:
        "ZIG_REFERENCE_BIN is not set: build the reference with ../shared/reference/build.sh (.ci/run does) and export its path",
    };
  }
  try {
    Deno.statSync(path);
  } catch {
    return { why: `ZIG_REFERENCE_BIN names "${path}", which does not exist` };
  }
  return { path };
}

/**
 * Asserts that the reference reads the log whole, as zig does; returns the
 * number of events it read. Fails when the reference is missing in CI, and
 * prints why it is skipped elsewhere.
 */
export async function assertReferenceReads(log: string): Promise<number> {
  const { path, why } = referenceBinary();
  if (!path) {
    if (Deno.env.get("CI")) throw new Error(why);
    console.log(`skipped the reference check of ${log}: ${why}`);
    return -1;
  }
  const out = await new Deno.Command(path, {
    args: ["read", log],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, `the reference cannot read ${log}: ${text}`);
  return JSON.parse(text).events;
}
