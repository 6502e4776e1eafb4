// Prints the zig home the environment gives, or the error's kind and message.
import { ZigError, zigHome } from "../../mod.ts";

try {
  console.log(zigHome());
} catch (error) {
  if (!(error instanceof ZigError)) throw error;
  console.log(`${error.kind}: ${error.message}`);
}
