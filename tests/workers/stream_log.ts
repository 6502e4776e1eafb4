// Streams a log and prints the event count and the peak heap use in MB.
import { streamSessionEvents } from "../../mod.ts";

let count = 0;
let peak = 0;
for await (const _ of streamSessionEvents(Deno.args[0])) {
  if (++count % 5000 === 0) peak = Math.max(peak, Deno.memoryUsage().heapUsed);
}
console.log(count, Math.ceil(peak / (1 << 20)));
