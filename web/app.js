// zig sessions: the page `zig-session serve` serves. Plain JavaScript, no
// build step; it talks to this server only (the API under /api/v1).
// Everything a log says is shown as text (textContent), never as HTML.

const main = document.getElementById("main");
const live = document.getElementById("live");

// ---------------------------------------------------------------- helpers

/** Makes an element: attributes (on* are listeners), then children. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "style") Object.assign(el.style, value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** Milliseconds since the epoch of a zig timestamp (9 fractional digits). */
function ms(ts) {
  if (!ts) return NaN;
  return Date.parse(ts.replace(/(\.\d{3})\d+/, "$1"));
}

function formatDuration(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) {
    return "–";
  }
  if (value < 1000) return `${Math.round(value)}ms`;
  const s = value / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, "0")}s`;
  const hrs = Math.floor(m / 60);
  if (hrs < 48) return `${hrs}h${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(hrs / 24)}d${String(hrs % 24).padStart(2, "0")}h`;
}

function relative(ts) {
  const t = ms(ts);
  if (!Number.isFinite(t)) return "–";
  const s = Math.round((Date.now() - t) / 1000);
  if (s < 5) return "just now";
  if (s < 60) return `${s} s ago`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const hrs = Math.round(m / 60);
  if (hrs < 36) return `${hrs} h ago`;
  const d = Math.round(hrs / 24);
  if (d < 30) return `${d} days ago`;
  return new Date(t).toISOString().slice(0, 10);
}

function localTime(ts) {
  const t = ms(ts);
  return Number.isFinite(t) ? new Date(t).toLocaleString() : "–";
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*(\x07|\x1b\\)/g;
function plain(text) {
  return String(text).replace(ANSI, "");
}

function basename(path) {
  if (!path) return "–";
  const parts = String(path).split(/[\\/]/).filter(Boolean);
  return parts.at(-1) ?? path;
}

const STATE_TEXT = {
  running: "running",
  success: "success",
  failure: "failed",
  abandoned: "abandoned",
};

function badge(state) {
  return h(
    "span",
    { class: `badge ${state}`, "data-state": state },
    STATE_TEXT[state] ?? state,
  );
}

let announced = 0;
/** Says something in the top bar (and to screen readers) for a while. */
function announce(text) {
  live.textContent = text;
  clearTimeout(announced);
  announced = setTimeout(() => live.textContent = "", 6000);
}

/** Replaces an element's children, leaving out the empty ones. */
function fill(el, ...children) {
  el.replaceChildren(
    ...children.flat().filter((c) =>
      c !== null && c !== undefined && c !== false
    ),
  );
}

/** A project directory as a short name; none for the zig home itself. */
function projectName(path) {
  if (!path || !/[\\/]projects[\\/]/.test(path)) return "–";
  return basename(path);
}

const enc = encodeURIComponent;

// -------------------------------------------------------------------- API

class Unauthorized extends Error {}

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `The server answered ${status}`);
    this.status = status;
    this.code = body?.error?.code;
    this.candidates = body?.error?.candidates;
  }
}

async function api(path) {
  const response = await fetch(path, {
    headers: { accept: "application/json" },
    credentials: "same-origin",
  });
  if (response.status === 401) throw new Unauthorized();
  const text = await response.text();
  let body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!response.ok) throw new ApiError(response.status, body);
  return { body, headers: response.headers };
}

/** Trades the token for the page's cookie (HttpOnly: scripts never see it). */
async function login(token) {
  const response = await fetch("/api/v1/auth", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token }),
    credentials: "same-origin",
  });
  return response.status === 204;
}

// ----------------------------------------------------------------- router

let current = null;

function parseHash() {
  const raw = location.hash.replace(/^#/, "");
  const [path, query = ""] = raw.split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { parts, params: new URLSearchParams(query) };
}

function route() {
  const { parts, params } = parseHash();
  if (parts[0] === "session" && parts[1]) {
    const step = parts[2] === "step" ? parts[3] ?? null : null;
    if (current?.kind === "session" && current.id === parts[1]) {
      current.select(step, { scroll: true });
      return;
    }
    show(sessionView(parts[1], step));
    return;
  }
  if (current?.kind === "list") return;
  show(listView(params));
}

function show(view) {
  current?.destroy();
  current = view;
  main.replaceChildren(view.el);
  view.start();
}

function fail(error) {
  if (error instanceof Unauthorized) {
    show(loginView());
    return;
  }
  main.replaceChildren(
    h(
      "div",
      { class: "notice error", role: "alert" },
      h("strong", {}, "Could not load this: "),
      error?.message ?? String(error),
    ),
  );
}

// ------------------------------------------------------------- login view

function loginView(message) {
  const input = h("input", {
    id: "token",
    type: "password",
    autocomplete: "current-password",
    required: true,
    "aria-describedby": "token-help",
  });
  const error = h("p", { class: "form-error", role: "alert" }, message ?? "");
  const form = h(
    "form",
    {
      class: "login",
      onsubmit: async (event) => {
        event.preventDefault();
        error.textContent = "";
        if (await login(input.value.trim())) {
          current = null;
          route();
        } else {
          error.textContent = "That token is not the server's.";
          input.select();
        }
      },
    },
    h("h1", {}, "Sign in"),
    h("label", { for: "token" }, "Token"),
    input,
    h(
      "p",
      { id: "token-help", class: "muted" },
      "The token zig-session serve printed when it started (or --token, ZIG_SERVE_TOKEN). The page keeps a cookie, not the token.",
    ),
    h("button", { type: "submit" }, "Sign in"),
    error,
  );
  return {
    kind: "login",
    el: form,
    start() {
      input.focus();
    },
    destroy() {},
  };
}

// -------------------------------------------------------------- list view

const STATE_FILTERS = [
  ["all", "All"],
  ["running", "Running"],
  ["failure", "Failed"],
  ["success", "Succeeded"],
  ["abandoned", "Abandoned"],
];
const MAX_ROWS = 500;

function listView(params) {
  const sessions = new Map();
  const filter = {
    state: params.get("state") ?? "all",
    workflow: params.get("workflow") ?? "",
    text: params.get("q") ?? "",
    global: params.has("all") ? params.get("all") === "1" : undefined,
  };
  let source = null;
  let timer = 0;
  let limit = MAX_ROWS;

  const count = h("p", { class: "muted count", "aria-live": "polite" });
  const stateButtons = STATE_FILTERS.map(([value, label]) =>
    h(
      "button",
      {
        type: "button",
        class: "chip",
        "data-state": value,
        "aria-pressed": String(filter.state === value),
        onclick: () => {
          filter.state = value;
          render();
        },
      },
      label,
      h("span", { class: "n" }),
    )
  );
  const workflowSelect = h("select", {
    id: "workflow",
    onchange: () => {
      filter.workflow = workflowSelect.value;
      render();
    },
  });
  const search = h("input", {
    id: "q",
    type: "search",
    placeholder: "id, workflow, project…",
    value: filter.text,
    oninput: () => {
      filter.text = search.value;
      render();
    },
  });
  const globalBox = h("input", {
    id: "all",
    type: "checkbox",
    onchange: () => {
      filter.global = globalBox.checked;
      load();
    },
  });
  const tbody = h("tbody");
  const more = h("button", {
    type: "button",
    class: "more",
    hidden: true,
    onclick: () => {
      limit += MAX_ROWS;
      render();
    },
  }, "Show more");

  const el = h(
    "section",
    { class: "list", "aria-labelledby": "list-title" },
    h(
      "div",
      { class: "list-head" },
      h("h1", { id: "list-title" }, "Sessions"),
      count,
    ),
    h(
      "div",
      { class: "filters", role: "search" },
      h(
        "div",
        { class: "chips", role: "group", "aria-label": "State" },
        stateButtons,
      ),
      h("label", { for: "workflow" }, "Workflow"),
      workflowSelect,
      h("label", { for: "q", class: "sr-only" }, "Search"),
      search,
      h("label", { class: "check" }, globalBox, " All projects"),
    ),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "sessions" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "State"),
            h("th", { scope: "col" }, "Workflow"),
            h("th", { scope: "col" }, "Project"),
            h("th", { scope: "col" }, "Started"),
            h("th", { scope: "col", class: "num" }, "Duration"),
            h("th", { scope: "col" }, "Id"),
          ),
        ),
        tbody,
      ),
    ),
    more,
  );

  function saveFilters() {
    const q = new URLSearchParams();
    if (filter.state !== "all") q.set("state", filter.state);
    if (filter.workflow) q.set("workflow", filter.workflow);
    if (filter.text) q.set("q", filter.text);
    if (filter.global !== undefined) q.set("all", filter.global ? "1" : "0");
    const hash = `#/${q.size ? `?${q}` : ""}`;
    if (location.hash !== hash && !(location.hash === "" && hash === "#/")) {
      history.replaceState(null, "", hash);
    }
  }

  function matches(s) {
    if (filter.workflow && s.workflow_name !== filter.workflow) return false;
    if (filter.text) {
      const needle = filter.text.toLowerCase();
      const hay =
        `${s.zig_session_id} ${s.workflow_name} ${s.project} ${s.state}`
          .toLowerCase();
      if (!hay.includes(needle)) return false;
    }
    return true;
  }

  function duration(s) {
    return s.state === "running"
      ? Date.now() - ms(s.started_at)
      : s.duration_ms;
  }

  function row(s) {
    const link = h(
      "a",
      { href: `#/session/${enc(s.zig_session_id)}` },
      s.workflow_name,
    );
    return h(
      "tr",
      {
        "data-id": s.zig_session_id,
        "data-state": s.state,
        onclick: (event) => {
          if (event.target.closest("a")) return;
          location.hash = link.getAttribute("href");
        },
      },
      h("td", {}, badge(s.state)),
      h("td", { class: "wf" }, link),
      h(
        "td",
        { title: s.project || "outside any project" },
        projectName(s.project),
      ),
      h(
        "td",
        { title: localTime(s.started_at), "data-started": s.started_at },
        relative(s.started_at),
      ),
      h(
        "td",
        { class: "num", "data-duration": "" },
        formatDuration(duration(s)),
      ),
      h("td", { class: "id" }, h("code", {}, s.zig_session_id.slice(0, 8))),
    );
  }

  function render() {
    saveFilters();
    const all = [...sessions.values()].sort((a, b) =>
      ms(b.started_at) - ms(a.started_at)
    );
    // Counts per state (of what the other filters keep).
    const kept = all.filter(matches);
    const counts = { all: kept.length };
    for (const s of kept) counts[s.state] = (counts[s.state] ?? 0) + 1;
    for (const button of stateButtons) {
      const value = button.dataset.state;
      button.setAttribute("aria-pressed", String(filter.state === value));
      button.querySelector(".n").textContent = String(counts[value] ?? 0);
    }
    const workflows = [...new Set(all.map((s) => s.workflow_name))].sort();
    const options = ["", ...workflows];
    if (
      workflowSelect.options.length !== options.length ||
      options.some((o, i) => workflowSelect.options[i]?.value !== o)
    ) {
      workflowSelect.replaceChildren(
        ...options.map((o) => h("option", { value: o }, o || "all")),
      );
    }
    workflowSelect.value = filter.workflow;
    const shown = kept.filter((s) =>
      filter.state === "all" || s.state === filter.state
    );
    tbody.replaceChildren(
      ...(shown.length === 0
        ? [h(
          "tr",
          {},
          h(
            "td",
            { colspan: 6, class: "empty" },
            all.length === 0
              ? "No sessions yet. Record one: zig-session record --workflow build -- make"
              : "No session matches these filters.",
          ),
        )]
        : shown.slice(0, limit).map(row)),
    );
    more.hidden = shown.length <= limit;
    count.textContent = `${shown.length} of ${all.length} session${
      all.length === 1 ? "" : "s"
    }${filter.global ? " in every project" : " in this project"}`;
  }

  function tick() {
    for (const tr of tbody.querySelectorAll("tr[data-id]")) {
      const s = sessions.get(tr.dataset.id);
      if (!s) continue;
      tr.querySelector("[data-started]").textContent = relative(s.started_at);
      if (s.state === "running") {
        tr.querySelector("[data-duration]").textContent = formatDuration(
          duration(s),
        );
      }
    }
  }

  function subscribe() {
    source?.close();
    source = new EventSource(
      `/api/v1/subscribe?events=0&global=${filter.global ? 1 : 0}`,
    );
    let opened = false;
    source.addEventListener("session", (event) => {
      const s = JSON.parse(event.data);
      const known = sessions.get(s.zig_session_id);
      sessions.set(s.zig_session_id, s);
      if (!known) announce(`New session: ${s.workflow_name}`);
      else if (known.state !== s.state) {
        announce(`${s.workflow_name}: ${STATE_TEXT[s.state]}`);
      }
      render();
    });
    source.onopen = () => {
      live.dataset.state = "live";
      // After a reconnection, catch up with what was missed.
      if (opened) load({ resubscribe: false });
      opened = true;
    };
    source.onerror = () => {
      live.dataset.state = "reconnecting";
    };
  }

  async function load(options = { resubscribe: true }) {
    try {
      const scope = filter.global === undefined
        ? ""
        : `?global=${filter.global ? 1 : 0}`;
      const { body, headers } = await api(`/api/v1/sessions${scope}`);
      filter.global ??= headers.get("x-zig-scope") === "global";
      globalBox.checked = filter.global;
      sessions.clear();
      for (const s of body) sessions.set(s.zig_session_id, s);
      render();
      if (options.resubscribe) subscribe();
    } catch (error) {
      fail(error);
    }
  }

  return {
    kind: "list",
    el,
    start() {
      load();
      timer = setInterval(tick, 5000);
      document.title = "zig sessions";
    },
    destroy() {
      source?.close();
      clearInterval(timer);
    },
  };
}

// ----------------------------------------------------------- session view

const STRUCTURE = new Set([
  "tier_started",
  "step_started",
  "step_completed",
  "step_failed",
  "step_skipped",
  "zig_session_ended",
]);
const MAX_LINES = 5000;

function sessionView(id, initialStep) {
  let summary = null;
  let source = null;
  let timer = 0;
  let summaryTimer = 0;
  let selected = initialStep;
  let follow = true;
  let unseen = 0;
  const lines = []; // every output line: { step, stream, text, kind }
  const perStep = new Map(); // step → { out, err }
  let pending = []; // lines not yet on screen
  let frame = 0;
  let ended = false;

  const header = h("div", { class: "session-head" });
  const alerts = h("div", { class: "alerts" });
  const timeline = h("div", {
    class: "timeline",
    role: "group",
    "aria-label": "Timeline",
  });
  const tabs = h("div", {
    class: "tabs",
    role: "group",
    "aria-label": "Output of",
  });
  const streams = { stdout: true, stderr: true };
  const streamBoxes = ["stdout", "stderr"].map((name) =>
    h(
      "label",
      { class: `check ${name}` },
      h("input", {
        type: "checkbox",
        checked: true,
        onchange: (event) => {
          streams[name] = event.target.checked;
          renderOutput();
        },
      }),
      ` ${name}`,
    )
  );
  const resume = h("button", {
    type: "button",
    class: "resume",
    hidden: true,
    onclick: () => {
      follow = true;
      output.scrollTop = output.scrollHeight;
      updateResume();
    },
  });
  const output = h("div", {
    class: "output",
    id: "output",
    role: "log",
    tabindex: 0,
    "aria-label": "Output",
    onscroll: () => {
      const atBottom =
        output.scrollHeight - output.scrollTop - output.clientHeight < 24;
      if (atBottom !== follow) {
        follow = atBottom;
        if (follow) unseen = 0;
        updateResume();
      }
    },
  });
  const el = h(
    "article",
    { class: "session" },
    h("p", { class: "back" }, h("a", { href: "#/" }, "← All sessions")),
    header,
    alerts,
    h(
      "section",
      { "aria-labelledby": "tl-title" },
      h("h2", { id: "tl-title" }, "Timeline"),
      timeline,
    ),
    h(
      "section",
      { class: "out-section", "aria-labelledby": "out-title" },
      h(
        "div",
        { class: "out-head" },
        h("h2", { id: "out-title" }, "Output"),
        tabs,
        h("div", { class: "streams" }, streamBoxes),
      ),
      h("div", { class: "out-wrap" }, output, resume),
    ),
  );

  function updateResume() {
    resume.hidden = follow;
    resume.textContent = unseen > 0
      ? `Paused · ${unseen} new line${unseen === 1 ? "" : "s"} · follow ↓`
      : "Paused · follow ↓";
  }

  function stepHref(name) {
    return `#/session/${enc(summary?.zig_session_id ?? id)}/step/${enc(name)}`;
  }

  function allSteps() {
    return summary ? summary.tiers.flatMap((t) => t.steps) : [];
  }

  function now() {
    return Date.now();
  }

  function sessionDuration() {
    if (!summary) return undefined;
    return summary.state === "running"
      ? now() - ms(summary.started_at)
      : summary.duration_ms;
  }

  function renderHeader() {
    const s = summary;
    fill(
      header,
      h(
        "div",
        { class: "title" },
        badge(s.state),
        h("h1", {}, s.workflow_name),
        h("code", { class: "sid", title: s.zig_session_id }, s.zig_session_id),
      ),
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Started"),
        h(
          "dd",
          { title: localTime(s.started_at) },
          `${relative(s.started_at)} · ${localTime(s.started_at)}`,
        ),
        h("dt", {}, "Duration"),
        h(
          "dd",
          { "data-duration": "" },
          formatDuration(sessionDuration()) +
            (s.state === "running" ? " so far" : ""),
        ),
        h("dt", {}, "Workflow file"),
        h("dd", {}, s.workflow_path ?? "–"),
        s.cwd ? [h("dt", {}, "Directory"), h("dd", {}, s.cwd)] : null,
        h("dt", {}, "Events"),
        h("dd", {}, String(s.events)),
      ),
      s.prompt
        ? h(
          "details",
          { class: "prompt", open: s.prompt.split("\n").length <= 8 },
          h("summary", {}, "Prompt"),
          h("pre", {}, s.prompt),
        )
        : null,
    );
    document.title = `${s.workflow_name} · ${STATE_TEXT[s.state]} · zig`;
  }

  function renderAlerts() {
    const steps = allSteps();
    const failed = steps.filter((s) => s.status === "failed");
    const skipped = steps.filter((s) =>
      s.status === "skipped" || s.status === "not_run" ||
      s.status === "interrupted"
    );
    const problems = summary.problems ?? [];
    fill(
      alerts,
      failed.length
        ? h(
          "div",
          { class: "notice error", role: "alert" },
          h(
            "strong",
            {},
            `${failed.length} step${failed.length === 1 ? "" : "s"} failed`,
          ),
          h(
            "ul",
            {},
            failed.map((s) =>
              h(
                "li",
                {},
                h("a", { href: stepHref(s.step_name) }, s.step_name),
                ` — ${s.error || "failed"}${
                  s.exit_code !== null ? ` (exit ${s.exit_code})` : ""
                }${s.attempts > 1 ? `, ${s.attempts} attempts` : ""}`,
              )
            ),
          ),
        )
        : null,
      skipped.length
        ? h(
          "div",
          { class: "notice skip" },
          h(
            "strong",
            {},
            `${skipped.length} step${
              skipped.length === 1 ? "" : "s"
            } skipped or not run`,
          ),
          h(
            "ul",
            {},
            skipped.map((s) =>
              h(
                "li",
                {},
                h("a", { href: stepHref(s.step_name) }, s.step_name),
                ` — ${
                  s.status === "skipped"
                    ? s.reason || "skipped"
                    : s.status === "interrupted"
                    ? "interrupted: the session ended while it ran"
                    : "not run"
                }`,
              )
            ),
          ),
        )
        : null,
      problems.length
        ? h(
          "div",
          { class: "notice warn" },
          h(
            "strong",
            {},
            `${problems.length} line${
              problems.length === 1 ? "" : "s"
            } of the log could not be read`,
          ),
          h("ul", {}, problems.slice(0, 5).map((p) => h("li", {}, p.message))),
        )
        : null,
    );
  }

  const STATUS_TEXT = {
    completed: "completed",
    failed: "failed",
    running: "running",
    skipped: "skipped",
    pending: "waiting",
    not_run: "not run",
    interrupted: "interrupted",
  };

  function renderTimeline() {
    const start = ms(summary.started_at);
    const end = summary.state === "running" ? now() : Math.max(
      start + (summary.duration_ms ?? 0),
      ms(summary.ended_at ?? summary.last_event_at),
    );
    const span = Math.max(1, end - start);
    const pct = (t) => Math.min(100, Math.max(0, ((t - start) / span) * 100));
    const rows = [
      h(
        "div",
        { class: "axis", "aria-hidden": "true" },
        h("span", {}, "0"),
        h("span", {}, formatDuration(span / 2)),
        h("span", {}, formatDuration(span)),
      ),
    ];
    for (const tier of summary.tiers) {
      rows.push(h("div", { class: "tier" }, `Tier ${tier.tier_index}`));
      for (const step of tier.steps) {
        const s0 = ms(step.started_at);
        let s1 = ms(step.ended_at);
        if (step.status === "running") s1 = now();
        if (step.status === "interrupted") {
          s1 = ms(summary.last_event_at) || end;
        }
        if (step.status === "completed" && step.duration_ms !== null) {
          s1 = Math.max(s1 || 0, s0 + step.duration_ms);
        }
        const hasBar = Number.isFinite(s0);
        const left = hasBar
          ? pct(s0)
          : pct(ms(step.ended_at) || ms(tier.started_at) || start);
        const width = hasBar && Number.isFinite(s1)
          ? Math.max(0.6, pct(s1) - left)
          : 0;
        const took = step.duration_ms ??
          (hasBar && Number.isFinite(s1) ? s1 - s0 : null);
        const label = `${step.step_name}: ${STATUS_TEXT[step.status]}${
          hasBar ? `, started +${formatDuration(s0 - start)}` : ""
        }${took !== null ? `, took ${formatDuration(took)}` : ""}${
          step.exit_code !== null ? `, exit ${step.exit_code}` : ""
        }`;
        const isSelected = selected === step.step_name;
        rows.push(
          h(
            "a",
            {
              class: `step-row ${step.status}${isSelected ? " selected" : ""}`,
              href: stepHref(step.step_name),
              "aria-label": label,
              "aria-current": isSelected ? "true" : undefined,
              "data-step": step.step_name,
            },
            h("span", { class: "step-name" }, step.step_name),
            h(
              "span",
              { class: "track" },
              width > 0
                ? h("span", {
                  class: `bar ${step.status}`,
                  style: { left: `${left}%`, width: `${width}%` },
                })
                : h("span", {
                  class: `mark ${step.status}`,
                  style: { left: `${left}%` },
                }),
            ),
            h(
              "span",
              { class: `step-meta ${step.status}` },
              h(
                "span",
                { class: "icon", "aria-hidden": "true" },
                {
                  completed: "✓",
                  failed: "✗",
                  running: "●",
                  skipped: "↷",
                  pending: "…",
                  not_run: "–",
                  interrupted: "!",
                }[step.status] ?? "",
              ),
              ` ${STATUS_TEXT[step.status]}`,
              took !== null ? ` · ${formatDuration(took)}` : "",
              step.status === "failed" && step.exit_code !== null
                ? ` · exit ${step.exit_code}`
                : "",
            ),
          ),
        );
      }
    }
    if (summary.tiers.length === 0) {
      rows.push(h("p", { class: "muted" }, "No tier has started yet."));
    }
    timeline.replaceChildren(...rows);
  }

  function renderTabs() {
    const steps = allSteps();
    const names = steps.map((s) => s.step_name);
    for (const name of perStep.keys()) {
      if (!names.includes(name)) names.push(name);
    }
    const tab = (name, label, extra) =>
      h(
        "a",
        {
          class: `tab${(selected ?? null) === name ? " selected" : ""}${
            extra ?? ""
          }`,
          href: name === null ? `#/session/${enc(id)}` : stepHref(name),
          "aria-current": (selected ?? null) === name ? "true" : undefined,
        },
        label,
      );
    fill(
      tabs,
      tab(null, h("span", {}, "All steps"), ""),
      ...names.map((name) => {
        const step = steps.find((s) => s.step_name === name);
        const count = perStep.get(name) ?? { out: 0, err: 0 };
        return tab(
          name,
          [
            h("span", {}, name),
            h("span", { class: "n" }, String(count.out + count.err)),
            count.err
              ? h(
                "span",
                { class: "n err", title: "stderr lines" },
                `${count.err} err`,
              )
              : null,
          ],
          step ? ` ${step.status}` : "",
        );
      }),
    );
  }

  function visible(line) {
    if (selected && line.step !== selected) return false;
    if (line.kind === "out" && !streams[line.stream]) return false;
    return true;
  }

  function lineEl(line) {
    const cls = line.kind === "out"
      ? `ln ${line.stream === "stderr" ? "err" : "out"}`
      : `ln meta ${line.kind}`;
    return h(
      "div",
      { class: cls },
      selected ? null : h("span", { class: "who" }, line.step ?? ""),
      line.kind === "out" && line.stream === "stderr"
        ? h("span", { class: "tag" }, "err")
        : null,
      h("span", { class: "txt" }, line.text),
    );
  }

  function renderOutput() {
    const shown = lines.filter(visible);
    const hidden = Math.max(0, shown.length - MAX_LINES);
    output.replaceChildren(
      ...(hidden
        ? [h("div", { class: "ln meta" }, `${hidden} earlier lines not shown`)]
        : []),
      ...(shown.length === 0
        ? [h(
          "div",
          { class: "ln meta empty" },
          selected ? `No output from ${selected} yet.` : "No output yet.",
        )]
        : shown.slice(hidden).map(lineEl)),
    );
    pending = [];
    follow = true;
    unseen = 0;
    output.scrollTop = output.scrollHeight;
    updateResume();
  }

  function flush() {
    frame = 0;
    if (summary) renderTabs(); // the line counts
    const add = pending.filter(visible);
    pending = [];
    if (add.length === 0) return;
    output.querySelector(".empty")?.remove();
    const fragment = document.createDocumentFragment();
    for (const line of add) fragment.append(lineEl(line));
    output.append(fragment);
    while (output.childElementCount > MAX_LINES + 200) {
      output.firstElementChild.remove();
    }
    if (follow) output.scrollTop = output.scrollHeight;
    else {
      unseen += add.length;
      updateResume();
    }
  }

  function push(line) {
    lines.push(line);
    if (lines.length > MAX_LINES * 4) lines.splice(0, MAX_LINES);
    pending.push(line);
    frame ||= requestAnimationFrame(flush);
  }

  function onEvent(event) {
    const step = event.step_name;
    switch (event.type) {
      case "step_output": {
        const count = perStep.get(step) ?? { out: 0, err: 0 };
        if (event.stream === "stderr") count.err++;
        else count.out++;
        perStep.set(step, count);
        push({
          step,
          stream: event.stream,
          text: plain(event.line),
          kind: "out",
        });
        return;
      }
      case "step_started":
        push({
          step,
          kind: "start",
          text: `▶ started${event.model ? ` (${event.model})` : ""}`,
        });
        break;
      case "step_completed":
        push({
          step,
          kind: "done",
          text: `✓ completed, exit ${event.exit_code}, ${
            formatDuration(event.duration_ms)
          }`,
        });
        break;
      case "step_failed":
        push({
          step,
          kind: "failed",
          text: `✗ failed (attempt ${event.attempt}, exit ${
            event.exit_code ?? "none"
          }): ${event.error}`,
        });
        break;
      case "step_skipped":
        push({ step, kind: "skipped", text: `↷ skipped: ${event.reason}` });
        break;
      case "zig_session_ended":
        ended = true;
        push({
          step: null,
          kind: event.status === "success" ? "done" : "failed",
          text: `■ session ${
            event.status === "success" ? "succeeded" : "failed"
          } in ${formatDuration(event.duration_ms)}`,
        });
        source?.close();
        break;
    }
    if (STRUCTURE.has(event.type)) {
      scheduleSummary(event.type === "zig_session_ended" ? 0 : 150);
    }
  }

  /** Re-reads the summary soon (coalesced). */
  function scheduleSummary(delay) {
    clearTimeout(summaryTimer);
    summaryTimer = setTimeout(async () => {
      summaryTimer = 0;
      try {
        summary = (await api(
          `/api/v1/sessions/${enc(summary?.zig_session_id ?? id)}/summary`,
        )).body;
        renderAll({ output: false });
      } catch (error) {
        if (error instanceof Unauthorized) fail(error);
      }
    }, delay);
  }

  function renderAll({ output: withOutput = true } = {}) {
    renderHeader();
    renderAlerts();
    renderTimeline();
    renderTabs();
    if (withOutput) renderOutput();
  }

  function select(step, { scroll } = {}) {
    selected = step ?? null;
    if (!summary) return;
    renderTimeline();
    renderTabs();
    renderOutput();
    if (scroll && step) {
      el.querySelector(".out-section")?.scrollIntoView({ block: "start" });
      output.focus({ preventScroll: true });
    }
  }

  function connect() {
    source = new EventSource(
      `/api/v1/sessions/${enc(summary.zig_session_id)}/events/stream`,
    );
    source.onmessage = (message) => {
      try {
        onEvent(JSON.parse(message.data));
      } catch {
        // not an event: nothing to show
      }
    };
    source.addEventListener("problem", (message) => {
      const problem = JSON.parse(message.data);
      push({ step: null, kind: "problem", text: `⚠ ${problem.message}` });
    });
    source.onopen = () => live.dataset.state = "live";
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED || ended) {
        live.dataset.state = "";
      } else live.dataset.state = "reconnecting";
    };
  }

  async function start() {
    try {
      summary = (await api(`/api/v1/sessions/${enc(id)}/summary`)).body;
    } catch (error) {
      if (error instanceof ApiError && error.code === "ambiguous") {
        main.replaceChildren(
          h(
            "div",
            { class: "notice warn", role: "alert" },
            h("p", {}, error.message),
            h(
              "ul",
              {},
              (error.candidates ?? []).map((c) =>
                h("li", {}, h("a", { href: `#/session/${enc(c)}` }, c))
              ),
            ),
          ),
        );
        return;
      }
      fail(error);
      return;
    }
    renderAll();
    connect();
    let ticks = 0;
    timer = setInterval(() => {
      if (summary?.state !== "running") return;
      header.querySelector("[data-duration]").textContent =
        formatDuration(sessionDuration()) + " so far";
      renderTimeline();
      // A session that goes silent turns abandoned: no event says so.
      if (++ticks % 10 === 0) scheduleSummary(0);
    }, 1000);
    if (selected) select(selected, { scroll: true });
  }

  return {
    kind: "session",
    id,
    el,
    start,
    select,
    destroy() {
      source?.close();
      clearInterval(timer);
      clearTimeout(summaryTimer);
      if (frame) cancelAnimationFrame(frame);
    },
  };
}

// ------------------------------------------------------------------- boot

addEventListener("hashchange", route);
addEventListener("keydown", (event) => {
  if (event.key === "/" && !event.target.closest("input, select, textarea")) {
    const search = document.getElementById("q");
    if (search) {
      event.preventDefault();
      search.focus();
    }
  }
});

(async () => {
  // The URL serve prints carries the token in the fragment (never sent to
  // any server); trade it for the cookie, then drop it from the address.
  const token = /^#token=([^&]+)/.exec(location.hash)?.[1];
  if (token) {
    history.replaceState(null, "", location.pathname + "#/");
    if (!(await login(decodeURIComponent(token)))) {
      show(loginView("The token in the address is not the server's."));
      return;
    }
  }
  route();
})();
