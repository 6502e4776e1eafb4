// Drives the page of a running `zig-session serve` in headless Chromium
// (Debian's, through playwright-core: no browser download) and records a
// session while the page is open. Run by tests/cli/serve_browser_test.ts with
// --allow-all, which playwright needs (it probes /proc). Arguments: the
// server's URL, the token, the zig home, a repository, the artifacts folder.
// Fails (exit 1) on the first wrong thing; prints a JSON report last.
import assert from "node:assert/strict";
import { join } from "node:path";
// Pinned here, not in deno.json's imports: only this test worker uses it, and
// the module and the CLI stay free of any npm dependency.
// deno-lint-ignore no-import-prefix
import { chromium } from "npm:playwright-core@1.65.1";
import { SessionWriter } from "../../mod.ts";

// What the callbacks that run in the page use (they are not type-checked
// against the DOM library, which clashes with Deno's).
interface PageElement {
  textContent: string | null;
  querySelector(selector: string): PageElement | null;
  dataset: Record<string, string>;
}
declare const document: {
  querySelector(selector: string): PageElement | null;
  activeElement: { blur(): void } | null;
};
interface Scroller {
  scrollTop: number;
  scrollHeight: number;
  clientHeight: number;
  dispatchEvent(event: unknown): boolean;
}
declare const Event: new (type: string) => unknown;
declare const location: { hash: string };
declare function scrollTo(x: number, y: number): void;

/**
 * Runs in the page: the WCAG contrast ratio of the first element with text
 * of each selector, against its background composited up to the page's.
 */
const CONTRAST = `((selectors) => {
  const parse = (c) => {
    let m = /rgba?\\(([^)]+)\\)/.exec(c);
    if (m) {
      const p = m[1].split(/[\\s,/]+/).filter(Boolean).map(Number);
      return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
    }
    m = /color\\(srgb ([\\d.e-]+) ([\\d.e-]+) ([\\d.e-]+)(?: \\/ ([\\d.e-]+))?\\)/.exec(c);
    if (m) {
      return { r: m[1] * 255, g: m[2] * 255, b: m[3] * 255, a: m[4] === undefined ? 1 : Number(m[4]) };
    }
    return null;
  };
  const over = (top, under) => ({
    r: top.r * top.a + under.r * (1 - top.a),
    g: top.g * top.a + under.g * (1 - top.a),
    b: top.b * top.a + under.b * (1 - top.a),
    a: 1,
  });
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) {
        layers.push(c);
        if (c.a >= 1) break;
      }
    }
    let color = { r: 255, g: 255, b: 255, a: 1 };
    for (const layer of layers.reverse()) color = over(layer, color);
    return color;
  };
  const lum = ({ r, g, b }) => {
    const f = (v) => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const out = [];
  for (const selector of selectors) {
    const el = [...document.querySelectorAll(selector)]
      .find((e) => e.textContent.trim() !== "" && e.getClientRects().length > 0);
    if (!el) continue;
    const bg = background(el);
    let fg = parse(getComputedStyle(el).color);
    if (fg.a < 1) fg = over(fg, bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    out.push({ selector, text: el.textContent.trim().slice(0, 24), ratio: Math.round((hi + 0.05) / (lo + 0.05) * 100) / 100 });
  }
  return out;
})`;
const LIST_TEXT = [
  ".brand",
  ".live",
  "h1",
  ".count",
  ".chip",
  ".chip .n",
  ".filters label",
  ".sessions th",
  ".sessions td",
  ".wf a",
  ".id code",
  ".badge.success",
  ".badge.failure",
  ".badge.running",
  ".badge.abandoned",
];
const SESSION_TEXT = [
  ".back a",
  ".sid",
  ".facts dt",
  ".facts dd",
  ".prompt summary",
  ".prompt pre",
  ".notice.error",
  ".notice.error a",
  ".notice.skip",
  ".notice.skip a",
  ".tier",
  ".axis span",
  ".step-name",
  ".step-meta.completed",
  ".step-meta.failed",
  ".step-meta.skipped",
  ".tab",
  ".tab .n",
  ".tab .n.err",
  ".ln .who",
  ".ln .txt",
  ".ln.err .txt",
  ".ln .tag",
  ".ln.meta",
  ".ln.meta.failed",
  ".ln.meta.done",
  ".streams label",
];

const [url, token, home, repo, artifacts] = Deno.args;
// Real pauses between steps, so that the timeline's bars mean something.
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const profile = Deno.makeTempDirSync({ prefix: "zig-session-chromium-" });
const context = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
  viewport: { width: 1280, height: 860 },
  colorScheme: "light",
});
const report: Record<string, unknown> = {};
const contrast: Array<{ scheme: string; selector: string; ratio: number }> = [];
try {
  const page = await context.newPage();
  const problems: string[] = [];
  const elsewhere: string[] = [];
  page.on("pageerror", (e: Error) => problems.push(`page error: ${e.message}`));
  page.on("console", (m: { type(): string; text(): string }) => {
    // A 401 is expected once the cookie is gone (the browser logs it).
    if (m.type() === "error" && !/status of 401/.test(m.text())) {
      problems.push(`console: ${m.text()}`);
    }
  });
  page.on("request", (r: { url(): string }) => {
    if (!r.url().startsWith(url)) elsewhere.push(r.url());
  });

  // The URL serve prints logs the page in; the token leaves the address.
  await page.goto(`${url}/#token=${token}`);
  await page.waitForSelector("tr[data-id]");
  assert.ok(!page.url().includes(token), page.url());
  const rows = () =>
    page.$$eval(
      "tr[data-id]",
      (trs: PageElement[]) =>
        trs.map((tr) => ({
          workflow: tr.querySelector(".wf")!.textContent,
          state: tr.dataset.state,
        })),
    );
  const fixture = await rows();
  report.fixtureRows = fixture.map((r) => `${r.workflow}:${r.state}`).sort();
  // Filters: by state, then by text.
  await page.click('button[data-state="failure"]');
  report.failedFilter = (await rows()).map((r) => r.state);
  await page.click('button[data-state="all"]');
  await page.fill("#q", "dropped");
  report.textFilter = (await rows()).map((r) => r.workflow);
  await page.fill("#q", "");

  // A session recorded while the page is open appears without a reload.
  const sessionStarted = performance.now();
  const writer = SessionWriter.create({
    zigHome: home,
    projectRoot: repo,
    cwd: repo,
    workflowName: "release",
    workflowPath: "flows/release.zwf",
    prompt: "ship version 2.4 to staging",
    tierCount: 2,
  });
  writer.tierStarted(0, ["build", "test"]);
  const buildStarted = performance.now();
  writer.stepStarted({
    stepName: "build",
    tierIndex: 0,
    zagSessionId: "zag-b",
    zagCommand: "exec",
    model: "sonnet",
    promptPreview: "Build it",
  });
  const id = writer.sessionId;
  const appeared = performance.now();
  await page.waitForSelector(`tr[data-id="${id}"][data-state="running"]`, {
    timeout: 5000,
  });
  report.newSessionMs = Math.round(performance.now() - appeared);
  const audit = async (scheme: string, selectors: string[]) => {
    const found = await page.evaluate(
      `${CONTRAST}(${JSON.stringify(selectors)})`,
    );
    for (const r of found as Array<{ selector: string; ratio: number }>) {
      contrast.push({ scheme, ...r });
    }
  };
  await audit("light", LIST_TEXT);
  await page.evaluate(() => document.activeElement?.blur());
  await page.screenshot({ path: join(artifacts, "serve-list.png") });

  // Opened by keyboard: focus its link, press Enter.
  await page.focus(`tr[data-id="${id}"] a`);
  await page.keyboard.press("Enter");
  await page.waitForSelector(".session-head h1");
  assert.equal(await page.textContent(".session-head h1"), "release");
  assert.equal(
    await page.getAttribute(".session-head .badge", "data-state"),
    "running",
  );
  assert.ok(page.url().endsWith(`#/session/${id}`), page.url());

  // New output lines, each timed from its write to its display.
  const latencies: number[] = [];
  for (let i = 1; i <= 3; i++) {
    const text = `compiling module ${i} of 3`;
    await sleep(250);
    const started = performance.now();
    writer.stepOutput({ stepName: "build", stream: "stdout", line: text });
    await page.waitForFunction(
      (t: string) =>
        document.querySelector("#output")?.textContent?.includes(t),
      text,
      { timeout: 5000, polling: 10 },
    );
    latencies.push(Math.round(performance.now() - started));
  }
  report.outputLatenciesMs = latencies;

  // Following pauses when the reader scrolls up, and resumes on request.
  for (let i = 0; i < 80; i++) {
    writer.stepOutput({
      stepName: "build",
      stream: "stdout",
      line: `obj ${i}`,
    });
  }
  await page.waitForSelector(".ln >> text=obj 79");
  report.followedToBottom = await page.$eval("#output", (o: unknown) => {
    const el = o as Scroller;
    return el.scrollHeight - el.scrollTop - el.clientHeight < 24;
  });
  await page.$eval("#output", (o: unknown) => {
    const el = o as Scroller;
    el.scrollTop = 0;
    el.dispatchEvent(new Event("scroll"));
  });
  writer.stepOutput({ stepName: "build", stream: "stdout", line: "late 1" });
  writer.stepOutput({ stepName: "build", stream: "stdout", line: "late 2" });
  await page.waitForSelector(".resume >> text=2 new lines", { timeout: 5000 });
  report.pausedScrollTop = await page.$eval(
    "#output",
    (o: unknown) => (o as Scroller).scrollTop,
  );
  await page.click(".resume");
  report.resumedAtBottom = await page.$eval("#output", (o: unknown) => {
    const el = o as Scroller;
    return el.scrollHeight - el.scrollTop - el.clientHeight < 24;
  });

  writer.stepOutput({
    stepName: "build",
    stream: "stderr",
    line: "warning: unused import in cart.ts",
  });
  await page.waitForSelector(".ln.err >> text=warning: unused import");
  await sleep(200);
  writer.stepCompleted({
    stepName: "build",
    exitCode: 0,
    durationMs: Math.round(performance.now() - buildStarted),
  });
  writer.stepStarted({
    stepName: "test",
    tierIndex: 0,
    zagSessionId: "zag-t",
    zagCommand: "exec",
    model: null,
    promptPreview: "Run the tests",
  });
  for (
    const line of [
      "running 48 tests",
      "cart: 47 passed",
      "checkout: expected 200, got 502",
    ]
  ) {
    await sleep(250);
    writer.stepOutput({
      stepName: "test",
      stream: line.includes("got") ? "stderr" : "stdout",
      line,
    });
  }
  await sleep(150);
  writer.stepFailed({
    stepName: "test",
    exitCode: 1,
    attempt: 1,
    error: "1 test failed",
  });
  writer.tierStarted(1, ["deploy"]);
  writer.stepSkipped("deploy", "an earlier tier failed");
  writer.ended("failure", Math.round(performance.now() - sessionStarted));

  // The failed step is marked: in the state, the timeline and an alert
  // that links to its output.
  await page.waitForSelector('.session-head .badge[data-state="failure"]', {
    timeout: 5000,
  });
  await page.waitForSelector('.step-row.failed[data-step="test"]');
  await page.waitForSelector('.step-row.skipped[data-step="deploy"]');
  report.alert = await page.textContent(".notice.error");
  await page.click('.notice.error a:text("test")');
  await page.waitForFunction(() => location.hash.endsWith("/step/test"));
  await page.waitForSelector(
    ".ln.meta.failed >> text=failed (attempt 1, exit 1)",
  );
  report.testOutput = await page.$$eval(
    ".output .ln .txt",
    (els: PageElement[]) => els.map((e) => e.textContent),
  );
  report.selectedStep = await page.getAttribute(
    ".step-row[aria-current=true]",
    "data-step",
  );
  await page.evaluate(() => scrollTo(0, 0));
  await audit("light", SESSION_TEXT);
  await page.screenshot({
    path: join(artifacts, "serve-session.png"),
    fullPage: true,
  });

  // A deep link to a step (by id prefix) opens it directly; dark scheme.
  await page.emulateMedia({ colorScheme: "dark" });
  await page.goto(`${url}/#/session/${id.slice(0, 8)}/step/build`);
  await page.reload();
  await page.waitForSelector('.step-row.selected[data-step="build"]');
  await page.waitForSelector(".ln.err >> text=warning: unused import");
  await page.screenshot({
    path: join(artifacts, "serve-session-dark.png"),
    fullPage: true,
  });
  await audit("dark", SESSION_TEXT);
  await page.emulateMedia({ colorScheme: "dark" });
  await page.goto(`${url}/#/`);
  await page.waitForSelector(`tr[data-id="${id}"][data-state="failure"]`);
  await page.screenshot({ path: join(artifacts, "serve-list-dark.png") });
  await audit("dark", LIST_TEXT);
  report.contrast = contrast;

  // Without the cookie the page asks for the token, by keyboard.
  await context.clearCookies();
  await page.goto(`${url}/`);
  await page.waitForSelector("form.login #token:focus");
  await page.keyboard.type("not-the-token");
  await page.keyboard.press("Enter");
  await page.waitForSelector(".form-error >> text=not the server's");
  await page.fill("#token", token);
  await page.keyboard.press("Enter");
  await page.waitForSelector(`tr[data-id="${id}"]`);
  report.loginForm = "ok";

  report.elsewhere = elsewhere;
  report.problems = problems;
} finally {
  await context.close();
  Deno.removeSync(profile, { recursive: true });
}
console.log(JSON.stringify(report));
