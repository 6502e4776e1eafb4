// Internal to `serve`: the HTTP server. zig serve's session routes, same
// shapes and errors, and what it lacks: state, filters, a summary, an
// all-sessions stream, a page, and streams that follow the log instead of
// re-reading it.
import { ZigError } from "../../mod.ts";
import type { Context } from "../_cli/common.ts";
import { countLines, FeedHub } from "./feed.ts";
import {
  allowedOrigins,
  Auth,
  boolParam,
  errorResponse,
  fromZigError,
  HttpError,
  intParam,
  json,
  listParam,
  preflight,
  withCors,
} from "./http.ts";
import {
  type EventFilter,
  filteredLines,
  type LineProblem,
  locate,
  readDetail,
  sessionItem,
  SessionLister,
  summarize,
} from "./sessions.ts";
import { sseBody, type StreamContext, websocketReplay } from "./streams.ts";
import { SessionWatch } from "./subscribe.ts";

/** Options of {@linkcode startServer}. */
export interface ServerOptions {
  /** The zig home and the working directory (the project). */
  ctx: Context;
  /** Where to listen. */
  hostname: string;
  /** The port; 0 lets the system choose. */
  port: number;
  /** The bearer token. */
  token: string;
  /** Whether lists and lookups cover every project by default. */
  global: boolean;
  /** The version the health route reports. */
  version: string;
  /** Milliseconds between SSE keep-alive comments. Default: 15000. */
  keepAliveMs?: number;
}

/** A running server. */
export interface RunningServer {
  /** The address to open, e.g. `http://127.0.0.1:3000`. */
  url: string;
  /** The port bound. */
  port: number;
  /** Streams open now (SSE and WebSocket). */
  openStreams(): number;
  /** Logs followed now. */
  followedLogs(): number;
  /**
   * Closes every open stream cleanly, stops accepting, and waits (at most
   * `timeoutMs`, default 5000) for answers in flight. Returns how many
   * streams it closed.
   */
  shutdown(timeoutMs?: number): Promise<number>;
  /** Resolves when the server has stopped. */
  finished: Promise<void>;
}

const WEB_FILES: Record<string, string> = {
  "/": "index.html",
  "/index.html": "index.html",
  "/app.js": "app.js",
  "/style.css": "style.css",
  "/favicon.svg": "favicon.svg",
};

const CONTENT_TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
};

/** The page's files, read once, from beside the module (or the binary's copy). */
async function loadWeb(): Promise<
  Map<string, Uint8Array<ArrayBuffer>> | Error
> {
  const files = new Map<string, Uint8Array<ArrayBuffer>>();
  for (const name of new Set(Object.values(WEB_FILES))) {
    const url = new URL(`../../web/${name}`, import.meta.url);
    try {
      files.set(name, await Deno.readFile(url));
    } catch (error) {
      return new Error(
        `The page's file ${url.pathname} cannot be read (${
          (error as Error).message
        }): build the executable with --include web/`,
      );
    }
  }
  return files;
}

const PAGE_SECURITY = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-frame-options": "DENY",
};

const SSE_HEADERS = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache",
  "x-accel-buffering": "no",
};

function notFound(method: string, path: string): HttpError {
  return new HttpError(404, {
    code: "not_found",
    message: `No route for ${method} ${path}`,
  });
}

function methodNotAllowed(allowed: string): HttpError {
  return new HttpError(405, {
    code: "method_not_allowed",
    message: `Method not allowed here: use ${allowed}`,
    extra: {},
  });
}

/** A `Last-Event-ID` as zig reads it: a non-negative integer, else 0. */
function lastEventId(request: Request, url: URL): number {
  const raw = request.headers.get("last-event-id") ??
    url.searchParams.get("last_event_id") ?? "";
  return /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : 0;
}

/** Starts the server; resolves once it listens. */
export async function startServer(
  options: ServerOptions,
): Promise<RunningServer> {
  const { ctx } = options;
  const web = await loadWeb();
  const closing = new AbortController();
  const streams: StreamContext = {
    feeds: new FeedHub(),
    closing: closing.signal,
    keepAliveMs: options.keepAliveMs ?? 15_000,
    open: new Set(),
  };
  const lister = new SessionLister(ctx);
  const watches = new Map<boolean, SessionWatch>();
  const watch = (global: boolean) => {
    let w = watches.get(global);
    if (!w) {
      w = new SessionWatch(ctx, { global, streams, lister });
      watches.set(global, w);
    }
    return w;
  };

  // Known once bound (port 0 picks one): the CORS origins and the cookie
  // name depend on the port.
  const bound: { origins: Set<string>; auth?: Auth } = { origins: new Set() };
  const ready = Promise.withResolvers<void>();

  async function route(request: Request, url: URL): Promise<Response> {
    const method = request.method;
    const path = url.pathname;
    if (!path.startsWith("/api/")) {
      const file = WEB_FILES[path];
      if (file === undefined) throw notFound(method, path);
      if (method !== "GET" && method !== "HEAD") throw methodNotAllowed("GET");
      if (web instanceof Error) {
        throw new HttpError(500, { code: "io_error", message: web.message });
      }
      return new Response(web.get(file), {
        headers: {
          "content-type": CONTENT_TYPES[file.split(".").pop()!],
          "cache-control": "no-cache",
          ...(file.endsWith(".html") ? PAGE_SECURITY : {}),
        },
      });
    }
    if (path === "/api/v1/health") {
      if (method !== "GET") throw methodNotAllowed("GET");
      return json({ status: "ok", version: options.version });
    }
    if (path === "/api/v1/auth") return await login(request);
    const denied = bound.auth!.check(request, url);
    if (denied) return denied;

    const global = boolParam(url, "global") ?? options.global;
    if (path === "/api/v1/sessions") {
      if (method !== "GET") throw methodNotAllowed("GET");
      const response = new Response(lister.json(global), {
        headers: { "content-type": "application/json" },
      });
      // Which scope this is, for the page's "All projects" switch.
      response.headers.set("x-zig-scope", global ? "global" : "project");
      return response;
    }
    if (path === "/api/v1/subscribe") {
      if (method !== "GET") throw methodNotAllowed("GET");
      const body = watch(global).subscribe({
        types: listParam(url, "type"),
        events: boolParam(url, "events") ?? true,
      });
      return new Response(body, { headers: SSE_HEADERS });
    }
    const m =
      /^\/api\/v1\/sessions\/([^/]+)(\/summary|\/events|\/events\/stream|\/stream)?$/
        .exec(path);
    if (!m) throw notFound(method, path);
    if (method !== "GET") throw methodNotAllowed("GET");
    let id: string;
    try {
      id = decodeURIComponent(m[1]);
    } catch {
      throw new HttpError(400, {
        code: "bad_request",
        message: `Invalid session id "${m[1]}": bad percent-encoding`,
      });
    }
    const found = locate(ctx, { id, global: options.global });
    switch (m[2]) {
      case undefined: {
        const { events, problems } = await readDetail(found.logPath);
        return json({
          ...sessionItem(found.entry, { logPath: () => found.logPath }),
          events,
          problems,
        });
      }
      case "/summary":
        return json(await summarize(found));
      case "/events":
        return await eventsRoute(found.logPath, url);
      case "/events/stream": {
        let from = lastEventId(request, url);
        if (from > 0) {
          // Clamped to the lines there are, as zig does.
          const lines = await countLines(found.logPath);
          const ended = sessionItem(found.entry, {
            logPath: () => found.logPath,
          }).state;
          if (from >= lines && (ended === "success" || ended === "failure")) {
            // Nothing more will come: 204 tells EventSource not to reconnect
            // (zig answers an empty stream, and EventSource retries forever).
            return new Response(null, { status: 204 });
          }
          from = Math.min(from, lines);
        }
        return new Response(sseBody(found.logPath, { from, streams }), {
          headers: SSE_HEADERS,
        });
      }
      case "/stream": {
        if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
          throw new HttpError(426, {
            code: "bad_request",
            message:
              "This route is a WebSocket: connect with Upgrade: websocket (or use /events/stream for SSE)",
          });
        }
        const { socket, response } = Deno.upgradeWebSocket(request);
        websocketReplay(socket, { logPath: found.logPath, streams });
        return response;
      }
    }
    throw notFound(method, path);
  }

  async function eventsRoute(logPath: string, url: URL): Promise<Response> {
    const filter: EventFilter = {
      types: listParam(url, "type"),
      steps: listParam(url, "step"),
      afterSeq: intParam(url, "after_seq"),
      beforeSeq: intParam(url, "before_seq"),
      last: intParam(url, "last"),
    };
    const problems: LineProblem[] = [];
    const lines = filteredLines(logPath, { filter, problems });
    if (filter.last !== undefined) {
      // Only the last N are kept while reading.
      const kept: string[] = [];
      for await (const text of lines) {
        kept.push(text);
        if (kept.length > filter.last) kept.shift();
      }
      return new Response(`[${kept.join(",")}]`, {
        headers: { "content-type": "application/json" },
      });
    }
    // Streamed: the raw lines are JSON already, so memory stays bounded.
    const encoder = new TextEncoder();
    let first = true;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(encoder.encode("["));
      },
      async pull(c) {
        const next = await lines.next();
        if (next.done) {
          c.enqueue(encoder.encode("]"));
          c.close();
          return;
        }
        c.enqueue(encoder.encode((first ? "" : ",") + next.value));
        first = false;
      },
      cancel() {
        lines.return(undefined);
      },
    });
    return new Response(body, {
      headers: { "content-type": "application/json" },
    });
  }

  async function login(request: Request): Promise<Response> {
    if (request.method === "DELETE") {
      return new Response(null, {
        status: 204,
        headers: { "set-cookie": bound.auth!.clearCookie() },
      });
    }
    if (request.method !== "POST") throw methodNotAllowed("POST, DELETE");
    let token: unknown;
    try {
      token = (await request.json())?.token;
    } catch {
      token = undefined;
    }
    if (typeof token !== "string") {
      throw new HttpError(400, {
        code: "bad_request",
        message: 'Expected a JSON body {"token": "…"}',
      });
    }
    if (!bound.auth!.matches(token)) {
      return new Response("Invalid token", {
        status: 401,
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    }
    return new Response(null, {
      status: 204,
      headers: { "set-cookie": bound.auth!.setCookie() },
    });
  }

  async function handle(request: Request): Promise<Response> {
    try {
      return await answer(request);
    } catch (error) {
      // A last resort: the server itself must not stop.
      return errorResponse(
        new HttpError(500, {
          code: "internal_error",
          message: (error as Error)?.message ?? String(error),
        }),
      );
    }
  }

  async function answer(request: Request): Promise<Response> {
    await ready.promise;
    const url = new URL(request.url);
    const origin = request.headers.get("origin");
    if (request.method === "OPTIONS") return preflight(request, bound.origins);
    let response: Response;
    try {
      response = await route(request, url);
    } catch (error) {
      let http: HttpError;
      if (error instanceof HttpError) http = error;
      else if (error instanceof ZigError) http = fromZigError(error);
      else if (error instanceof Deno.errors.NotCapable) {
        http = new HttpError(403, {
          code: "permission_denied",
          message: (error as Error).message,
        });
      } else {
        http = new HttpError(500, {
          code: "internal_error",
          message: (error as Error)?.message ?? String(error),
        });
      }
      response = errorResponse(http);
    }
    if (response.status !== 101) {
      response.headers.set("x-content-type-options", "nosniff");
      response.headers.set("referrer-policy", "no-referrer");
    }
    return withCors(origin, response, bound.origins);
  }

  const server = Deno.serve({
    hostname: options.hostname,
    port: options.port,
    onListen: () => {}, // the command says where, once
    onError: (error) =>
      errorResponse(
        new HttpError(500, {
          code: "internal_error",
          message: (error as Error)?.message ?? String(error),
        }),
      ),
  }, handle);
  const addr = server.addr as Deno.NetAddr;
  bound.origins = allowedOrigins({
    hostname: options.hostname,
    port: addr.port,
  });
  bound.auth = await Auth.create(options.token, addr.port);
  ready.resolve();
  const host = addr.hostname.includes(":")
    ? `[${addr.hostname}]`
    : addr.hostname;

  let stopping: Promise<number> | undefined;
  return {
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    openStreams: () => streams.open.size,
    followedLogs: () => streams.feeds.size,
    shutdown(timeoutMs = 5000) {
      stopping ??= (async () => {
        const count = streams.open.size;
        closing.abort();
        for (const w of watches.values()) w.close();
        for (const stream of [...streams.open]) stream.close();
        streams.feeds.close();
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          server.shutdown(),
          new Promise((resolve) => timer = setTimeout(resolve, timeoutMs)),
        ]);
        clearTimeout(timer);
        return count;
      })();
      return stopping;
    },
    finished: server.finished,
  };
}
