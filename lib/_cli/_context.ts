// Internal to the CLI: what a command runs with, and where its output goes.

/** What a command runs with. */
export interface Context {
  /** The zig home, when not taken from the environment. */
  zigHome?: string;
  /** The working directory. */
  cwd: string;
  /** Writes to standard output. */
  out: Writer;
  /** Writes to standard error. */
  err: Writer;
}

/** A text sink that knows whether it is a terminal. */
export interface Writer {
  /** Writes text as it is. */
  write(text: string): void;
  /**
   * Writes UTF-8 bytes as they are, when the sink takes bytes (saves
   * decoding what is encoded again at once).
   */
  writeBytes?(bytes: Uint8Array): void;
  /** Whether the sink is a terminal. */
  isTerminal: boolean;
  /** Whether colors may be used: a terminal, and NO_COLOR not set. */
  color: boolean;
}
