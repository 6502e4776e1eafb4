import assert from "node:assert/strict";
import { ZigError } from "../mod.ts";

Deno.test("a ZigError carries its kind, path, candidates and cause", () => {
  const cause = new Error("inner");
  const e = new ZigError('Ambiguous session prefix "ab"', {
    kind: "ambiguous",
    path: "/x",
    candidates: ["ab1", "ab2"],
    cause,
  });
  assert.ok(e instanceof Error);
  assert.equal(e.name, "ZigError");
  assert.equal(e.kind, "ambiguous");
  assert.equal(e.path, "/x");
  assert.deepEqual(e.candidates, ["ab1", "ab2"]);
  assert.equal(e.cause, cause);
  const plain = new ZigError("Session not found: x", { kind: "not_found" });
  assert.equal(plain.path, undefined);
  assert.equal(plain.candidates, undefined);
});
