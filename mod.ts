/**
 * zig-session: the session log of the zig workflow runner, for Deno.
 *
 * A writer appends one JSON line per event to a session log, byte for byte as
 * zig writes it; a coordinator adds heartbeats and always records how a
 * session ended; the project and global indexes list the sessions, updated
 * under a lock and replaced atomically; readers stream logs with bounded
 * memory and follow live sessions.
 *
 * @example Record and read a session
 * ```ts
 * import {
 *   readSessionEvents,
 *   SessionCoordinator,
 *   SessionWriter,
 * } from "./mod.ts";
 *
 * const writer = SessionWriter.create({
 *   zigHome: Deno.makeTempDirSync(),
 *   projectRoot: "/src/shop",
 *   workflowName: "review",
 *   workflowPath: "flows/review.zwf",
 *   tierCount: 1,
 * });
 * const session = SessionCoordinator.start(writer);
 * writer.tierStarted(0, ["plan"]);
 * writer.stepOutput({ stepName: "plan", stream: "stdout", line: "done" });
 * session.finish("success");
 *
 * const events = await readSessionEvents(writer.logPath);
 * console.log(events.map((e) => e.type));
 * ```
 *
 * @module
 */
export * from "./lib/types.ts";
export * from "./lib/error.ts";
export * from "./lib/paths.ts";
export * from "./lib/timestamp.ts";
export * from "./lib/session_writer.ts";
export * from "./lib/session_coordinator.ts";
export * from "./lib/session_index.ts";
export * from "./lib/list_sessions.ts";
export * from "./lib/session_reader.ts";
export * from "./lib/follow_session_events.ts";
export * from "./lib/log_summary.ts";
export * from "./lib/text.ts";
export * from "./lib/session_state.ts";
export * from "./lib/check_session_log.ts";
