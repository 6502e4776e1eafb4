// Internal to the CLI: output people read.
import type { AnySessionEntry } from "../../mod.ts";
import {
  paint,
  projectLabel,
  shortTime,
  table,
  visible,
  type Writer,
} from "./common.ts";

/** A byte count for people: `812 B`, `12.3 kB`, `4.5 MB`. */
function formatSize(bytes: number | null): string {
  if (bytes === null) return "gone";
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} kB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e9).toFixed(1)} GB`;
}

/**
 * Sessions as an aligned table: id, project (with `global`), workflow, when
 * they ended, and the size of their log (what gc removes, or would).
 */
export function sessionTable(
  out: Writer,
  what: {
    doomed: Array<{ entry: AnySessionEntry; size: number | null }>;
    global: boolean;
  },
): string {
  const header = [
    "ID",
    ...(what.global ? ["PROJECT"] : []),
    "WORKFLOW",
    "ENDED (UTC)",
    "LOG",
  ];
  const rows = what.doomed.map(({ entry, size }) =>
    [
      entry.zig_session_id,
      ...(what.global ? [projectLabel(entry)] : []),
      entry.workflow_name,
      shortTime(entry.ended_at),
      formatSize(size),
    ].map((cell) => visible(cell))
  );
  const bold = paint(out, "bold");
  return table([header.map(bold), ...rows], [header, ...rows]);
}
