// `zig-session serve`: zig serve's session routes (same shapes, errors, auth,
// CORS), what it adds, and how its streams behave with live, slow and
// malformed input. Servers bind 127.0.0.1 on a port the system picks.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  globalIndexPath,
  loadGlobalIndex,
  loadProjectIndex,
  projectDir,
  projectIndexPath,
  SessionWriter,
} from "../../mod.ts";
import { tomlToken } from "../../lib/_serve/token.ts";
import { copyFixtureHome, lines, projectFile, tempDir } from "../_helpers.ts";
import { CLI_FLAGS, runCli } from "./_helpers.ts";
import {
  BEARER,
  dechunk,
  inProcessServer,
  openSse,
  serveProcess,
  type SseEvent,
  SseReader,
  TOKEN,
} from "./_serve.ts";

/** The fixture zig home plus a git repository (the current project). */
function setup(root: string) {
  const home = copyFixtureHome(root);
  const repo = join(root, "repo");
  Deno.mkdirSync(join(repo, ".git"), { recursive: true });
  return { home, repo };
}

/** A new session in the repository's project. */
function session(
  where: { home: string; repo: string },
  options: { id?: string; workflow?: string } = {},
): SessionWriter {
  return SessionWriter.create({
    zigHome: where.home,
    projectRoot: where.repo,
    workflowName: options.workflow ?? "build",
    workflowPath: "flows/build.zwf",
    prompt: "make it build",
    tierCount: 1,
    ...(options.id ? { createId: () => options.id! } : {}),
  });
}

async function getJson(url: string, headers: HeadersInit = BEARER) {
  const response = await fetch(url, { headers });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: text ? JSON.parse(text) : undefined,
  };
}

/** Fails if `promise` takes longer than `ms` (a hang, not a slow machine). */
function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Timed out: ${what}`)), ms);
    }),
  ]);
}

Deno.test("serve: health needs no token, the page is public with a strict CSP, every other route needs the token", async () => {
  using tmp = tempDir();
  const { home, repo } = setup(tmp.path);
  await using server = await inProcessServer({ home, cwd: repo });
  const health = await getJson(`${server.url}/api/v1/health`, {});
  assert.equal(health.status, 200);
  assert.deepEqual(health.body, { status: "ok", version: "test" });

  const page = await fetch(`${server.url}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type")!, /^text\/html/);
  assert.match(
    page.headers.get("content-security-policy")!,
    /default-src 'none'/,
  );
  assert.match(await page.text(), /<script src="app.js"/);
  for (const file of ["app.js", "style.css"]) {
    const r = await fetch(`${server.url}/${file}`);
    assert.equal(r.status, 200, file);
    assert.equal(
      await r.text(),
      Deno.readTextFileSync(projectFile(`web/${file}`)),
    );
  }
  const missing = await getJson(`${server.url}/nope.txt`, {});
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, "not_found");

  for (
    const path of [
      "/api/v1/sessions",
      "/api/v1/sessions/94dc",
      "/api/v1/sessions/94dc/summary",
      "/api/v1/sessions/94dc/events",
      "/api/v1/sessions/94dc/events/stream",
      "/api/v1/sessions/94dc/stream",
      "/api/v1/subscribe",
      "/api/v1/unknown",
    ]
  ) {
    const r = await fetch(`${server.url}${path}`);
    assert.equal(r.status, 401, path);
    assert.equal(await r.text(), "Missing or invalid Authorization header");
  }
});

Deno.test("serve: auth fails as zig's does; a query token and the page's cookie work, a forged cookie does not", async () => {
  using tmp = tempDir();
  const { home, repo } = setup(tmp.path);
  await using server = await inProcessServer({ home, cwd: repo });
  const list = `${server.url}/api/v1/sessions`;
  const cases: Array<[HeadersInit, number, string]> = [
    [{}, 401, "Missing or invalid Authorization header"],
    [
      { authorization: `Basic ${TOKEN}` },
      401,
      "Missing or invalid Authorization header",
    ],
    [{ authorization: "Bearer wrong" }, 401, "Invalid token"],
    [{ authorization: `Bearer ${TOKEN}x` }, 401, "Invalid token"],
    [{ authorization: `Bearer ${TOKEN}` }, 200, "["],
  ];
  for (const [headers, status, text] of cases) {
    const r = await fetch(list, { headers });
    assert.equal(r.status, status, JSON.stringify(headers));
    const body = await r.text();
    assert.ok(body.startsWith(text), body);
    if (status === 401) {
      assert.match(r.headers.get("content-type")!, /^text\/plain/);
    }
  }
  assert.equal(
    (await fetch(`${list}?token=wrong`).then(async (
      r,
    ) => [r.status, await r.text()]))[0],
    401,
  );
  const byQuery = await fetch(`${list}?token=${encodeURIComponent(TOKEN)}`);
  assert.equal(byQuery.status, 200);
  await byQuery.body?.cancel();

  // The page's login: a wrong token is refused, the right one sets a cookie.
  const login = (token: string) =>
    fetch(`${server.url}/api/v1/auth`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token }),
    });
  const refused = await login("wrong");
  assert.equal(refused.status, 401);
  assert.equal(refused.headers.get("set-cookie"), null);
  await refused.body?.cancel();
  const accepted = await login(TOKEN);
  assert.equal(accepted.status, 204);
  const cookie = accepted.headers.get("set-cookie")!;
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  assert.ok(!cookie.includes(TOKEN), "the cookie holds a hash, not the token");
  const pair = cookie.split(";")[0];
  assert.match(pair, new RegExp(`^zig_session_${server.port}=[0-9a-f]{64}$`));
  const withCookie = await fetch(list, {
    headers: { cookie: `other=1; ${pair}` },
  });
  assert.equal(withCookie.status, 200);
  await withCookie.body?.cancel();
  const forged = await fetch(list, {
    headers: { cookie: `${pair.slice(0, -1)}0` },
  });
  assert.equal(forged.status, 401);
  assert.equal(await forged.text(), "Invalid token");
  const logout = await fetch(`${server.url}/api/v1/auth`, { method: "DELETE" });
  assert.equal(logout.status, 204);
  assert.match(logout.headers.get("set-cookie")!, /Max-Age=0/);
  const badBody = await getJson(`${server.url}/api/v1/auth`, {});
  assert.equal(badBody.status, 405);
});

Deno.test("serve: CORS allows zig's origins only (loopback names on the port), with credentials, preflight without a token", async () => {
  using tmp = tempDir();
  const { home, repo } = setup(tmp.path);
  await using server = await inProcessServer({ home, cwd: repo });
  const port = server.port;
  for (
    const origin of [
      `http://127.0.0.1:${port}`,
      `https://localhost:${port}`,
      `http://[::1]:${port}`,
    ]
  ) {
    const pre = await fetch(`${server.url}/api/v1/sessions`, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "GET",
        "access-control-request-headers": "authorization",
      },
    });
    await pre.body?.cancel();
    assert.equal(pre.status, 200, origin);
    assert.equal(pre.headers.get("access-control-allow-origin"), origin);
    assert.equal(pre.headers.get("access-control-allow-credentials"), "true");
    assert.equal(
      pre.headers.get("access-control-allow-methods"),
      "GET,POST,PUT,DELETE,OPTIONS",
    );
    assert.equal(
      pre.headers.get("access-control-allow-headers"),
      "authorization,content-type",
    );
    const get = await fetch(`${server.url}/api/v1/sessions`, {
      headers: { ...BEARER, origin },
    });
    await get.body?.cancel();
    assert.equal(get.headers.get("access-control-allow-origin"), origin);
    assert.match(get.headers.get("vary")!, /origin/i);
  }
  for (
    const origin of [
      "http://evil.example",
      `http://127.0.0.1:${port + 1}`,
      `http://localhost.evil.example:${port}`,
      "null",
    ]
  ) {
    const pre = await fetch(`${server.url}/api/v1/sessions`, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "GET" },
    });
    await pre.body?.cancel();
    assert.equal(pre.headers.get("access-control-allow-origin"), null, origin);
    const get = await fetch(`${server.url}/api/v1/sessions`, {
      headers: { ...BEARER, origin },
    });
    await get.body?.cancel();
    assert.equal(get.headers.get("access-control-allow-origin"), null, origin);
  }
});

Deno.test("serve: the list is the project index's entries as stored plus state and duration; ?global=1 lists every project", async () => {
  using tmp = tempDir();
  const where = setup(tmp.path);
  const done = session(where, { workflow: "done" });
  done.ended("success", 5);
  const live = session(where, { workflow: "live" });
  await using server = await inProcessServer({
    home: where.home,
    cwd: where.repo,
  });

  const project = await getJson(`${server.url}/api/v1/sessions`);
  assert.equal(project.status, 200);
  const index = loadProjectIndex(
    projectIndexPath(
      projectDir({ zigHome: where.home, projectRoot: where.repo }),
    ),
  ).sessions;
  assert.equal(project.body.length, 2);
  project.body.forEach((item: Record<string, unknown>, i: number) => {
    const entry = index[i] as unknown as Record<string, unknown>;
    // zig's fields first, unchanged, then ours.
    assert.deepEqual(Object.keys(item).slice(0, 8), Object.keys(entry));
    for (const key of Object.keys(entry)) {
      assert.deepEqual(item[key], entry[key], key);
    }
    assert.equal(typeof item.duration_ms, "number");
    assert.equal(item.project, entry.workspace_path);
  });
  assert.deepEqual(project.body.map((s: { state: string }) => s.state), [
    "success",
    "running",
  ]);
  assert.equal(project.body[1].zig_session_id, live.sessionId);

  const all = await getJson(`${server.url}/api/v1/sessions?global=1`);
  const globalIndex = loadGlobalIndex(globalIndexPath(where.home)).sessions;
  assert.deepEqual(
    all.body.map((s: { zig_session_id: string }) => s.zig_session_id),
    globalIndex.map((s) => s.zig_session_id),
  );
  assert.equal(all.body.length, 7);
  const states = Object.fromEntries(
    all.body.map((
      s: { workflow_name: string; state: string },
    ) => [s.workflow_name, s.state]),
  );
  // The fixture's unended session has been silent for years: abandoned.
  assert.deepEqual(states, {
    "wf-success": "success",
    "wf-failure": "failure",
    "wf-running": "abandoned",
    "wf-dropped": "failure",
    done: "success",
    live: "running",
  });
  assert.equal(
    all.body[0].project,
    "/home/ada/.zig/projects/home-ada-src-shop",
  );
  // The index is read again once it changed: a new session, an ended one.
  live.ended("failure", 7);
  const later = session(where, { workflow: "later" });
  const again = await getJson(`${server.url}/api/v1/sessions`);
  assert.deepEqual(
    again.body.map((s: { workflow_name: string; state: string }) =>
      `${s.workflow_name}:${s.state}`
    ),
    ["done:success", "live:failure", "later:running"],
  );
  assert.equal(again.headers.get("x-zig-scope"), "project");
  later.close();
});

Deno.test("serve: a session's detail is its entry flattened plus its events as stored; 404 and 409 with candidates; malformed lines listed, not a 400", async () => {
  using tmp = tempDir();
  const where = setup(tmp.path);
  const a = session(where, { id: "aaaa1111-0000-4000-8000-000000000001" });
  a.tierStarted(0, ["x"]);
  a.stepOutput({ stepName: "x", stream: "stdout", line: "hi\r\nthere" });
  Deno.writeTextFileSync(a.logPath, "{torn garbage\n", { append: true });
  a.ended("failure", 9);
  const b = session(where, { id: "aaaa2222-0000-4000-8000-000000000002" });
  await using server = await inProcessServer({
    home: where.home,
    cwd: where.repo,
  });

  const detail = await getJson(`${server.url}/api/v1/sessions/aaaa1`);
  assert.equal(detail.status, 200);
  const stored = lines(a.logPath);
  assert.deepEqual(
    detail.body.events,
    stored.filter((l) => l.startsWith('{"')).map((l) => JSON.parse(l)),
  );
  assert.equal(detail.body.zig_session_id, a.sessionId);
  assert.equal(detail.body.workflow_name, "build");
  assert.equal(detail.body.state, "failure");
  assert.equal(detail.body.problems.length, 1);
  assert.equal(detail.body.problems[0].kind, "malformed_line");
  assert.equal(detail.body.problems[0].line, 4);
  assert.match(detail.body.problems[0].message, /Line 4 of .* is malformed/);
  // The full id, percent-encoded as zig's client sends it.
  const full = await getJson(
    `${server.url}/api/v1/sessions/${encodeURIComponent(a.sessionId)}`,
  );
  assert.equal(full.status, 200);

  const ambiguous = await getJson(`${server.url}/api/v1/sessions/aaaa`);
  assert.equal(ambiguous.status, 409);
  assert.equal(ambiguous.body.error.code, "ambiguous");
  assert.match(ambiguous.body.error.message, /Ambiguous session prefix "aaaa"/);
  assert.deepEqual(ambiguous.body.error.candidates.sort(), [
    a.sessionId,
    b.sessionId,
  ]);
  for (const route of ["", "/summary", "/events", "/events/stream"]) {
    const r = await getJson(`${server.url}/api/v1/sessions/aaaa${route}`);
    assert.equal(r.status, 409, route);
  }
  const missing = await getJson(`${server.url}/api/v1/sessions/ffff`);
  assert.equal(missing.status, 404);
  assert.deepEqual(Object.keys(missing.body), ["error"]);
  assert.equal(missing.body.error.code, "not_found");
  assert.match(
    missing.body.error.message,
    /no session id .* starts with "ffff"/,
  );
  const wrongMethod = await fetch(`${server.url}/api/v1/sessions/aaaa1`, {
    method: "DELETE",
    headers: BEARER,
  });
  assert.equal(wrongMethod.status, 405);
  await wrongMethod.body?.cancel();
  // Found in another project too (zig looks in the current one only).
  const elsewhere = await getJson(`${server.url}/api/v1/sessions/94dc`);
  assert.equal(elsewhere.status, 200);
  assert.equal(elsewhere.body.events.length, 12);
  b.close();
});

Deno.test("serve: a log that the index places outside the zig home is never read", async () => {
  using tmp = tempDir();
  const where = setup(tmp.path);
  const w = session(where);
  w.close(); // unended: its state comes from its log, if it is read
  // Outside the home: a recent heartbeat (it would read as running).
  const outside = join(tmp.path, "outside.jsonl");
  Deno.writeTextFileSync(
    outside,
    JSON.stringify({
      seq: 1,
      ts: new Date().toISOString().replace("Z", "+00:00"),
      zig_session_id: w.sessionId,
      type: "heartbeat",
      interval_secs: 10,
      secret: "SECRET",
    }) + "\n",
  );
  const indexPath = projectIndexPath(
    projectDir({ zigHome: where.home, projectRoot: where.repo }),
  );
  const index = JSON.parse(Deno.readTextFileSync(indexPath));
  index.sessions[0].log_path = outside;
  Deno.writeTextFileSync(indexPath, JSON.stringify(index, null, 2));
  await using server = await inProcessServer({
    home: where.home,
    cwd: where.repo,
  });
  for (const route of ["", "/summary", "/events", "/events/stream"]) {
    const r = await getJson(
      `${server.url}/api/v1/sessions/${w.sessionId}${route}`,
    );
    assert.equal(r.status, 403, route);
    assert.equal(r.body.error.code, "permission_denied");
    assert.match(
      r.body.error.message,
      /is outside the zig home|is not followed/,
    );
    assert.ok(!r.text.includes("SECRET"));
  }
  const list = await getJson(`${server.url}/api/v1/sessions`);
  assert.equal(list.body[0].state, "abandoned", "its log was not read");
});

Deno.test("serve: the events route filters by type, step, seq range and last, and rejects a bad number", async () => {
  using tmp = tempDir();
  const where = setup(tmp.path);
  const w = session(where);
  w.tierStarted(0, ["a", "b"]);
  for (let i = 0; i < 5; i++) {
    w.stepOutput({
      stepName: i % 2 ? "b" : "a",
      stream: i === 4 ? "stderr" : "stdout",
      line: `line ${i}`,
    });
  }
  w.ended("success", 1);
  await using server = await inProcessServer({
    home: where.home,
    cwd: where.repo,
  });
  const base = `${server.url}/api/v1/sessions/${w.sessionId}/events`;
  const seqs = async (query: string) => {
    const r = await getJson(`${base}${query}`);
    assert.equal(r.status, 200, query);
    return r.body.map((e: { seq: number }) => e.seq);
  };
  assert.deepEqual(await seqs(""), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(await seqs("?type=step_output"), [3, 4, 5, 6, 7]);
  assert.deepEqual(await seqs("?type=tier_started,zig_session_ended"), [2, 8]);
  assert.deepEqual(await seqs("?type=step_output&step=b"), [4, 6]);
  assert.deepEqual(await seqs("?after_seq=3&before_seq=6"), [4, 5]);
  assert.deepEqual(await seqs("?type=step_output&last=2"), [6, 7]);
  assert.deepEqual(await seqs("?last=0"), []);
  const all = await getJson(base);
  assert.deepEqual(all.body, lines(w.logPath).map((l) => JSON.parse(l)));
  const bad = await getJson(`${base}?after_seq=x`);
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.body, {
    error: {
      code: "bad_request",
      message: 'Invalid after_seq "x": expected a non-negative integer',
    },
  });
});

Deno.test("serve: the summary gives state, duration, tiers and steps with outcomes, timings and failures", async () => {
  using tmp = tempDir();
  const where = setup(tmp.path);
  await using server = await inProcessServer({
    home: where.home,
    cwd: where.repo,
  });
  const ok = (await getJson(`${server.url}/api/v1/sessions/94dc/summary`)).body;
  assert.equal(ok.state, "success");
  assert.equal(ok.workflow_name, "wf-success");
  assert.equal(
    ok.prompt,
    'review the "auth" module\nthen summarize — ünïcödé ✓',
  );
  assert.equal(ok.events, 12);
  assert.deepEqual(
    ok.tiers.map((
      t: {
        tier_index: number;
        steps: Array<{ step_name: string; status: string }>;
      },
    ) => [
      t.tier_index,
      t.steps.map((s) => `${s.step_name}:${s.status}`),
    ]),
    [[0, ["plan:completed", "lint:skipped"]], [1, ["apply:completed"]]],
  );
  const plan = ok.tiers[0].steps[0];
  assert.equal(plan.duration_ms, 1234);
  assert.equal(plan.exit_code, 0);
  assert.equal(plan.started_at, "2026-11-23T22:41:46.369213746+00:00");
  assert.equal(plan.ended_at, "2026-11-23T22:41:46.369241608+00:00");
  assert.deepEqual(plan.output, { stdout: 1, stderr: 1 });
  assert.equal(plan.model, "sonnet");
  assert.equal(ok.tiers[0].steps[1].reason, "condition `x == 1` was false");
  assert.deepEqual(ok.skipped_steps, ["lint"]);
  assert.deepEqual(ok.failed_steps, []);

  const failed =
    (await getJson(`${server.url}/api/v1/sessions/20a9/summary`)).body;
  assert.equal(failed.state, "failure");
  assert.deepEqual(failed.failed_steps, ["build"]);
  const build = failed.tiers[0].steps[0];
  assert.equal(build.status, "failed");
  assert.equal(build.attempts, 2);
  assert.equal(build.exit_code, 137);
  assert.deepEqual(build.failures.map((f: { error: string }) => f.error), [
    "spawn failed: No such file or directory",
    "killed",
  ]);
  // A tier's step that never ran in an ended session.
  const dropped =
    (await getJson(`${server.url}/api/v1/sessions/da39/summary`)).body;
  assert.equal(dropped.tiers[0].steps[0].status, "not_run");
  const abandoned =
    (await getJson(`${server.url}/api/v1/sessions/181f/summary`)).body;
  assert.equal(abandoned.state, "abandoned");
  assert.equal(abandoned.tiers[0].steps[0].status, "interrupted");
});

Deno.test("serve: SSE sends raw lines with line-number ids, follows appends, reports a malformed line in-band, ends at the end event", async () => {
  using tmp = tempDir();
  const where = setup(tmp.path);
  const w = session(where);
  w.tierStarted(0, ["a"]);
  await using server = await inProcessServer({
    home: where.home,
    cwd: where.repo,
  });
  const url = `${server.url}/api/v1/sessions/${
    w.sessionId.slice(0, 8)
  }/events/stream`;
  const response = await fetch(url, { headers: BEARER });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/event-stream");
  assert.equal(response.headers.get("cache-control"), "no-cache");
  const sse = new SseReader(response.body!);
  const first = await sse.take(2);
  assert.deepEqual(
    first.map((e) => [e.event, e.id, e.data]),
    lines(w.logPath).map((l, i) => ["message", String(i + 1), l]),
  );

  w.stepOutput({ stepName: "a", stream: "stdout", line: "live one" });
  const live = await within(5000, sse.take(1), "a live line");
  assert.equal(live[0].id, "3");
  assert.equal(live[0].data, lines(w.logPath)[2]);

  Deno.writeTextFileSync(w.logPath, "\n{not json\n", { append: true });
  w.stepOutput({ stepName: "a", stream: "stderr", line: "after the bad line" });
  const [problem, after] = await within(5000, sse.take(2), "problem and next");
  assert.equal(problem.event, "problem");
  assert.equal(problem.id, "5"); // line 4 is blank: nothing sent
  const body = JSON.parse(problem.data);
  assert.equal(body.line, 5);
  assert.equal(body.kind, "malformed_line");
  assert.match(body.message, /Line 5 of .* is malformed: it is not JSON/);
  assert.equal(after.id, "6");
  assert.equal(JSON.parse(after.data).line, "after the bad line");

  w.ended("success", 3);
  const rest = await within(5000, sse.rest(), "the end");
  assert.deepEqual(rest.map((e) => e.id), ["7"]);
  assert.equal(JSON.parse(rest[0].data).type, "zig_session_ended");
  assert.equal(
    server.followedLogs(),
    0,
    "the follower stops with its last reader",
  );
});

Deno.test("serve: Last-Event-ID resumes after that line, is clamped to the lines there are, and a finished session answers 204", async () => {
  using tmp = tempDir();
  const where = setup(tmp.path);
  await using server = await inProcessServer({
    home: where.home,
    cwd: where.repo,
  });
  const ended = `${server.url}/api/v1/sessions/94dc/events/stream`;
  const resumed = await (await openSse(ended, { "last-event-id": "9" })).rest();
  assert.deepEqual(resumed.map((e) => e.id), ["10", "11", "12"]);
  const garbage = await (await openSse(ended, { "last-event-id": "x" })).rest();
  assert.equal(garbage.length, 12, "a non-number is 0, as zig reads it");
  // The query parameter does the same for clients that cannot set headers.
  const byQuery = await (await openSse(`${ended}?last_event_id=11`)).rest();
  assert.deepEqual(byQuery.map((e) => e.id), ["12"]);
  for (const id of ["12", "500"]) {
    const done = await fetch(ended, {
      headers: { ...BEARER, "last-event-id": id },
    });
    assert.equal(done.status, 204, id);
    await done.body?.cancel();
  }

  const w = session(where);
  const running = `${server.url}/api/v1/sessions/${w.sessionId}/events/stream`;
  const sse = await openSse(running, { "last-event-id": "999" });
  w.tierStarted(0, ["a"]);
  const [next] = await within(5000, sse.take(1), "the next line");
  assert.equal(next.id, "2", "clamped to the 1 line there was, as zig does");
  await sse.cancel();
  w.close();
});

Deno.test("serve: the WebSocket route replays every line as a text frame, follows appends and closes with 1000 at the end", async () => {
  using tmp = tempDir();
  const where = setup(tmp.path);
  const w = session(where);
  w.tierStarted(0, ["a"]);
  Deno.writeTextFileSync(w.logPath, "oops\n", { append: true });
  await using server = await inProcessServer({
    home: where.home,
    cwd: where.repo,
  });
  const wsUrl = `${
    server.url.replace("http", "ws")
  }/api/v1/sessions/${w.sessionId}/stream`;
  const socket = new WebSocket(
    wsUrl,
    { headers: BEARER } as unknown as string[],
  );
  const frames: string[] = [];
  let sawThree: () => void;
  const three = new Promise<void>((r) => sawThree = r);
  const closed = new Promise<CloseEvent>((resolve) => socket.onclose = resolve);
  socket.onmessage = (e) => {
    frames.push(e.data);
    if (frames.length === 3) sawThree();
  };
  await within(5000, three, "the replay");
  w.stepOutput({ stepName: "a", stream: "stdout", line: "live" });
  w.ended("success", 1);
  const close = await within(5000, closed, "the close");
  assert.equal(close.code, 1000);
  const stored = lines(w.logPath);
  assert.deepEqual(frames.slice(0, 2), stored.slice(0, 2));
  assert.deepEqual(JSON.parse(frames[2]), {
    problem: {
      kind: "malformed_line",
      line: 3,
      message: JSON.parse(frames[2]).problem.message,
    },
  });
  assert.deepEqual(frames.slice(3), stored.slice(3));

  const plain = await getJson(wsUrl.replace("ws", "http"));
  assert.equal(plain.status, 426);
  assert.equal(plain.body.error.code, "bad_request");
});

Deno.test("serve: /api/v1/subscribe announces new sessions and state changes and streams every session's events, filtered", async () => {
  using tmp = tempDir();
  const where = setup(tmp.path);
  await using server = await inProcessServer({
    home: where.home,
    cwd: where.repo,
  });
  const all = await openSse(`${server.url}/api/v1/subscribe?global=1`);
  const sessionsOnly = await openSse(
    `${server.url}/api/v1/subscribe?global=1&events=0`,
  );
  const outputOnly = await openSse(
    `${server.url}/api/v1/subscribe?type=step_output`,
  );
  // The watch has read the index once its first subscriber came.
  await new Promise((r) => setTimeout(r, 100));
  const w = session(where, { workflow: "watched" });
  w.tierStarted(0, ["a"]);
  w.stepOutput({ stepName: "a", stream: "stdout", line: "hello" });

  const collect = async (
    sse: SseReader,
    until: (seen: SseEvent[]) => boolean,
  ) => {
    const seen: SseEvent[] = [];
    while (!until(seen)) {
      const e = await sse.next();
      if (!e) throw new Error("the subscription ended");
      seen.push(e);
    }
    return seen;
  };
  const isEnd = (e: SseEvent) =>
    e.event === "message" && JSON.parse(e.data).type === "zig_session_ended";
  const seenAll = collect(all, (s) =>
    s.some(isEnd) &&
    s.some((e) =>
      e.event === "session" && JSON.parse(e.data).state === "success"
    ));
  const seenSessions = collect(
    sessionsOnly,
    (s) =>
      s.some((e) =>
        e.event === "session" && JSON.parse(e.data).state === "success"
      ),
  );
  const seenOutput = collect(
    outputOnly,
    (s) => s.filter((e) => e.event === "message").length === 2,
  );
  await new Promise((r) => setTimeout(r, 400));
  w.stepOutput({ stepName: "a", stream: "stderr", line: "world" });
  w.ended("success", 1);

  const a = await within(10_000, seenAll, "every event and the end");
  const messages = a.filter((e) => e.event === "message").map((e) => e.data);
  assert.deepEqual(
    messages,
    lines(w.logPath),
    "every event, tagged with its session id, in order",
  );
  for (const m of messages) {
    assert.equal(JSON.parse(m).zig_session_id, w.sessionId);
  }
  const announced = a.filter((e) => e.event === "session").map((e) =>
    JSON.parse(e.data)
  );
  assert.equal(announced[0].zig_session_id, w.sessionId);
  assert.equal(announced[0].state, "running");
  assert.equal(announced[0].workflow_name, "watched");

  const s = await within(10_000, seenSessions, "the state changes");
  assert.ok(s.every((e) => e.event === "session"), "events=0: no events");
  assert.deepEqual(s.map((e) => JSON.parse(e.data).state), [
    "running",
    "success",
  ]);

  const o = await within(10_000, seenOutput, "the output lines");
  assert.deepEqual(
    o.filter((e) => e.event === "message").map((e) => JSON.parse(e.data).line),
    ["hello", "world"],
  );
  await all.cancel();
  await sessionsOnly.cancel();
  await outputOnly.cancel();
});

/**
 * A request exactly as zig's TypeScript client sends it (ZigApiClient's
 * private `request`: `accept: application/json`, the bearer token, GET), and
 * its error handling (ZigApiError.fromResponse: `error.code` and
 * `error.message` from a JSON body, else `http_error` with the text).
 */
async function zigClientGet(baseUrl: string, path: string, token?: string) {
  const headers: Record<string, string> = { accept: "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${baseUrl.replace(/\/+$/, "")}${path}`, {
    method: "GET",
    headers,
    body: undefined,
  });
  if (!res.ok) {
    const text = await res.text().catch(() => "");
    let code = "http_error";
    let message = `${res.status} ${res.statusText}`.trim();
    try {
      const parsed = JSON.parse(text);
      if (typeof parsed.error?.code === "string") code = parsed.error.code;
      if (typeof parsed.error?.message === "string") {
        message = parsed.error.message;
      }
    } catch {
      message = `${message}: ${text}`;
    }
    return { ok: false as const, status: res.status, code, message };
  }
  const text = await res.text();
  return { ok: true as const, value: text ? JSON.parse(text) : undefined };
}

Deno.test("serve: requests shaped as zig's TypeScript client sends them work unchanged, errors included; a browser EventSource resumes and stops", async () => {
  using tmp = tempDir();
  const where = setup(tmp.path);
  const w = session(where);
  w.ended("success", 2);
  await using server = await inProcessServer({
    home: where.home,
    cwd: where.repo,
  });
  const health = await zigClientGet(server.url + "/", "/api/v1/health");
  assert.deepEqual(health, {
    ok: true,
    value: { status: "ok", version: "test" },
  });
  const list = await zigClientGet(server.url, "/api/v1/sessions", TOKEN);
  assert.ok(list.ok);
  assert.deepEqual(
    list.value.map((s: { zig_session_id: string }) => s.zig_session_id),
    [w.sessionId],
  );
  const detail = await zigClientGet(
    server.url,
    `/api/v1/sessions/${encodeURIComponent(w.sessionId)}`,
    TOKEN,
  );
  assert.ok(detail.ok);
  assert.equal(detail.value.log_path, w.logPath);
  assert.deepEqual(detail.value.events.map((e: { type: string }) => e.type), [
    "zig_session_started",
    "zig_session_ended",
  ]);
  assert.deepEqual(
    await zigClientGet(server.url, "/api/v1/sessions/nope", TOKEN),
    {
      ok: false,
      status: 404,
      code: "not_found",
      message:
        'Session not found: no session id in any project starts with "nope"',
    },
  );
  assert.deepEqual(await zigClientGet(server.url, "/api/v1/sessions", "bad"), {
    ok: false,
    status: 401,
    code: "http_error",
    message: "401 Unauthorized: Invalid token",
  });

  // streamSession: an EventSource on /events/stream. A browser's cannot set
  // headers: the token goes in the query (zig has no way). When the session
  // ends the server closes; EventSource reconnects with Last-Event-ID, gets
  // 204, and stops instead of replaying forever.
  const seen: Array<{ id: string; type: string }> = [];
  const source = new EventSource(
    `${server.url}/api/v1/sessions/${
      encodeURIComponent(w.sessionId)
    }/events/stream?token=${TOKEN}`,
  );
  const closedForGood = new Promise<void>((resolve) => {
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) resolve();
    };
  });
  source.onmessage = (e) =>
    seen.push({ id: e.lastEventId, type: JSON.parse(e.data).type });
  await within(10_000, closedForGood, "EventSource closed by the 204");
  source.close();
  assert.deepEqual(seen, [
    { id: "1", type: "zig_session_started" },
    { id: "2", type: "zig_session_ended" },
  ]);
});

/** Resident memory of a process, in bytes. */
function rss(pid: number): number {
  const out = new Deno.Command("ps", {
    args: ["-o", "rss=", "-p", String(pid)],
  })
    .outputSync();
  return Number(new TextDecoder().decode(out.stdout).trim()) * 1024;
}

/** An HTTP GET over a raw socket that the test then does not read. */
async function stalledGet(
  url: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<Deno.TcpConn> {
  const { hostname, port } = new URL(url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const more = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join(
    "",
  );
  await conn.write(new TextEncoder().encode(
    `GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${TOKEN}\r\nAccept: text/event-stream\r\n${more}\r\n`,
  ));
  return conn;
}

/**
 * Reads a WebSocket from a raw socket (the 101 head, then frames) until the
 * server's close frame: how many text frames came, and the close code.
 */
async function websocketFrames(
  conn: Deno.TcpConn,
): Promise<{ text: number; closeCode: number }> {
  let buffer = new Uint8Array(0);
  const chunk = new Uint8Array(1 << 16);
  const more = async () => {
    const n = await conn.read(chunk);
    if (n === null) {
      throw new Error("The WebSocket ended without a close frame");
    }
    const joined = new Uint8Array(buffer.length + n);
    joined.set(buffer);
    joined.set(chunk.subarray(0, n), buffer.length);
    buffer = joined;
  };
  const headEnd = () => {
    for (let i = 0; i + 3 < buffer.length; i++) {
      if (
        buffer[i] === 13 && buffer[i + 1] === 10 && buffer[i + 2] === 13 &&
        buffer[i + 3] === 10
      ) return i + 4;
    }
    return -1;
  };
  let end: number;
  while ((end = headEnd()) < 0) await more();
  assert.match(
    new TextDecoder().decode(buffer.subarray(0, 12)),
    /^HTTP\/1.1 101/,
  );
  buffer = buffer.slice(end);
  let text = 0;
  let at = 0; // where the next frame starts in buffer
  const need = async (n: number) => {
    while (buffer.length - at < n) {
      buffer = buffer.slice(at);
      at = 0;
      await more();
    }
  };
  while (true) {
    await need(2);
    const opcode = buffer[at] & 0x0f;
    let length = buffer[at + 1] & 0x7f;
    let header = 2;
    if (length === 126) {
      await need(4);
      length = (buffer[at + 2] << 8) | buffer[at + 3];
      header = 4;
    } else if (length === 127) {
      await need(10);
      length = Number(
        new DataView(buffer.buffer, buffer.byteOffset + at + 2, 8)
          .getBigUint64(0),
      );
      header = 10;
    }
    await need(header + length);
    if (opcode === 1) text++;
    if (opcode === 8) {
      const code = (buffer[at + header] << 8) | buffer[at + header + 1];
      return { text, closeCode: code };
    }
    at += header + length;
  }
}

Deno.test("serve: clients that stop reading cannot grow the server's memory; a stalled session stream resumes from the file, a stalled subscriber is let go", async () => {
  using tmp = tempDir();
  const where = setup(tmp.path);
  const w = session(where);
  w.tierStarted(0, ["flood"]);
  // Small V8 heaps and few malloc arenas, so that what the server holds
  // shows in its resident memory (and a JavaScript-side backlog runs out of
  // heap).
  await using server = await serveProcess(["--token", TOKEN, "--global"], {
    home: where.home,
    cwd: where.repo,
    env: { MALLOC_ARENA_MAX: "2" },
    denoFlags: ["--v8-flags=--max-old-space-size=32,--max-semi-space-size=1"],
  });
  const pid = server.child.pid;
  // A reader that keeps up, so that the server follows the log live.
  const keeper = await openSse(
    `${server.url}/api/v1/sessions/${w.sessionId}/events/stream`,
  );
  let keeperSeen = 0;
  let keeperError: unknown;
  const keeping = (async () => {
    for (let e = await keeper.next(); e; e = await keeper.next()) {
      keeperSeen = Number(e.id);
      if (JSON.parse(e.data).type === "zig_session_ended") return;
    }
  })().catch((error) => keeperError = error);
  const failed = async () => {
    server.child.kill("SIGKILL");
    return `the keeper's stream failed (${keeperError}); the server said:\n${await server
      .stderr()}`;
  };
  const line = "x".repeat(400);
  const flood = async (events: number) => {
    let peak = 0;
    for (let i = 0; i < events; i++) {
      w.stepOutput({ stepName: "flood", stream: "stdout", line });
      if (i % 5_000 === 4_999) {
        await new Promise((r) => setTimeout(r, 30));
        peak = Math.max(peak, rss(pid));
      }
    }
    const target = lines(w.logPath).length;
    while (keeperSeen < target) {
      if (keeperError) assert.fail(await failed());
      await new Promise((r) => setTimeout(r, 20));
    }
    return Math.max(peak, rss(pid));
  };
  // Once with only the keeper (20 MB): the server's allocator and heaps
  // warm up.
  const warm = await within(60_000, flood(40_000), "the first burst");
  const mark = lines(w.logPath).length;
  const markBytes = Deno.statSync(w.logPath).size;
  // Then 40 MB with three more clients that read nothing: a session stream,
  // a subscriber and a WebSocket (which replays the first burst too).
  const stalledStream = await stalledGet(
    server.url,
    `/api/v1/sessions/${w.sessionId}/events/stream`,
    { "last-event-id": String(mark) },
  );
  const stalledSubscriber = await stalledGet(server.url, "/api/v1/subscribe");
  const stalledSocket = await stalledGet(
    server.url,
    `/api/v1/sessions/${w.sessionId}/stream`,
    {
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      "sec-websocket-version": "13",
    },
  );
  await new Promise((r) => setTimeout(r, 300));
  const stalled = await within(60_000, flood(80_000), "the second burst");
  const burstBytes = Deno.statSync(w.logPath).size - markBytes;
  // A server that queued for them would hold the burst three times over
  // (once per stalled client); allocator noise stays well under one burst.
  assert.ok(
    stalled - warm < burstBytes,
    `server memory grew by ${
      ((stalled - warm) / 1e6).toFixed(1)
    } MB more while ${
      (burstBytes / 1e6).toFixed(0)
    } MB went to three stalled clients (first burst: peak ${
      (warm / 1e6).toFixed(0)
    } MB)`,
  );
  const total = 40_000 + 80_000 + 2;
  w.ended("success", 1);
  await within(30_000, keeping, "the keeper reads to the end");
  if (keeperError) assert.fail(await failed());
  assert.equal(keeperSeen, total + 1);

  // The stalled subscriber was disconnected: reading now ends, well short.
  let subscriberBytes = 0;
  const buffer = new Uint8Array(1 << 16);
  const drainSubscriber = async () => {
    while (true) {
      try {
        const n = await stalledSubscriber.read(buffer);
        if (n === null) return;
        subscriberBytes += n;
      } catch {
        return; // reset
      }
    }
  };
  await within(30_000, drainSubscriber(), "the subscriber's stream ends");
  assert.ok(
    subscriberBytes < burstBytes / 2,
    `${subscriberBytes} of ${burstBytes}`,
  );
  stalledSubscriber.close();

  // The stalled WebSocket was made to wait, not dropped: reading now, it
  // gets one text frame per line, then a close frame (1000).
  const frames = await within(
    30_000,
    websocketFrames(stalledSocket),
    "the WebSocket replay",
  );
  stalledSocket.close();
  assert.equal(frames.text, total + 1, "every line, one frame each");
  assert.equal(frames.closeCode, 1000);

  // The stalled session stream loses nothing: it resumes from the file.
  const reader = new SseReader(dechunk(stalledStream.readable));
  let lastId = mark;
  for (let e = await reader.next(); e; e = await reader.next()) {
    const id = Number(e.id);
    assert.equal(id, lastId + 1, "no line lost or repeated");
    lastId = id;
  }
  assert.equal(lastId, total + 1, "every line, then the end");
});

Deno.test("serve: SIGTERM closes open streams cleanly and exits 0", async () => {
  using tmp = tempDir();
  const where = setup(tmp.path);
  const w = session(where);
  await using server = await serveProcess(["--token", TOKEN], {
    home: where.home,
    cwd: where.repo,
  });
  const stream = await openSse(
    `${server.url}/api/v1/sessions/${w.sessionId}/events/stream`,
  );
  const subscription = await openSse(`${server.url}/api/v1/subscribe`);
  assert.equal((await stream.take(1))[0].id, "1");
  server.child.kill("SIGTERM");
  // Both end normally: the reader sees the end of the body, not an error.
  assert.equal(
    await within(10_000, stream.next(), "the stream ends"),
    undefined,
  );
  assert.equal(
    await within(10_000, subscription.next(), "the subscription ends"),
    undefined,
  );
  const status = await within(10_000, server.child.status, "exit");
  assert.equal(status.code, 0);
  assert.match(
    await server.stderr(),
    /SIGTERM: closed 2 open streams, stopped/,
  );
  w.close();
});

Deno.test("serve: once listening it gives up network access: the listener keeps answering, nothing connects out", async () => {
  using tmp = tempDir();
  const where = setup(tmp.path);
  // Something to connect to: it must never see a connection.
  const target = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let connections = 0;
  (async () => {
    for await (const conn of target) {
      connections++;
      conn.close();
    }
  })();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      ...CLI_FLAGS,
      projectFile("tests/workers/serve_then_connect.ts"),
      `127.0.0.1:${target.addr.port}`,
      "--token",
      TOKEN,
    ],
    env: { ZIG_HOME: where.home, PATH: Deno.env.get("PATH") ?? "" },
    clearEnv: true,
    cwd: where.repo,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await out.read();
    if (done) break;
    text += value;
  }
  const report = JSON.parse(text.split("\n")[0]);
  assert.equal(report.net, "prompt", "net revoked (no longer granted)");
  assert.equal(report.run, "prompt", "run revoked");
  assert.match(report.fetch, /NotCapable/);
  assert.match(report.connect, /NotCapable/);
  // The listener still answers.
  const list = await fetch(`${report.url}/api/v1/sessions`, {
    headers: BEARER,
  });
  assert.equal(list.status, 200);
  await list.body?.cancel();
  child.kill("SIGTERM");
  const status = await child.status;
  assert.equal(status.code, 0);
  await out.cancel();
  await child.stderr.cancel();
  target.close();
  assert.equal(connections, 0);
});

Deno.test("serve: the command checks its options, refuses a non-loopback bind without a chosen token, and says when the port is taken", async () => {
  using tmp = tempDir();
  const { home, repo } = setup(tmp.path);
  const help = await runCli(["serve", "--help"], { home, cwd: repo });
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: zig-session serve/);
  const badPort = await runCli(["serve", "--port", "70000"], {
    home,
    cwd: repo,
  });
  assert.equal(badPort.code, 2);
  assert.match(badPort.stderr, /Invalid --port "70000": expected 0 to 65535/);
  const open = await runCli(["serve", "--host", "0.0.0.0"], {
    home,
    cwd: repo,
  });
  assert.equal(open.code, 2);
  assert.match(
    open.stderr,
    /Binding 0.0.0.0 serves the sessions beyond this machine: choose a token with --token/,
  );
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const busy = await runCli([
    "serve",
    "--port",
    String(taken.addr.port),
    "--token",
    "t",
  ], { home, cwd: repo });
  taken.close();
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /the port is in use/);
});

Deno.test("serve: the token comes from --token, ZIG_SERVE_TOKEN, serve.toml, else is generated and printed with a URL that logs in", async () => {
  assert.equal(
    tomlToken(
      '[other]\ntoken = "no"\n[server]\nport = 1\ntoken = "s3\\"cret" # comment\n',
    ),
    's3"cret',
  );
  assert.equal(tomlToken("[server]\ntoken = 'literal'\n"), "literal");
  assert.equal(tomlToken('token = "top-level"\n'), undefined);

  using tmp = tempDir();
  const where = setup(tmp.path);
  const ok = async (url: string, token: string) => {
    const r = await fetch(`${url}/api/v1/sessions`, {
      headers: { authorization: `Bearer ${token}` },
    });
    await r.body?.cancel();
    return r.status;
  };
  {
    await using server = await serveProcess([], {
      home: where.home,
      cwd: where.repo,
      env: { ZIG_SERVE_TOKEN: "from-env" },
    });
    assert.equal(await ok(server.url, "from-env"), 200);
  }
  Deno.writeTextFileSync(
    join(where.home, "serve.toml"),
    '[server]\ntoken = "from-toml"\n',
  );
  {
    await using server = await serveProcess([], {
      home: where.home,
      cwd: where.repo,
    });
    assert.equal(await ok(server.url, "from-toml"), 200);
    server.child.kill("SIGINT");
    await server.child.status;
    const stderr = await server.stderr();
    assert.match(stderr, /enter the token \(from serve.toml\)/);
    assert.ok(!stderr.includes("from-toml"), "a chosen token is not printed");
  }
  Deno.removeSync(join(where.home, "serve.toml"));
  {
    await using server = await serveProcess([], {
      home: where.home,
      cwd: where.repo,
    });
    server.child.kill("SIGINT");
    await server.child.status;
    const stderr = await server.stderr();
    const token = /Token: (\S+)/.exec(stderr)?.[1] ?? assert.fail(stderr);
    assert.ok(token.length >= 32);
    assert.ok(stderr.includes(`Open ${server.url}/#token=${token}`));
  }
});

const denort = Deno.env.get("DENORT_BIN");
if (!denort) {
  console.log(
    "serve_test: skipping the compiled-binary test: DENORT_BIN is not set (deno compile needs a denort runtime, which this machine cannot download)",
  );
}

Deno.test({
  name:
    "serve: the executable built by the compile task carries the page (--include web/) and serves it",
  ignore: !denort,
  async fn() {
    using tmp = tempDir();
    const where = setup(tmp.path);
    const output = join(tmp.path, "zig-session");
    const task = JSON.parse(Deno.readTextFileSync(projectFile("deno.json")))
      .tasks.compile.replace("--output zig-session", `--output ${output}`);
    const compile = await new Deno.Command("sh", {
      args: ["-c", task],
      cwd: projectFile("."),
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(compile.code, 0, new TextDecoder().decode(compile.stderr));
    const child = new Deno.Command(output, {
      args: ["serve", "--port", "0", "--token", TOKEN],
      cwd: where.repo,
      env: { ZIG_HOME: where.home, PATH: Deno.env.get("PATH") ?? "" },
      clearEnv: true,
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const reader = child.stderr.pipeThrough(new TextDecoderStream())
      .getReader();
    let seen = "";
    while (!/^Open /m.test(seen)) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += value;
    }
    const url = /listening on (http:\/\/\S+)/.exec(seen)?.[1];
    assert.ok(url, seen);
    for (const file of ["", "app.js", "style.css"]) {
      const r: Response = await fetch(`${url}/${file}`);
      assert.equal(r.status, 200, file);
      assert.equal(
        await r.text(),
        Deno.readTextFileSync(projectFile(`web/${file || "index.html"}`)),
      );
    }
    const list = await fetch(`${url}/api/v1/sessions`, { headers: BEARER });
    assert.equal(list.status, 200);
    await list.body?.cancel();
    child.kill("SIGTERM");
    assert.equal((await child.status).code, 0);
    await reader.cancel();
  },
});

Deno.test({
  name:
    "serve --open starts the browser on the URL that logs the page in, then can start nothing more",
  ignore: Deno.build.os !== "linux",
  async fn() {
    using tmp = tempDir();
    const where = setup(tmp.path);
    // A stand-in for xdg-open that writes down what it was asked to open.
    const bin = join(tmp.path, "bin");
    const opened = join(tmp.path, "opened");
    Deno.mkdirSync(bin);
    Deno.writeTextFileSync(
      join(bin, "xdg-open"),
      `#!/bin/sh\necho "$@" > ${opened}\n`,
      { mode: 0o755 },
    );
    await using server = await serveProcess(["--open"], {
      home: where.home,
      cwd: where.repo,
      env: { PATH: `${bin}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}` },
    });
    let text = "";
    for (let i = 0; i < 100 && text === ""; i++) {
      await new Promise((r) => setTimeout(r, 20));
      try {
        text = Deno.readTextFileSync(opened).trim();
      } catch { /* not yet */ }
    }
    assert.match(text, new RegExp(`^${server.url}/#token=[\\w-]{32}$`));
  },
});

Deno.test("serve: SSE streams of quiet sessions carry keep-alive comments", async () => {
  using tmp = tempDir();
  const where = setup(tmp.path);
  const w = session(where);
  await using server = await inProcessServer({
    home: where.home,
    cwd: where.repo,
    keepAliveMs: 50,
  });
  for (
    const path of [
      `/api/v1/sessions/${w.sessionId}/events/stream`,
      "/api/v1/subscribe",
    ]
  ) {
    const sse = await openSse(`${server.url}${path}`);
    if (path.endsWith("stream")) await sse.take(1);
    // The keep-alives themselves are comments: waiting for an event that
    // never comes, the reader collects them.
    await Promise.race([
      sse.next(),
      new Promise((r) => setTimeout(r, 300)),
    ]);
    await sse.cancel();
    assert.ok(
      sse.comments.filter((c) => c === "keep-alive").length >= 2,
      `${path}: ${JSON.stringify(sse.comments)}`,
    );
  }
  w.close();
});
