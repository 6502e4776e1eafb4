/**
 * Where zig keeps its files:
 *
 * ```
 * <zig home>/sessions_index.json                    global index
 * <zig home>/projects/<sanitized>/logs/index.json   project index
 * <zig home>/projects/<sanitized>/logs/sessions/<id>.jsonl
 * <zig home>/logs/...                               sessions outside any git repository
 * ```
 *
 * @module
 */
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { ZigError } from "./error.ts";
import { fsError } from "./_fs.ts";

/** The environment variables the module reads, in the order it reads them. */
export const ENV_VARS: readonly string[] = ["ZIG_HOME", "HOME", "USERPROFILE"];

/** Options that locate the zig home. */
export interface ZigHomeOptions {
  /** The zig home itself; when given, no environment variable is read. */
  zigHome?: string;
}

/** Options that locate a project. */
export interface ProjectOptions extends ZigHomeOptions {
  /**
   * The root of the user's repository. Default: the nearest ancestor of `cwd`
   * that holds `.git`; none means the project dir is the zig home itself.
   */
  projectRoot?: string;
  /** The working directory to start from. Default: `Deno.cwd()`. */
  cwd?: string;
}

function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      throw new ZigError(
        `Cannot read the environment variable ${name}: env access is not granted, run again with --allow-env=${
          ENV_VARS.join(",")
        } or pass zigHome`,
        { kind: "permission", cause: error },
      );
    }
    throw error;
  }
}

/** A home from a variable must be absolute: relative, it would differ per directory. */
function absoluteFrom(name: string, value: string): string {
  if (isAbsolute(value)) return value;
  throw new ZigError(
    `${name} "${value}" is a relative path, which would name a different zig home in each directory: set it to an absolute path, such as "${
      resolve(value)
    }"`,
    { kind: "parse" },
  );
}

/** Throws when the zig home exists and is no directory (`/dev/null`). */
function directoryHome(home: string, source: string): string {
  let isDirectory = true;
  try {
    isDirectory = Deno.statSync(home).isDirectory;
  } catch (error) {
    // Missing: created when first written. Not allowed to look: the
    // operation itself will name the flag to add.
    if (error instanceof Deno.errors.NotADirectory) isDirectory = false;
  }
  if (isDirectory) return home;
  throw new ZigError(
    `The zig home "${home}" (from ${source}) is not a directory: set ZIG_HOME to a directory, or pass zigHome`,
    { kind: "io", path: home },
  );
}

/**
 * The zig home: `options.zigHome`, else `$ZIG_HOME`, else `$HOME/.zig`, else
 * `$USERPROFILE/.zig`. A relative `options.zigHome` is resolved against the
 * working directory; a relative variable is refused, since it would name a
 * different zig home in each directory.
 *
 * @example Usage
 * ```ts
 * import { zigHome } from "./paths.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(zigHome({ zigHome: "/tmp/z" }), "/tmp/z");
 * ```
 *
 * @param options An explicit zig home, if any.
 * @returns The absolute path of the zig home.
 * @throws {ZigError} `not_found` when none of the variables is set, `parse`
 * when the one used is a relative path, `io` when the zig home exists but is
 * not a directory.
 */
export function zigHome(options: ZigHomeOptions = {}): string {
  if (options.zigHome) {
    return directoryHome(resolve(options.zigHome), "zigHome");
  }
  const explicit = readEnv("ZIG_HOME");
  if (explicit) {
    return directoryHome(absoluteFrom("ZIG_HOME", explicit), "ZIG_HOME");
  }
  const name = readEnv("HOME") ? "HOME" : "USERPROFILE";
  const home = readEnv(name);
  if (!home) {
    throw new ZigError(
      "Cannot find the zig home: neither ZIG_HOME nor HOME (nor USERPROFILE) is set, set one of them or pass zigHome",
      { kind: "not_found" },
    );
  }
  return directoryHome(join(absoluteFrom(name, home), ".zig"), name);
}

/**
 * The nearest ancestor of `cwd` (itself included) that holds `.git`, a file
 * or a folder.
 *
 * @example Usage
 * ```ts
 * import { findProjectRoot } from "./paths.ts";
 *
 * const root = findProjectRoot(Deno.cwd()); // undefined outside a repository
 * ```
 *
 * @param cwd Where to start.
 * @returns The repository root, or `undefined` outside any repository.
 */
export function findProjectRoot(cwd: string): string | undefined {
  let dir = resolve(cwd);
  while (true) {
    const candidate = join(dir, ".git");
    try {
      Deno.statSync(candidate);
      return dir;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        throw fsError(error, {
          action: "look for the git repository",
          path: candidate,
        });
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Turns a project path into a folder name as zig does: the leading `/`
 * removed and every other `/` replaced by `-`.
 *
 * @example Usage
 * ```ts
 * import { sanitizeProjectPath } from "./paths.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(sanitizeProjectPath("/home/ada/src/shop"), "home-ada-src-shop");
 * ```
 *
 * @param path An absolute project path.
 * @returns The folder name under `<zig home>/projects/`.
 */
export function sanitizeProjectPath(path: string): string {
  return path.replace(/^\/+/, "").replaceAll("/", "-");
}

/**
 * The zig project directory for a working directory: the zig home's
 * `projects/<sanitized root>`, or the zig home itself outside any repository.
 *
 * @example Usage
 * ```ts
 * import { projectDir } from "./paths.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   projectDir({ zigHome: "/h/.zig", projectRoot: "/src/shop" }),
 *   "/h/.zig/projects/src-shop",
 * );
 * ```
 *
 * @param options The zig home, the project root or the working directory.
 * @returns The absolute path of the project directory.
 */
export function projectDir(options: ProjectOptions = {}): string {
  const home = zigHome(options);
  const root = options.projectRoot !== undefined
    ? resolve(options.projectRoot)
    : findProjectRoot(options.cwd ?? Deno.cwd());
  return root === undefined
    ? home
    : join(home, "projects", sanitizeProjectPath(root));
}

/**
 * The folder of a project's session logs.
 *
 * @example Usage
 * ```ts
 * import { sessionsDir } from "./paths.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(sessionsDir("/h/.zig"), "/h/.zig/logs/sessions");
 * ```
 *
 * @param projectDirPath A project directory.
 * @returns `<project dir>/logs/sessions`.
 */
export function sessionsDir(projectDirPath: string): string {
  return join(projectDirPath, "logs", "sessions");
}

/**
 * The path of a project index.
 *
 * @example Usage
 * ```ts
 * import { projectIndexPath } from "./paths.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(projectIndexPath("/h/.zig"), "/h/.zig/logs/index.json");
 * ```
 *
 * @param projectDirPath A project directory.
 * @returns `<project dir>/logs/index.json`.
 */
export function projectIndexPath(projectDirPath: string): string {
  return join(projectDirPath, "logs", "index.json");
}

/**
 * The path of the global index.
 *
 * @example Usage
 * ```ts
 * import { globalIndexPath } from "./paths.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(globalIndexPath("/h/.zig"), "/h/.zig/sessions_index.json");
 * ```
 *
 * @param zigHomePath The zig home.
 * @returns `<zig home>/sessions_index.json`.
 */
export function globalIndexPath(zigHomePath: string): string {
  return join(zigHomePath, "sessions_index.json");
}

/**
 * Whether a path names a global index (`sessions_index.json`) rather than a
 * project index (`logs/index.json`), by the layout's file names.
 *
 * @example Usage
 * ```ts
 * import { isGlobalIndexPath } from "./paths.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isGlobalIndexPath("/h/.zig/sessions_index.json"), true);
 * assert.equal(isGlobalIndexPath("/h/.zig/logs/index.json"), false);
 * ```
 *
 * @param path An index's path.
 * @returns `true` for the global index's file name.
 */
export function isGlobalIndexPath(path: string): boolean {
  return basename(path) === basename(globalIndexPath("/"));
}

/**
 * The path of a session's log.
 *
 * @example Usage
 * ```ts
 * import { sessionLogPath } from "./paths.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(sessionLogPath("/h/.zig", "abc"), "/h/.zig/logs/sessions/abc.jsonl");
 * ```
 *
 * @param projectDirPath A project directory.
 * @param sessionId The session's id.
 * @returns `<project dir>/logs/sessions/<id>.jsonl`.
 */
export function sessionLogPath(
  projectDirPath: string,
  sessionId: string,
): string {
  return join(sessionsDir(projectDirPath), `${sessionId}.jsonl`);
}

/**
 * The folder of every project directory inside a repository.
 *
 * @example Usage
 * ```ts
 * import { projectsDir } from "./paths.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(projectsDir("/h/.zig"), "/h/.zig/projects");
 * ```
 *
 * @param zigHomePath The zig home.
 * @returns `<zig home>/projects`.
 */
export function projectsDir(zigHomePath: string): string {
  return join(zigHomePath, "projects");
}

/**
 * The project directory of a session log where the layout puts it: the
 * inverse of {@linkcode sessionLogPath}. The path is not checked: a log kept
 * elsewhere gives the folder three levels above it.
 *
 * @example Usage
 * ```ts
 * import { projectDirOfLog } from "./paths.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   projectDirOfLog("/h/.zig/projects/src-shop/logs/sessions/abc.jsonl"),
 *   "/h/.zig/projects/src-shop",
 * );
 * ```
 *
 * @param logPath `<project dir>/logs/sessions/<id>.jsonl`.
 * @returns The project directory.
 */
export function projectDirOfLog(logPath: string): string {
  return dirname(dirname(dirname(logPath)));
}

/**
 * The project directory of a project index: the inverse of
 * {@linkcode projectIndexPath}. The path is not checked.
 *
 * @example Usage
 * ```ts
 * import { projectDirOfIndex } from "./paths.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(projectDirOfIndex("/h/.zig/logs/index.json"), "/h/.zig");
 * ```
 *
 * @param indexPath `<project dir>/logs/index.json`.
 * @returns The project directory.
 */
export function projectDirOfIndex(indexPath: string): string {
  return dirname(dirname(indexPath));
}

/**
 * The folder of session logs beside a project index, where the layout puts
 * them (`<project dir>/logs/sessions`, as {@linkcode sessionsDir} says).
 *
 * @example Usage
 * ```ts
 * import { sessionsDirOfIndex } from "./paths.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   sessionsDirOfIndex("/h/.zig/logs/index.json"),
 *   "/h/.zig/logs/sessions",
 * );
 * ```
 *
 * @param indexPath A project index: `<project dir>/logs/index.json`.
 * @returns The `sessions` folder beside it.
 */
export function sessionsDirOfIndex(indexPath: string): string {
  return join(dirname(indexPath), "sessions");
}

/**
 * The zig home a project directory belongs to: the zig home above
 * `<zig home>/projects/<name>`, else the directory itself (the zig home is
 * the project directory outside any repository).
 *
 * @example Usage
 * ```ts
 * import { zigHomeOfProjectDir } from "./paths.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(zigHomeOfProjectDir("/h/.zig/projects/src-shop"), "/h/.zig");
 * assert.equal(zigHomeOfProjectDir("/h/.zig"), "/h/.zig");
 * ```
 *
 * @param projectDirPath A project directory.
 * @returns The zig home.
 */
export function zigHomeOfProjectDir(projectDirPath: string): string {
  const parent = dirname(projectDirPath);
  return basename(parent) === "projects" ? dirname(parent) : projectDirPath;
}
