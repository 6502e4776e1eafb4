// The page of `zig-session serve` in a real headless browser: Debian's
// Chromium, driven by playwright-core (no browser download) from
// tests/workers/serve_page.ts, which needs --allow-all (playwright probes
// /proc). The server is a real `serve` process over a copy of the fixture zig
// home; a session is recorded while the page is open.
import assert from "node:assert/strict";
import { join } from "node:path";
import { copyFixtureHome, projectFile, tempDir } from "../_helpers.ts";
import { serveProcess, TOKEN } from "./_serve.ts";

const CHROMIUM = "/usr/bin/chromium";
/** Where screenshots go (gitignored). */
const ARTIFACTS = projectFile("tests/artifacts");

function missingBrowser(): string | undefined {
  try {
    Deno.statSync(CHROMIUM);
    return undefined;
  } catch {
    return `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium; .ci/run does)`;
  }
}

const missing = missingBrowser();
if (missing) {
  console.error(`serve browser test skipped: ${missing}`);
  if (Deno.env.get("CI") === "true") {
    Deno.test("serve page in a browser: Chromium is installed on CI", () => {
      assert.fail(missing);
    });
  }
}

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

Deno.test({
  name:
    "serve page in a browser: lists the sessions, filters, shows a new session and its output within a second, marks the failed step",
  ignore: missing !== undefined,
  async fn() {
    using tmp = tempDir();
    const home = copyFixtureHome(tmp.path);
    const repo = join(tmp.path, "shop");
    Deno.mkdirSync(join(repo, ".git"), { recursive: true });
    await using server = await serveProcess(["--token", TOKEN, "--global"], {
      home,
      cwd: repo,
    });
    Deno.mkdirSync(ARTIFACTS, { recursive: true });
    for (const name of ["serve-list.png", "serve-session.png"]) {
      try {
        Deno.removeSync(join(ARTIFACTS, name)); // a stale one proves nothing
      } catch { /* none yet */ }
    }
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--no-prompt",
        projectFile("tests/workers/serve_page.ts"),
        server.url,
        TOKEN,
        home,
        repo,
        ARTIFACTS,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, `the page check failed:\n${stderr}\n${stdout}`);
    const report = JSON.parse(stdout.trim().split("\n").at(-1)!);

    assert.deepEqual(report.fixtureRows, [
      "wf-dropped:failure",
      "wf-failure:failure",
      "wf-running:abandoned",
      "wf-success:success",
      "wf-success:success",
    ]);
    assert.deepEqual(report.failedFilter, ["failure", "failure"]);
    assert.deepEqual(report.textFilter, ["wf-dropped"]);
    // New output lines show within a second of their write.
    assert.equal(report.outputLatenciesMs.length, 3);
    for (const ms of report.outputLatenciesMs) {
      assert.ok(ms < 1000, `a line showed after ${ms} ms`);
    }
    // Following pauses while the reader looks further up.
    assert.equal(report.followedToBottom, true);
    assert.equal(report.pausedScrollTop, 0, "new lines did not scroll it");
    assert.equal(report.resumedAtBottom, true);
    assert.match(report.alert, /1 step failed/);
    assert.match(report.alert, /test — 1 test failed \(exit 1\)/);
    assert.equal(report.selectedStep, "test");
    assert.ok(report.testOutput.includes("checkout: expected 200, got 502"));
    assert.ok(
      !report.testOutput.some((t: string) => t.startsWith("compiling")),
      "the step's output only",
    );
    // Readable contrast: text against its background, WCAG AA (4.5:1),
    // light and dark.
    const checked = report.contrast as Array<
      { scheme: string; selector: string; ratio: number }
    >;
    for (const scheme of ["light", "dark"]) {
      assert.ok(
        checked.filter((c) => c.scheme === scheme).length >= 30,
        `${scheme}: ${checked.length} checked`,
      );
    }
    const low = checked.filter((c) => c.ratio < 4.5);
    assert.deepEqual(low, [], "text below 4.5:1");
    assert.equal(report.loginForm, "ok", "the token form signs in");
    assert.deepEqual(report.elsewhere, [], "nothing fetched from elsewhere");
    assert.deepEqual(report.problems, [], "no script errors, no CSP reports");
    for (const name of ["serve-list.png", "serve-session.png"]) {
      const bytes = Deno.readFileSync(join(ARTIFACTS, name));
      assert.deepEqual([...bytes.subarray(0, 8)], PNG, name);
      assert.ok(bytes.length > 10_000, `${name} is ${bytes.length} bytes`);
    }
    const lowest = checked.reduce((a, b) => a.ratio <= b.ratio ? a : b);
    console.log(
      `lowest contrast ${lowest.ratio}:1 (${lowest.selector}, ${lowest.scheme}); screenshots in ${ARTIFACTS}; lines shown after ${
        report.outputLatenciesMs.join(", ")
      } ms; new session listed after ${report.newSessionMs} ms`,
    );
  },
});
