// Takes the session log's lock as every appending writer does, says "locked",
// waits, appends the text, optionally sets the log's modification time back,
// and lets go: a writer finishing its line while another process looks.
const [logPath, delayMs, text, mtimeSecsAgo] = Deno.args;
const file = Deno.openSync(logPath, { read: true, append: true });
file.lockSync(true);
console.log("locked");
await new Promise((r) => setTimeout(r, Number(delayMs)));
const bytes = new TextEncoder().encode(text);
let offset = 0;
while (offset < bytes.length) offset += file.writeSync(bytes.subarray(offset));
if (mtimeSecsAgo !== undefined) {
  const then = new Date(Date.now() - Number(mtimeSecsAgo) * 1000);
  file.utimeSync(then, then);
}
file.unlockSync();
file.close();
