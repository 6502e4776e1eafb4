// `zig-session record`: what it puts on disk, and what it says when it cannot.
import assert from "node:assert/strict";
import { join } from "node:path";
import { readSessionEvents } from "../../mod.ts";
import { tempDir } from "../_helpers.ts";
import { assertReferenceReads } from "../_reference.ts";
import { runCli, workspace } from "./_helpers.ts";

function idFrom(stderr: string): string {
  const m = /session ([0-9a-f-]{36})/.exec(stderr);
  assert.ok(m, `no session id in: ${stderr}`);
  return m[1];
}

function logOf(project: string, id: string): string {
  return join(project, "logs", "sessions", `${id}.jsonl`);
}

Deno.test("record: the prompt preview is cut at 200 characters, never inside an emoji", async () => {
  using tmp = tempDir();
  const w = workspace(tmp.path);
  const prompt = `${"a".repeat(199)}😀 tail`;
  const r = await runCli(
    ["record", "--quiet", "--prompt", prompt, "--", "echo", "hi"],
    w.opts,
  );
  assert.equal(r.code, 0, r.stderr);
  const log = logOf(w.project, idFrom(r.stderr));
  assert.ok(await assertReferenceReads(log) !== 0);
  const events = await readSessionEvents(log);
  const step = events.find((e) => e.type === "step_started");
  assert.ok(step?.type === "step_started");
  assert.equal(step.prompt_preview, `${"a".repeat(199)}😀`);
  assert.equal(
    events[0].type === "zig_session_started" && events[0].prompt,
    prompt,
  );
});
