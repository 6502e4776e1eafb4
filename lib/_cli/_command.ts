// Internal to the CLI: a command declared once, its options with their help
// text, from which both the parser's configuration and `--help` are made, so
// that the help cannot drift from what the parser accepts.
import type { ParseArgsConfig } from "node:util";
import {
  type CommandSpec as ParserSpec,
  type Context,
  parseCommand,
} from "./common.ts";
import { UsageError } from "./_args.ts";

/** One option: how it parses, and what its help says. */
export interface OptionSpec {
  /** Whether it takes a value (`string`) or not (`boolean`). */
  type: "string" | "boolean";
  /** Whether it may be given more than once (its values then a list). */
  multiple?: boolean;
  /** A one-letter alias. */
  short?: string;
  /** The value's name in the help: `D` in `--older-than D`. */
  value?: string;
  /** The default, as the help shows it. */
  default?: string;
  /** What the option does (more lines may follow a newline). */
  help: string;
}

/** A command's options by name (without `--`). */
export type OptionSpecs = Record<string, OptionSpec>;

/** What the parser gives for each option of a spec. */
export type OptionValues<O extends OptionSpecs> = {
  [K in keyof O]: O[K]["type"] extends "boolean" ? boolean
    : O[K]["multiple"] extends true ? string[]
    : string | undefined;
};

/** What a command runs with: a {@linkcode Context}, and the CLI itself. */
export interface CommandContext extends Context {
  /** Runs a command line of the CLI (what `demo` shows); returns its exit code. */
  cli(args: string[], ctx: Context): Promise<number>;
}

/** A command, declared once: `--help` and the parser both come from it. */
export interface CommandDefinition<O extends OptionSpecs, F> {
  /** The command's name. */
  name: string;
  /** One line: what the command does. */
  summary: string;
  /** The positionals as the usage line shows them (`ID...`); none if absent. */
  positionals?: string;
  /** The help between the usage line and the options. */
  details?: string;
  /** The options, each with its help. */
  options: O;
  /**
   * For a command that runs another: what follows `--` is that command line,
   * never options (`flags` gets it as `rest`); without `--`, an unknown
   * option's error ends with `hint`.
   */
  dashes?: { hint: string };
  /**
   * Typed flags from what was parsed (`rest`: what followed `--`, for a
   * command with `dashes`); throws a `UsageError` on bad values.
   */
  flags(values: OptionValues<O>, positionals: string[], rest?: string[]): F;
  /** Runs the command with its flags; returns the exit code. */
  run(flags: F, ctx: CommandContext): number | Promise<number>;
}

/** A command ready to parse and run. */
export interface Command<F> {
  /** The command's name. */
  readonly name: string;
  /** One line: what the command does. */
  readonly summary: string;
  /** The options, as declared. */
  readonly options: OptionSpecs;
  /** The options as the parser is configured (`help` included). */
  readonly parserOptions: NonNullable<ParseArgsConfig["options"]>;
  /** The whole `--help` text. */
  help(): string;
  /**
   * The typed flags of a command line; `undefined` after printing the help
   * when `--help` was given. Throws a `UsageError` on a mistake.
   */
  parse(argv: string[], ctx: Context): F | undefined;
  /** Runs the command with its flags. */
  run(flags: F, ctx: CommandContext): number | Promise<number>;
  /** Parses and runs; the exit code. */
  main(argv: string[], ctx: CommandContext): Promise<number>;
}

const HELP: OptionSpec = {
  type: "boolean",
  short: "h",
  help: "print this help",
};

/** Makes a {@linkcode Command} of its definition. */
export function defineCommand<O extends OptionSpecs, F>(
  definition: CommandDefinition<O, F>,
): Command<F> {
  const parser: ParserSpec = {
    name: definition.name,
    summary: definition.summary,
    usage: usageLine(definition),
    details: [definition.details?.trimEnd(), optionsHelp(definition.options)]
      .filter((part) => part).join("\n\n"),
    options: Object.fromEntries(
      Object.entries(definition.options).map(([name, option]) => [
        name,
        {
          type: option.type,
          ...(option.multiple ? { multiple: true } : {}),
          ...(option.short ? { short: option.short } : {}),
        },
      ]),
    ),
    positionals: definition.positionals !== undefined,
  };
  const command: Command<F> = {
    name: definition.name,
    summary: definition.summary,
    options: definition.options,
    parserOptions: { ...parser.options, help: { type: "boolean", short: "h" } },
    help() {
      return [
        `zig-session ${parser.name}: ${parser.summary}`,
        "",
        parser.usage,
        "",
        parser.details,
      ].join("\n") + "\n";
    },
    parse(argv, ctx) {
      const dashes = definition.dashes ? argv.indexOf("--") : -1;
      let parsed;
      try {
        parsed = parseCommand(parser, {
          argv: dashes < 0 ? argv : argv.slice(0, dashes),
          ctx,
        });
      } catch (error) {
        if (
          definition.dashes && dashes < 0 && error instanceof UsageError &&
          error.message.startsWith("Unknown option")
        ) {
          throw new UsageError(`${error.message}; ${definition.dashes.hint}`);
        }
        throw error;
      }
      if (!parsed) return undefined;
      const values: Record<string, string | boolean | string[] | undefined> =
        {};
      for (const [name, option] of Object.entries(definition.options)) {
        const value = parsed.values[name];
        values[name] = option.type === "boolean"
          ? value === true
          : option.multiple
          ? (Array.isArray(value) ? value : [])
          : typeof value === "string"
          ? value
          : undefined;
      }
      return definition.flags(
        values as OptionValues<O>,
        parsed.positionals,
        dashes < 0 ? undefined : argv.slice(dashes + 1),
      );
    },
    run: (flags, ctx) => definition.run(flags, ctx),
    async main(argv, ctx) {
      const flags = command.parse(argv, ctx);
      return flags === undefined ? 0 : await definition.run(flags, ctx);
    },
  };
  return command;
}

/** `Usage: zig-session gc [--older-than D] [--keep N] [--force]`. */
function usageLine(
  definition: { name: string; positionals?: string; options: OptionSpecs },
): string {
  const words = [`Usage: zig-session ${definition.name}`];
  // Positionals after `--` (a command and its arguments) come last.
  const last = definition.positionals?.startsWith("--");
  if (definition.positionals && !last) words.push(definition.positionals);
  for (const [name, option] of Object.entries(definition.options)) {
    const value = option.type === "string" ? ` ${option.value ?? "VALUE"}` : "";
    words.push(`[--${name}${value}]${option.multiple ? "..." : ""}`);
  }
  if (definition.positionals && last) words.push(definition.positionals);
  return words.join(" ");
}

/** The `Options:` section: each option, its value, and its help. */
function optionsHelp(options: OptionSpecs): string {
  const rows = [...Object.entries(options), ["help", HELP] as const].map(
    ([name, option]) => {
      const value = option.type === "string"
        ? ` ${option.value ?? "VALUE"}`
        : "";
      const flag = `${option.short ? `-${option.short}, ` : ""}--${name}`;
      const notes = [
        option.default === undefined ? "" : `default ${option.default}`,
        option.multiple ? "repeatable" : "",
      ].filter((note) => note).join(", ");
      return { left: flag + value, help: option.help, notes };
    },
  );
  const width = Math.max(...rows.map((row) => row.left.length));
  for (const row of rows) {
    if (!row.notes) continue;
    // The notes go on the help's last line, or on a line of their own.
    const last = row.help.split("\n").at(-1)!;
    const fits = 4 + width + last.length + row.notes.length + 3 <= 80;
    row.help += `${fits ? " " : "\n"}(${row.notes})`;
  }
  const lines = rows.map(({ left, help }) =>
    `  ${left.padEnd(width)}  ${
      help.replaceAll("\n", `\n  ${" ".repeat(width)}  `)
    }`
  );
  return ["Options:", ...lines].join("\n");
}
