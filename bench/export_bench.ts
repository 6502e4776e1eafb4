// `zig-session export` end to end: N events (default 1M) in 100 session logs,
// exported by the CLI (a real process, the compile task's permissions) to a
// local OTLP receiver, once over http/protobuf and once over http/json, each
// with gzip (the default). Reports events/s and the exporter's peak memory
// (VmHWM). Target: at least 200k events/s with memory bounded.
//
// Not part of `deno task bench` (one run takes a while): run it alone,
//   deno run -A bench/export_bench.ts [events]
import { join } from "node:path";
import { CLI as CLI_PATH, CLI_FLAGS } from "../tests/cli/_helpers.ts";

const EVENTS = Number(Deno.args[0] ?? 1_000_000);
const SESSIONS = 100;

/** Writes the session logs straight to the zig home's top-level sessions. */
function writeSessions(home: string): number {
  const dir = join(home, "logs", "sessions");
  Deno.mkdirSync(dir, { recursive: true });
  const encoder = new TextEncoder();
  const perSession = Math.floor(EVENTS / SESSIONS);
  let total = 0;
  const base = Date.UTC(2026, 10, 20);
  for (let s = 0; s < SESSIONS; s++) {
    const id = crypto.randomUUID();
    const file = Deno.openSync(join(dir, `${id}.jsonl`), {
      create: true,
      write: true,
    });
    let chunk = "";
    let seq = 0;
    const line = (kind: string) => {
      const ns = (base + s * 60_000) * 1e6 + seq * 1000;
      const ts = new Date(Math.floor(ns / 1e6)).toISOString().slice(0, 19) +
        "." + String(ns % 1e9).padStart(9, "0") + "+00:00";
      chunk +=
        `{"seq":${++seq},"ts":"${ts}","zig_session_id":"${id}",${kind}}\n`;
      if (chunk.length > 1 << 20) {
        file.writeSync(encoder.encode(chunk));
        chunk = "";
      }
    };
    line(
      `"type":"zig_session_started","workflow_name":"bench","workflow_path":"/w/bench.zwf","workspace_path":"${home}","cwd":"/w","prompt":"go","tier_count":1`,
    );
    line(`"type":"tier_started","tier_index":0,"step_names":["build"]`);
    line(
      `"type":"step_started","step_name":"build","tier_index":0,"zag_session_id":"zag-${s}","zag_command":"exec","model":"sonnet","prompt_preview":"build it"`,
    );
    for (let i = 0; i < perSession - 5; i++) {
      const stream = i % 10 === 0 ? "stderr" : "stdout";
      line(
        `"type":"step_output","step_name":"build","stream":"${stream}","line":${
          JSON.stringify(
            `compiling module ${i} of the build: src/pkg/file_${i}.ts ok`,
          )
        }`,
      );
    }
    line(
      `"type":"step_completed","step_name":"build","exit_code":0,"duration_ms":1000,"saved_vars":[]`,
    );
    line(`"type":"zig_session_ended","status":"success","duration_ms":1200`);
    file.writeSync(encoder.encode(chunk));
    file.close();
    total += seq;
  }
  return total;
}

/** A receiver that reads each body whole and answers 200, counting bytes. */
function sink() {
  let requests = 0;
  let bytes = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      const body = await req.arrayBuffer();
      requests++;
      bytes += body.byteLength;
      const json = req.headers.get("content-type") === "application/json";
      return new Response(json ? "{}" : "", {
        headers: {
          "content-type": json ? "application/json" : "application/x-protobuf",
        },
      });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    stats: () => ({ requests, bytes }),
    close: () => server.shutdown(),
  };
}

/** The peak resident memory of a process so far, in MB (VmHWM). */
function peakMb(pid: number): number | undefined {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process used so far (100 ticks a second). */
function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

if (import.meta.main) {
  const home = Deno.makeTempDirSync({ prefix: "zig-bench-export-" });
  try {
    let t = performance.now();
    const total = writeSessions(home);
    console.log(
      `wrote ${total} events in ${SESSIONS} sessions in ${
        ((performance.now() - t) / 1000).toFixed(1)
      } s`,
    );
    for (const protocol of ["http/protobuf", "http/json"]) {
      try {
        Deno.removeSync(join(home, "export"), { recursive: true });
      } catch {
        // The first run: no checkpoints yet.
      }
      const receiver = sink();
      t = performance.now();
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          ...CLI_FLAGS,
          CLI_PATH,
          "export",
          "--global",
          "--endpoint",
          receiver.url,
          "--protocol",
          protocol,
        ],
        env: { ZIG_HOME: home },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      let peak = 0;
      let cpu = 0;
      const watch = setInterval(() => {
        peak = Math.max(peak, peakMb(child.pid) ?? 0);
        cpu = Math.max(cpu, cpuSeconds(child.pid) ?? 0);
      }, 20);
      const out = await child.output();
      clearInterval(watch);
      const seconds = (performance.now() - t) / 1000;
      await receiver.close();
      const text = new TextDecoder().decode(out.stdout).trim();
      if (!out.success || !text.includes(`exported ${total} log records`)) {
        throw new Error(
          `export failed: ${text}\n${new TextDecoder().decode(out.stderr)}`,
        );
      }
      const { requests, bytes } = receiver.stats();
      console.log(
        `${protocol}: ${total} events in ${seconds.toFixed(2)} s = ${
          Math.round(total / seconds / 1000)
        }k events/s (whole process); exporter CPU ${cpu.toFixed(2)} s = ${
          Math.round(total / cpu / 1000)
        }k events per CPU second; peak memory ${
          peak.toFixed(0)
        } MB; ${requests} requests, ${(bytes / 1e6).toFixed(1)} MB gzipped`,
      );
    }
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
}
