// Internal to the CLI: options several commands take, declared once so that
// their parsing and help cannot differ between commands.
import type { OptionSpec } from "./_command.ts";

/** `--since D`: sessions started since a date, a timestamp or a duration ago. */
export const SINCE_OPTION = {
  type: "string",
  value: "D",
  help:
    "only sessions started since a date (2026-11-20), a timestamp,\nor a duration back from now (2h, 7d)",
} as const satisfies OptionSpec;

/** `--workflow W`, repeatable: only sessions of these workflows. */
export const WORKFLOWS_OPTION = {
  type: "string",
  multiple: true,
  value: "W",
  help: "only this workflow",
} as const satisfies OptionSpec;
