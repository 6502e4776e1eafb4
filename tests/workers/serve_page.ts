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
try {
  const page = await context.newPage();
  const problems: string[] = [];
  const elsewhere: string[] = [];
  page.on("pageerror", (e: Error) => problems.push(`page error: ${e.message}`));
  page.on("console", (m: { type(): string; text(): string }) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
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
  await page.emulateMedia({ colorScheme: "dark" });
  await page.goto(`${url}/#/`);
  await page.waitForSelector(`tr[data-id="${id}"][data-state="failure"]`);
  await page.screenshot({ path: join(artifacts, "serve-list-dark.png") });

  report.elsewhere = elsewhere;
  report.problems = problems;
} finally {
  await context.close();
  Deno.removeSync(profile, { recursive: true });
}
console.log(JSON.stringify(report));
