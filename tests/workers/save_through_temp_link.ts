// Plants a symbolic link at the temporary name this process will write an
// index through first (`<index>.tmp-<pid>-1`), pointing at the file given,
// then saves the index; prints "ok" or the error's kind and message.
import { saveProjectIndex, ZigError } from "../../mod.ts";

const [index, target] = Deno.args;
Deno.symlinkSync(target, `${index}.tmp-${Deno.pid}-1`);
try {
  saveProjectIndex(index, { sessions: [] });
  console.log("ok");
} catch (error) {
  if (!(error instanceof ZigError)) throw error;
  console.log(`${error.kind}: ${error.message}`);
}
