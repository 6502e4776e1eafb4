// Shared by the confinement tests: a zig home whose indexes name files outside
// it, written as an adversary would, and a snapshot of everything outside.
import { join, relative } from "node:path";
import {
  globalIndexPath,
  projectIndexPath,
  SessionWriter,
  updateGlobalIndex,
  updateProjectIndex,
} from "../../mod.ts";
import { workspace } from "./_helpers.ts";

/** A zig home with hostile index entries, and the folder they point into. */
export interface HostileHome extends ReturnType<typeof workspace> {
  /** A folder outside the zig home, holding the files the entries name. */
  outside: string;
  /** A real session recorded in the home, ended. */
  realId: string;
  /** Ids of the hostile entries, by what they do. */
  ids: { elsewhere: string; traversal: string; secret: string };
  /** What a leaked secret would contain. */
  secret: string;
}

/**
 * A zig home with one real ended session, and three ended entries in both
 * indexes that lead outside it:
 * - `elsewhere`: `log_path` names `<outside>/sub/a.jsonl` (a real ended log);
 *   `<outside>/index.json` is an unrelated file beside it;
 * - a traversal id `../../…/<outside>/trav` with a `log_path` that does not
 *   exist, so that the layout fallback would lead to `<outside>/trav.jsonl`;
 * - `secret`: `log_path` names `<outside>/secret.txt`, no JSON at all.
 */
export function hostileHome(root: string): HostileHome {
  const w = workspace(root);
  const outside = join(root, "outside");
  Deno.mkdirSync(join(outside, "sub"), { recursive: true });
  const writer = SessionWriter.create({
    zigHome: w.home,
    cwd: w.repo,
    workflowName: "real",
    workflowPath: "real.zwf",
    tierCount: 1,
  });
  writer.ended("success", 1);
  const endedLog = Deno.readTextFileSync(writer.logPath);
  Deno.writeTextFileSync(join(outside, "sub", "a.jsonl"), endedLog);
  Deno.writeTextFileSync(join(outside, "trav.jsonl"), endedLog);
  Deno.writeTextFileSync(join(outside, "index.json"), '{"unrelated": true}\n');
  const secret = "root:x:0:0:SECRET-DO-NOT-PRINT";
  Deno.writeTextFileSync(join(outside, "secret.txt"), `${secret}\n`);
  const ids = {
    elsewhere: "elsewhere",
    traversal: "../".repeat(40) + outside.slice(1) + "/trav",
    secret: "secret",
  };
  const logPaths: Record<string, string> = {
    [ids.elsewhere]: join(outside, "sub", "a.jsonl"),
    [ids.traversal]: "/nowhere/trav.jsonl",
    [ids.secret]: join(outside, "secret.txt"),
  };
  const ended = "2020-01-01T00:00:01+00:00";
  const entries = Object.entries(logPaths).map(([id, log_path]) => ({
    zig_session_id: id,
    workflow_name: "hostile",
    log_path,
    started_at: "2020-01-01T00:00:00+00:00",
    ended_at: ended,
    status: "success" as const,
  }));
  updateProjectIndex(projectIndexPath(w.project), {
    update(index) {
      for (const e of entries) {
        index.sessions.push({
          ...e,
          workflow_path: "hostile.zwf",
          workspace_path: w.project,
        });
      }
    },
  });
  updateGlobalIndex(globalIndexPath(w.home), {
    update(index) {
      for (const e of entries) {
        index.sessions.push({ ...e, project: w.project });
      }
    },
  });
  return { ...w, outside, realId: writer.sessionId, ids, secret };
}

/** Every file and folder under `dir` with its bytes, to compare before and after. */
export function snapshot(dir: string): Record<string, string> {
  const found: Record<string, string> = {};
  const walk = (at: string) => {
    for (const item of Deno.readDirSync(at)) {
      const path = join(at, item.name);
      const key = relative(dir, path);
      if (item.isDirectory) {
        found[key + "/"] = "";
        walk(path);
      } else if (item.isSymlink) {
        found[key] = `-> ${Deno.readLinkSync(path)}`;
      } else {
        found[key] = Deno.readTextFileSync(path);
      }
    }
  };
  walk(dir);
  return found;
}
