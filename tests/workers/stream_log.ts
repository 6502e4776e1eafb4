// Counts the events of a log by streaming it, or, with "whole", by reading
// the whole file at once (the control of the bounded-memory test).
import { streamSessionEvents } from "../../mod.ts";

const [path, mode] = Deno.args;
let count = 0;
if (mode === "whole") {
  const texts = Deno.readTextFileSync(path).split("\n");
  count = texts.filter((t) => t !== "").map((t) => JSON.parse(t)).length;
} else {
  for await (const _ of streamSessionEvents(path)) count++;
}
console.log(count);
