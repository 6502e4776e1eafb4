// Internal to `serve`: JSON and error answers shaped like zig serve's, its
// CORS rule, and authentication (bearer token, query token, cookie).
import type { ZigError } from "../../mod.ts";

/** An error answered as zig serve answers: `{"error":{"code","message"}}`. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly extra: Record<string, unknown>;

  constructor(
    status: number,
    error: { code: string; message: string; extra?: Record<string, unknown> },
  ) {
    super(error.message);
    this.name = "HttpError";
    this.status = status;
    this.code = error.code;
    this.extra = error.extra ?? {};
  }
}

/** A JSON answer. */
export function json(value: unknown, status = 200): Response {
  return new Response(JSON.stringify(value), {
    status,
    headers: { "content-type": "application/json" },
  });
}

/** The error body of zig serve, plus any extra fields (such as candidates). */
export function errorResponse(error: HttpError): Response {
  return json(
    { error: { code: error.code, message: error.message, ...error.extra } },
    error.status,
  );
}

/**
 * Maps the module's errors to zig serve's codes and statuses, except that an
 * ambiguous prefix is a 409 with its candidates (zig answers 500 io_error).
 */
export function fromZigError(error: ZigError): HttpError {
  switch (error.kind) {
    case "not_found":
      return new HttpError(404, { code: "not_found", message: error.message });
    case "ambiguous":
      return new HttpError(409, {
        code: "ambiguous",
        message: error.message,
        extra: { candidates: error.candidates ?? [] },
      });
    case "parse":
      return new HttpError(400, {
        code: "parse_error",
        message: error.message,
      });
    case "permission":
    case "corrupt": // an index entry leading out of the zig home: refused
      return new HttpError(403, {
        code: "permission_denied",
        message: error.message,
      });
    default:
      return new HttpError(500, { code: "io_error", message: error.message });
  }
}

/** The origins zig serve allows: loopback names on its port, and its host. */
export function allowedOrigins(
  options: { hostname: string; port: number },
): Set<string> {
  const origins = new Set<string>();
  for (const host of ["127.0.0.1", "localhost", "[::1]"]) {
    for (const scheme of ["http", "https"]) {
      origins.add(`${scheme}://${host}:${options.port}`);
    }
  }
  const wildcardOrLoopback = [
    "127.0.0.1",
    "localhost",
    "0.0.0.0",
    "::",
    "[::]",
    "::1",
    "[::1]",
  ];
  if (!wildcardOrLoopback.includes(options.hostname)) {
    const host = options.hostname.includes(":")
      ? `[${options.hostname}]`
      : options.hostname;
    origins.add(`http://${host}:${options.port}`);
  }
  return origins;
}

const CORS_METHODS = "GET,POST,PUT,DELETE,OPTIONS";
const CORS_HEADERS = "authorization,content-type";

/**
 * The answer to a CORS preflight: allowed origins get the methods and
 * headers zig allows, with credentials; others get no CORS headers.
 */
export function preflight(request: Request, origins: Set<string>): Response {
  const headers = new Headers({ vary: "origin" });
  const origin = request.headers.get("origin");
  if (origin !== null && origins.has(origin)) {
    headers.set("access-control-allow-origin", origin);
    headers.set("access-control-allow-credentials", "true");
    headers.set("access-control-allow-methods", CORS_METHODS);
    headers.set("access-control-allow-headers", CORS_HEADERS);
  }
  return new Response(null, { status: 200, headers });
}

/**
 * Adds the CORS headers of an allowed origin to an answer. The origin is
 * read before routing: once a WebSocket upgrade is done, the request's
 * headers can no longer be read.
 */
export function withCors(
  origin: string | null,
  response: Response,
  origins: Set<string>,
): Response {
  if (origin === null) return response;
  // A WebSocket upgrade's answer cannot be changed; browsers do not apply
  // CORS to WebSockets anyway.
  if (response.status === 101) return response;
  response.headers.append("vary", "origin");
  if (origins.has(origin)) {
    response.headers.set("access-control-allow-origin", origin);
    response.headers.set("access-control-allow-credentials", "true");
  }
  return response;
}

const encoder = new TextEncoder();

/** Compares two strings in time that depends only on their lengths. */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    diff |= (x[i % x.length] ?? 0) ^ (y[i % y.length] ?? 0);
  }
  return diff === 0 && x.length === y.length;
}

/** What authenticates a request, and the cookie the page is given. */
export class Auth {
  readonly #token: string;
  readonly #cookieValue: string;
  /** The cookie's name: per port, since cookies do not tell ports apart. */
  readonly cookieName: string;

  private constructor(
    token: string,
    cookie: { name: string; value: string },
  ) {
    this.#token = token;
    this.cookieName = cookie.name;
    this.#cookieValue = cookie.value;
  }

  /**
   * The cookie holds a hash of the token, not the token: what a browser
   * stores cannot be replayed as a bearer token elsewhere.
   */
  static async create(token: string, port: number): Promise<Auth> {
    const digest = await crypto.subtle.digest(
      "SHA-256",
      encoder.encode(`zig-session serve cookie\0${token}`),
    );
    const value = Array.from(
      new Uint8Array(digest),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
    return new Auth(token, { name: `zig_session_${port}`, value });
  }

  /** Whether a token given to the login route is the server's. */
  matches(token: string): boolean {
    return constantTimeEqual(token, this.#token);
  }

  /**
   * `undefined` when the request is authenticated, else zig serve's plain
   * text 401. Accepted, in order: `Authorization: Bearer`, the `token` query
   * parameter, the page's cookie.
   */
  check(request: Request, url: URL): Response | undefined {
    const header = request.headers.get("authorization");
    let ok: boolean;
    if (header !== null) {
      if (!header.startsWith("Bearer ")) return unauthorized(false);
      ok = constantTimeEqual(header.slice(7), this.#token);
    } else if (url.searchParams.has("token")) {
      ok = constantTimeEqual(url.searchParams.get("token")!, this.#token);
    } else {
      const cookie = readCookie(request, this.cookieName);
      if (cookie === undefined) return unauthorized(false);
      ok = constantTimeEqual(cookie, this.#cookieValue);
    }
    return ok ? undefined : unauthorized(true);
  }

  /** The `Set-Cookie` value that authenticates the page. */
  setCookie(): string {
    return `${this.cookieName}=${this.#cookieValue}; Path=/; HttpOnly; SameSite=Strict`;
  }

  /** The `Set-Cookie` value that removes it. */
  clearCookie(): string {
    return `${this.cookieName}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
  }
}

function unauthorized(invalid: boolean): Response {
  return new Response(
    invalid ? "Invalid token" : "Missing or invalid Authorization header",
    {
      status: 401,
      headers: {
        "content-type": "text/plain; charset=utf-8",
        "www-authenticate": "Bearer",
      },
    },
  );
}

function readCookie(request: Request, name: string): string | undefined {
  const header = request.headers.get("cookie");
  if (header === null) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      return part.slice(eq + 1).trim();
    }
  }
  return undefined;
}

/** A non-negative integer query parameter, or a 400 naming it. */
export function intParam(url: URL, name: string): number | undefined {
  const value = url.searchParams.get(name);
  if (value === null || value === "") return undefined;
  if (!/^\d+$/.test(value)) {
    throw new HttpError(400, {
      code: "bad_request",
      message: `Invalid ${name} "${value}": expected a non-negative integer`,
    });
  }
  return Number(value);
}

/** A comma-separated (or repeated) list query parameter. */
export function listParam(url: URL, name: string): string[] {
  return url.searchParams.getAll(name).flatMap((v) => v.split(","))
    .map((v) => v.trim()).filter((v) => v !== "");
}

/** A boolean query parameter: `1`, `true` or `yes` (or present and empty). */
export function boolParam(url: URL, name: string): boolean | undefined {
  const value = url.searchParams.get(name);
  if (value === null) return undefined;
  return ["", "1", "true", "yes"].includes(value.toLowerCase());
}
