// Internal to the CLI: a recorded step's output and the events `record`
// could not write.
import type { OutputStream, SessionWriter } from "../../mod.ts";
import { ZigError } from "../../mod.ts";
import { OutputLines } from "./_output_lines.ts";
import type { Context } from "./_context.ts";

/**
 * The events a `record` could not write (a full disk, a session ended by
 * another process): the command keeps running, and the loss is told at the end.
 */
export class Losses {
  count = 0;
  first: string | undefined;

  /** Runs one write of `events` events; counts them as lost when it throws. */
  write(fn: () => void, events = 1): void {
    try {
      fn();
    } catch (error) {
      this.count += events;
      this.first ??= error instanceof Error ? error.message : String(error);
    }
  }

  /** Says on stderr that the record is incomplete, if it is; whether it is. */
  told(ctx: Context, sessionId: string): boolean {
    if (this.count === 0) return false;
    ctx.err.write(
      `zig-session: the record of session ${sessionId} is incomplete: ${this.count} event(s) could not be written (${this.first})\n`,
    );
    return true;
  }
}

/** Rethrows a failure before the command ran, saying that it did not run. */
export function notRun(error: unknown, command: string): never {
  if (!(error instanceof ZigError)) throw error;
  throw new ZigError(`${error.message}; "${command}" was not run`, {
    kind: error.kind,
    path: error.path,
    cause: error,
  });
}

/** Records the lines of `stream` as step_output events, passing them through. */
export async function pump(
  stream: ReadableStream<Uint8Array>,
  options: {
    writer: SessionWriter;
    stepName: string;
    name: OutputStream;
    passThrough?: typeof Deno.stdout;
    losses: Losses;
  },
): Promise<void> {
  const { writer, stepName, name, passThrough, losses } = options;
  // The lines of a chunk in one write: all of them or none.
  const lines = new OutputLines((batch) =>
    losses.write(
      () =>
        writer.batch(() => {
          for (const line of batch) {
            writer.stepOutput({ stepName, stream: name, line });
          }
        }),
      batch.length,
    )
  );
  let passing = passThrough !== undefined;
  for await (const chunk of stream) {
    if (passing) {
      try {
        let offset = 0;
        while (offset < chunk.length) {
          offset += passThrough!.writeSync(chunk.subarray(offset));
        }
      } catch {
        passing = false; // our own output went away; keep recording
      }
    }
    lines.push(chunk);
  }
  lines.end();
}
