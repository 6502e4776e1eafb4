// Builds the benchmarks' inputs in a temporary directory.
import { join } from "node:path";
import { globalIndexPath, projectDir, projectIndexPath } from "../mod.ts";

/** Writes a log of `count` step_output events of about `bytes` each. */
export function makeLog(
  dir: string,
  options: { count: number; bytes: number },
): string {
  const path = join(dir, "big.jsonl");
  const file = Deno.openSync(path, {
    create: true,
    write: true,
    truncate: true,
  });
  const encoder = new TextEncoder();
  const id = crypto.randomUUID();
  const head =
    `"ts":"2026-11-23T22:41:46.369218144+00:00","zig_session_id":"${id}","type":"step_output","step_name":"plan","stream":"stdout","line":`;
  let chunk = "";
  for (let seq = 1; seq <= options.count; seq++) {
    const prefix = `{"seq":${seq},${head}`;
    const line = `output ${seq} "quoted" é `.padEnd(
      Math.max(0, options.bytes - prefix.length - 4),
      "x",
    );
    chunk += `${prefix}${JSON.stringify(line)}}\n`;
    if (chunk.length > 1 << 20) {
      file.writeSync(encoder.encode(chunk));
      chunk = "";
    }
  }
  file.writeSync(encoder.encode(chunk));
  file.close();
  return path;
}

/** Writes project and global indexes that already list `count` ended sessions. */
export function makeIndexes(
  home: string,
  options: { count: number; projectRoot: string },
): void {
  const project = projectDir({
    zigHome: home,
    projectRoot: options.projectRoot,
  });
  const sessions = [];
  const global = [];
  for (let i = 0; i < options.count; i++) {
    const id = crypto.randomUUID();
    const base = {
      zig_session_id: id,
      workflow_name: `wf-${i % 17}`,
    };
    const log = join(project, "logs", "sessions", `${id}.jsonl`);
    const started = new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString()
      .replace("Z", "+00:00");
    sessions.push({
      ...base,
      workflow_path: "/work/flows/flow.zwf",
      log_path: log,
      started_at: started,
      ended_at: started,
      status: "success",
      workspace_path: project,
    });
    global.push({
      ...base,
      project,
      log_path: log,
      started_at: started,
      ended_at: started,
      status: "success",
    });
  }
  Deno.mkdirSync(join(project, "logs", "sessions"), { recursive: true });
  Deno.writeTextFileSync(
    projectIndexPath(project),
    JSON.stringify({ sessions }, null, 2),
  );
  Deno.writeTextFileSync(
    globalIndexPath(home),
    JSON.stringify({ sessions: global }, null, 2),
  );
}
