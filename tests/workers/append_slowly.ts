// Appends 20 events a few milliseconds apart, one of them written in two
// pieces as the reference does, then ends the session.
import { SessionWriter } from "../../mod.ts";

const [home, logPath] = Deno.args;
const writer = SessionWriter.attach({ zigHome: home, logPath });
for (let i = 0; i < 20; i++) {
  await new Promise((r) => setTimeout(r, 5));
  if (i === 10) {
    const line = `{"seq":${
      i + 2
    },"ts":"2026-11-23T22:41:46+00:00","zig_session_id":"${writer.sessionId}","type":"heartbeat","interval_secs":10}`;
    Deno.writeTextFileSync(logPath, line, { append: true });
    await new Promise((r) => setTimeout(r, 30));
    Deno.writeTextFileSync(logPath, "\n", { append: true });
  } else {
    writer.stepOutput({ stepName: "s", stream: "stdout", line: `${i}` });
  }
}
writer.ended("success", 100);
