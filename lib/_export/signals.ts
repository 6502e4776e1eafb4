// Internal to `export`: SIGINT and SIGTERM stop it, through an AbortSignal.

/** An AbortSignal aborted by SIGINT or SIGTERM, until disposed. */
export interface StopSignal {
  signal: AbortSignal;
  /** Stops listening for the signals. */
  dispose(): void;
}

/** Listens for SIGINT and SIGTERM: either aborts with an AbortError. */
export function abortOnSignals(): StopSignal {
  const controller = new AbortController();
  const stop = () =>
    controller.abort(new DOMException("stopped", "AbortError"));
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, stop);
  return {
    signal: controller.signal,
    dispose() {
      for (const s of signals) Deno.removeSignalListener(s, stop);
    },
  };
}
