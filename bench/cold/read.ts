// One cold process: reads every event of a log, like `zig-reference read`.
import { readSessionEvents } from "../../mod.ts";

const start = performance.now();
const events = await readSessionEvents(Deno.args[0]);
const ns = Math.round((performance.now() - start) * 1e6);
console.log(JSON.stringify({ events: events.length, ns }));
