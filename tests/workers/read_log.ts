// Reads a log with no problem handler and prints how many events it had.
import { readSessionEvents } from "../../mod.ts";

console.log((await readSessionEvents(Deno.args[0])).length);
