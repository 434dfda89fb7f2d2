/**
 * The web app in a real browser (Debian's chromium through playwright-core),
 * against a real nats-server and the real services: a repository is analysed,
 * then each page is loaded and checked for what a person would see. Each page
 * leaves a screenshot in test-artifacts/screenshots/.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { githubSignature } from "../../../services/web/hooks.js";
import { startWeb, type WebService } from "../../../services/web/index.js";
import type { Report } from "../../../shared/pipeline/report.js";
import { launchBrowser, type TestBrowser } from "../../harness/browser.js";
import { quietLog } from "../../harness/farms.js";
import { TestRepo } from "../../harness/git.js";
import { collectErrors, usePipeline } from "../../harness/pipeline.js";
import { connectPipeline } from "../../../shared/pipeline/topology.js";
import { SERVICE_NAMES } from "../../../services/index.js";
import { subjects } from "../../../shared/pipeline/names.js";
import { inboxOf, makeRepo, startAuthServer, startService, type RunningService } from "../../harness/deploy.js";
import { waitFor } from "../../harness/wait.js";

const TOKEN = "web-test-token";
const HOSTILE = "src/<img src=x onerror=alert(1)>.js";

/** app.js with one unused constant per number: each commit adds or removes some, so the history has a trend. */
function app(vars: number[]): string {
  const consts = vars.map((v) => `const unused${v} = ${v};\n`).join("");
  return `"use strict";\n\nfunction main(input) {\n  return input * 2;\n}\n\n${consts}\nmodule.exports = { main };\n`;
}

const UTIL_BAD = `"use strict";\n\nmodule.exports = function show() {\n  return undefinedThing;\n};\n`;
const UTIL_OK = `"use strict";\n\nmodule.exports = function show() {\n  return 1;\n};\n`;

/** The constants of app.js per commit, oldest first. */
const HISTORY: number[][] = [[], [1], [1, 2], [1, 2, 3], [1, 2, 3, 4], [1, 3, 4], [1, 3, 4, 5, 6], [1, 5, 6], [1, 5, 6, 7], [1, 7]];

const p = usePipeline({ prefix: "farm-web-" });
let repo: TestRepo;
let web: WebService;
let browser: TestBrowser;
const reports = new Map<string, Report>();

const short = (sha: string) => sha.slice(0, 8);
const q = (params: Record<string, string>) => new URLSearchParams(params).toString();
const url = (rel: string) => new URL(rel, web.url).toString();

async function open(rel: string, shot?: string): Promise<Page> {
  const page = await browser.page();
  const res = await page.goto(url(rel));
  expect(res?.status(), rel).toBe(200);
  if (shot) await browser.screenshot(page, shot);
  return page;
}

beforeAll(async () => {
  repo = new TestRepo(path.join(p.work, "webapp"));
  HISTORY.forEach((vars, i) => {
    const files: Record<string, string> = { "src/app.js": app(vars) };
    if (i === 0) files["src/util.js"] = UTIL_BAD;
    if (i === 2) files[HOSTILE] = "const hostile = 1;\n";
    if (i === 8) files["src/util.js"] = UTIL_OK;
    const subject = i === 2 ? "add a file with a <b>hostile</b> name" : i === 0 ? "start the app" : `app: constants ${vars.join(", ") || "none"}`;
    repo.commit(subject, files);
  });
  const before = p.client.events.length;
  p.client.newSha({ repo: repo.dir, sha: repo.head(), history: HISTORY.length - 1 });
  await p.client.completed(repo.shas, 180_000, { after: before, requested: true });
  for (const sha of repo.shas) reports.set(sha, await p.client.report(repo.dir, sha));
  web = await startWeb({ farm: p.cluster.farm, config: p.cluster.config, log: quietLog("web"), port: 0, host: "127.0.0.1", token: TOKEN });
  p.onClose(() => web.close());
  browser = await launchBrowser();
  p.onClose(() => browser.close());
}, 240_000);

afterAll(() => {
  // Whatever each test did: no script ran that should not have, nothing failed in a page, nothing left the machine.
  expect(browser?.dialogs).toEqual([]);
  // Less the refusals the token test asks for on purpose.
  expect(browser?.errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
  expect(browser?.offsite).toEqual([]);
});

describe("the web app", () => {
  it("lists the repository with its latest errors and warnings and a trend line", async () => {
    const page = await open("/", "repositories");
    const card = page.locator(".repo-card").filter({ hasText: "webapp" });
    await expect.poll(() => card.count()).toBe(1);
    const head = reports.get(repo.head())!;
    expect(await card.locator(".stat.err .num").innerText()).toBe(String(head.summary.errors));
    expect(await card.locator(".stat.warn .num").innerText()).toBe(String(head.summary.warnings));
    // One point per analysed commit in the sparkline.
    const points = (await card.locator("polyline.spark-line").getAttribute("points"))!.trim().split(/\s+/);
    expect(points).toHaveLength(HISTORY.length);
  });

  it("draws the history chart and lists every commit, each linking to its page", async () => {
    const page = await open(`/repo?${q({ repo: repo.dir })}`);
    // uPlot draws on a canvas inside its root: the chart was drawn, not just its box.
    await page.locator("#history-chart .uplot canvas").waitFor();
    await page.locator("#delta-chart .uplot canvas").waitFor();
    const box = (await page.locator("#history-chart canvas").boundingBox())!;
    expect(box.width).toBeGreaterThan(300);
    expect(box.height).toBeGreaterThan(100);
    // The legend carries both series.
    expect(await page.locator("#history-chart .u-legend").innerText()).toMatch(/errors[\s\S]*warnings/);
    const rows = page.locator("table.commits tbody tr");
    expect(await rows.count()).toBe(HISTORY.length);
    // Newest first; the hostile subject is text, not markup.
    expect(await rows.first().locator("a.mono").innerText()).toBe(short(repo.head()));
    expect(await page.locator("table.commits b").count()).toBe(0);
    await expect.poll(() => page.getByText("add a file with a <b>hostile</b> name").count()).toBe(1);
    await browser.screenshot(page, "history");
    await rows
      .nth(HISTORY.length - 1)
      .locator("a.mono")
      .click();
    await page.waitForURL(/\/commit\?/);
    expect(new URL(page.url()).searchParams.get("sha")).toBe(repo.shas[0]);
  });

  it("a commit shows its new issue linking to the file at its line, and its fixed ones", async () => {
    // The commit that adds unused3: one new issue in app.js.
    const sha = repo.shas[3];
    const added = reports.get(sha)!.delta!.new.find((e) => e.path === "src/app.js" && e.message.includes("unused3"))!;
    expect(added).toBeDefined();
    const page = await open(`/commit?${q({ repo: repo.dir, sha })}`, "commit");
    expect(await page.locator("h1").innerText()).toBe("app: constants 1, 2, 3");
    const link = page.locator("table.delta tr.new a").filter({ hasText: `src/app.js:${added.line}:${added.column}` });
    expect(await link.count()).toBe(1);
    // Files by issues, rule counts, parent, downloads.
    expect(await page.locator("table.files tbody tr").first().innerText()).toContain("src/app.js");
    expect(await page.locator("table.rules").innerText()).toContain("no-unused-vars");
    expect(await page.locator(`a[href="/commit?${q({ repo: repo.dir, sha: repo.shas[2] })}"]`).count()).toBeGreaterThan(0);
    // No toolchain of its own (the pipeline reads this repository's config as data): the card says what linted it.
    expect(await page.locator("section.toolchain").innerText()).toContain(`read as data by farm's bundled ESLint ${reports.get(sha)!.linters.eslint}.`);
    await link.click();
    await page.waitForURL(/\/file\?/);
    const target = new URL(page.url());
    expect(target.searchParams.get("path")).toBe("src/app.js");
    expect(target.searchParams.get("sha")).toBe(sha);
    expect(target.hash).toBe(`#L${added.line}`);
    const line = page.locator(`#L${added.line}`);
    expect(await line.locator("pre").innerText()).toBe("const unused3 = 3;");
    expect(await line.locator(".issue").innerText()).toContain(added.message);
    expect(await line.locator(".issue-new").count()).toBe(1);

    // A commit that fixed one: shown as fixed, linking to the parent where the issue still was.
    const fixedAt = repo.shas[5];
    const fixedPage = await open(`/commit?${q({ repo: repo.dir, sha: fixedAt })}`);
    const fixed = fixedPage.locator("table.delta tr.fixed");
    expect(await fixed.innerText()).toContain("unused2");
    expect(await fixed.locator("a").getAttribute("href")).toContain(`sha=${repo.shas[4]}`);
  });

  it("downloads a commit's report as JSON and as SARIF", async () => {
    const sha = repo.shas[3];
    const json = await fetch(url(`/commit.json?${q({ repo: repo.dir, sha })}`));
    expect(json.headers.get("content-disposition")).toContain(`${sha}.json`);
    const report = (await json.json()) as Report;
    expect(report.sha).toBe(sha);
    expect(report.summary).toEqual(reports.get(sha)!.summary);
    const sarif = (await (await fetch(url(`/commit.sarif?${q({ repo: repo.dir, sha })}`))).json()) as { version: string; runs: { results: unknown[] }[] };
    expect(sarif.version).toBe("2.1.0");
    expect(sarif.runs[0].results.length).toBe(reports.get(sha)!.summary.errors + reports.get(sha)!.summary.warnings);
  });

  it("a file shows each issue at its line with the commit that introduced it", async () => {
    const head = repo.head();
    const msg = reports
      .get(head)!
      .files.find((f) => f.path === "src/app.js")!
      .messages.find((m) => m.message.includes("unused1"))!;
    const page = await open(`/file?${q({ repo: repo.dir, sha: head, path: "src/app.js" })}`, "file");
    const line = page.locator(`#L${msg.line}`);
    expect(await line.locator("pre").innerText()).toBe("const unused1 = 1;");
    const origin = line.locator(".issue .origin");
    // unused1 came with the second commit and is still there at the head.
    expect(await origin.innerText()).toContain(`introduced in ${short(repo.shas[1])}`);
    expect(await origin.locator("a").getAttribute("href")).toBe(`/commit?${q({ repo: repo.dir, sha: repo.shas[1] })}`);
    // Every line is numbered and anchored.
    expect(await page.locator("table.source tr[id^=L]").count()).toBe(app(HISTORY[HISTORY.length - 1]).split("\n").length - 1);
  });

  it("shows a file named like markup as text, and runs none of it", async () => {
    const sha = repo.shas[2];
    const page = await open(`/commit?${q({ repo: repo.dir, sha })}`);
    const row = page.locator("table.files a").filter({ hasText: HOSTILE });
    expect(await row.count()).toBe(1);
    expect(await page.locator("main img").count()).toBe(0);
    await row.click();
    await page.waitForURL(/\/file\?/);
    expect(await page.locator("h1").innerText()).toBe(HOSTILE);
    expect(await page.locator("main img").count()).toBe(0);
    await browser.screenshot(page, "hostile-file");
    expect(browser.dialogs).toEqual([]);
  });

  it("the live page follows an analysis as it runs, without reloading", async () => {
    const page = await open("/live");
    await page.locator("body[data-live=connected]").waitFor();
    // Every progress value the page shows, as the stream updates it; the marker proves no reload.
    // A string: this project's types have no DOM (the function runs in the page).
    await page.evaluate(`(() => {
      window.seen = [];
      window.marker = true;
      new MutationObserver((records) => {
        for (const r of records)
          for (const n of r.addedNodes) {
            const bar = n.querySelector && n.querySelector("progress");
            if (bar && n.getAttribute("data-repo").endsWith("webapp")) window.seen.push(bar.value);
          }
      }).observe(document.getElementById("live"), { childList: true });
    })()`);
    for (let i = 0; i < 5; i++) repo.commit(`more work ${i}`, { [`src/more${i}.js`]: `const more${i} = ${i};\n` });
    const fresh = repo.shas.slice(-5);
    const before = p.client.events.length;
    p.client.newSha({ repo: repo.dir, sha: repo.head(), history: 4 });
    await p.client.completed(fresh, 120_000, { after: before, requested: true });
    const card = page.locator(`.live-card[data-repo="${repo.dir}"]`);
    // textContent: the pill is upper-cased by CSS, which innerText follows.
    await waitFor("the live card to say done", async () => (await card.locator(".pill").textContent()) === "done", 30_000);
    await browser.screenshot(page, "live");
    // The marker is still there: the page was never reloaded.
    const values = await page.evaluate<number[] | undefined>("window.marker ? window.seen : undefined");
    expect(values).toBeDefined();
    // It advanced through values in between before it reached the end, never going back.
    expect(values!.some((v) => v > 0 && v < 100)).toBe(true);
    expect(values![values!.length - 1]).toBe(100);
    expect(values).toEqual([...values!].sort((a, b) => a - b));
    expect(await card.locator("progress").getAttribute("value")).toBe("100");
  });

  it("the operations page lists the services and replays a dead letter with the token", async () => {
    // A request for a commit that does not exist: dead-lettered at once as permanent.
    p.client.newSha({ repo: repo.dir, sha: "0123456789abcdef0123456789abcdef01234567" });
    const [parked] = await waitFor("the dead letter", async () => {
      const l = await p.cluster.farm.dlq.list({ subject: "repo.request" });
      return l.length > 0 ? l : undefined;
    });
    const page = await open("/ops");
    expect(await page.locator("table.grid").first().innerText()).toMatch(/aggregator[\s\S]*ingest[\s\S]*linter-runner[\s\S]*splitter/);
    expect(await page.getByText("REPOS").count()).toBeGreaterThan(0);
    const row = page.locator(`#dlq-${parked.seq}`);
    expect(await row.innerText()).toContain("is not in");
    await browser.screenshot(page, "operations");

    // Without the token (a cross-site form could not know it): refused, nothing replayed.
    const refused = await fetch(url("/ops/replay"), { method: "POST", body: new URLSearchParams({ seq: String(parked.seq) }), redirect: "manual" });
    expect(refused.status).toBe(403);
    const wrong = await fetch(url("/ops/replay"), {
      method: "POST",
      body: new URLSearchParams({ seq: String(parked.seq), token: "nope" }),
      redirect: "manual",
    });
    expect(wrong.status).toBe(403);
    expect((await p.cluster.farm.dlq.list()).map((d) => d.seq)).toContain(parked.seq);

    await row.locator("input[name=token]").fill(TOKEN);
    await row.locator("button").click();
    await page.waitForURL(/replayed=1/);
    expect(await page.locator(".notice-ok").innerText()).toBe("Replayed 1 dead letter.");
    expect(await page.locator(`#dlq-${parked.seq}`).count()).toBe(0);
    expect((await p.cluster.farm.dlq.list()).map((d) => d.seq)).not.toContain(parked.seq);
  });

  it("sends its security headers and serves uPlot from this machine", async () => {
    const res = await fetch(url("/"));
    expect(res.headers.get("content-security-policy")).toMatch(/default-src 'self'/);
    expect(res.headers.get("content-security-policy")).not.toMatch(/unsafe-inline/);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const uplot = await fetch(url("/vendor/uPlot.iife.min.js"));
    expect(uplot.status).toBe(200);
    expect(await uplot.text()).toContain("uPlot");
    expect((await fetch(url("/assets/../../package.json"))).status).toBe(404);
  });
});

describe("bound beyond loopback", () => {
  it("refuses to start without a token unless public", async () => {
    const ctx = { farm: p.cluster.farm, config: p.cluster.config, log: quietLog("web"), port: 0, host: "0.0.0.0" };
    await expect(startWeb(ctx)).rejects.toThrow(/FARM_WEB_TOKEN/);
    const publicWeb = await startWeb({ ...ctx, public: true });
    try {
      const port = new URL(publicWeb.url).port;
      expect((await fetch(`http://127.0.0.1:${port}/live`)).status).toBe(200);
      // Public reads, but operator actions still need the token.
      expect((await fetch(`http://127.0.0.1:${port}/ops/replay`, { method: "POST", body: "seq=all" })).status).toBe(403);
    } finally {
      await publicWeb.close();
    }
  });

  it("the badge: errors at the newest analysed commit, cached with an ETag; grey for an unknown repository, its name escaped", async () => {
    const res = await fetch(url(`/badge/${encodeURIComponent(repo.dir)}.svg`));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/svg+xml; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("public, max-age=60");
    // Other tests add commits: the newest analysed one is what the history says now.
    const newest = (await p.client.request("history.commits", { repo: repo.dir, limit: 1 })) as { commits: { summary: { errors: number } }[] };
    const errors = newest.commits[0].summary.errors;
    const svg = await res.text();
    expect(svg).toContain(`>${errors} ${errors === 1 ? "error" : "errors"}</text>`);
    const again = await fetch(url(`/badge/${encodeURIComponent(repo.dir)}.svg`), { headers: { "if-none-match": res.headers.get("etag")! } });
    expect(again.status).toBe(304);
    const hostile = `/tmp/<script>alert(1)</script>`;
    const unknown = await fetch(url(`/badge/${encodeURIComponent(hostile)}.svg`));
    expect(unknown.status).toBe(404);
    const body = await unknown.text();
    expect(body).toContain(">unknown</text>");
    expect(body).not.toContain("<script>");
    expect(body).toContain("&lt;script&gt;");
  });

  it("a branch's badge: the errors at the newest analysed commit of requests naming the branch; an unknown branch grey, a bad name refused", async () => {
    const branched = new TestRepo(path.join(p.work, "branched"));
    const topic = branched.commit("topic: an error", { "package.json": '{"name":"branched"}\n', "a.js": "module.exports = missing;\n" });
    const main = branched.commit("main: fixed", { "a.js": "module.exports = 1;\n" });
    for (const [sha, ref] of [
      [topic, "refs/heads/topic"],
      [main, "main"],
      [topic, "refs/tags/v1"],
    ]) {
      const before = p.client.events.length;
      p.client.newSha({ repo: branched.dir, sha, ref });
      // This repository's events only: a dead letter another test replayed may fail meanwhile.
      await waitFor(
        `${ref} analysed`,
        () => {
          const mine = p.client.events.slice(before).filter((e) => e.data.repo === branched.dir);
          const failed = mine.find((e) => e.subject === "repo.analysis.failed");
          if (failed) throw new Error(`analysis failed: ${JSON.stringify(failed.data)}`);
          return mine.some((e) => e.subject === "repo.analysis.completed" && e.data.sha === sha && e.data.requested === true) || undefined;
        },
        120_000,
      );
    }
    const badge = async (branch: string) => {
      const res = await fetch(url(`/badge/${encodeURIComponent(branched.dir)}.svg?${q({ branch })}`));
      return { status: res.status, svg: await res.text() };
    };
    expect(await badge("topic")).toMatchObject({ status: 200, svg: expect.stringContaining(">1 error</text>") as string });
    expect(await badge("main")).toMatchObject({ status: 200, svg: expect.stringContaining(">0 errors</text>") as string });
    // A tag is no branch: nothing was recorded as "v1".
    expect(await badge("v1")).toMatchObject({ status: 404, svg: expect.stringContaining(">unknown</text>") as string });
    expect((await badge("refs/heads/main")).status).toBe(400);
    expect((await badge("a..b")).status).toBe(400);
    // The same through the history API, where the badge reads it.
    const page = (await p.client.request("history.commits", { repo: branched.dir, branch: "topic", limit: 1 })) as { commits: { sha: string }[] };
    expect(page.commits.map((c) => c.sha)).toEqual([topic]);
  }, 240_000);

  it("read-only pages need the token: refused without it, open with it as bearer, query or cookie", async () => {
    const guarded = await startWeb({ farm: p.cluster.farm, config: p.cluster.config, log: quietLog("web"), port: 0, host: "0.0.0.0", token: TOKEN });
    try {
      const base = `http://127.0.0.1:${new URL(guarded.url).port}`;
      for (const rel of ["/", "/live", "/ops", `/repo?${q({ repo: repo.dir })}`, "/events", `/badge/${encodeURIComponent(repo.dir)}.svg`])
        expect((await fetch(base + rel)).status, rel).toBe(401);
      expect((await fetch(`${base}/?token=wrong`)).status).toBe(401);
      expect((await fetch(`${base}/`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
      const page = await browser.page();
      const refused = await page.goto(`${base}/`);
      expect(refused?.status()).toBe(401);
      expect(await page.locator("h1").innerText()).toBe("Token required");
      await browser.screenshot(page, "token-required");
      // ?token= once, then the cookie it set carries on.
      expect((await page.goto(`${base}/?token=${TOKEN}`))?.status()).toBe(200);
      expect((await page.goto(`${base}/ops`))?.status()).toBe(200);
      expect(await page.locator("h1").innerText()).toBe("Operations");
    } finally {
      await guarded.close();
    }
  });
});

describe("as deploy/nats/auth.conf's web user, beside the services as theirs", () => {
  it("a GitHub push with a good signature queues its analysis; a bad or missing one is refused and queues nothing", async () => {
    const secret = "github-webhook-secret";
    const hooked = await startWeb({
      farm: p.cluster.farm,
      config: { ...p.cluster.config, webhookSecret: secret },
      log: quietLog("web"),
      port: 0,
      host: "127.0.0.1",
      token: TOKEN,
    });
    p.onClose(() => hooked.close());
    const queued = async () => (await p.cluster.farm.jsm.streams.info("REPOS")).state.last_seq;
    const body = JSON.stringify({ ref: "refs/heads/main", after: repo.head(), repository: { clone_url: repo.dir }, commits: [{ id: repo.head() }] });
    const push = (signature?: string) =>
      fetch(new URL("/hooks/github", hooked.url), {
        method: "POST",
        headers: { "content-type": "application/json", "x-github-event": "push", ...(signature ? { "x-hub-signature-256": signature } : {}) },
        body,
      });
    const before = await queued();
    expect((await push(githubSignature("not the secret", body))).status).toBe(401);
    expect((await push()).status).toBe(401);
    expect(await queued()).toBe(before);
    const events = p.client.events.length;
    const good = await push(githubSignature(secret, body));
    expect(good.status).toBe(202);
    // Queued: the request, then (once admitted) its copy on repo.request, in the same stream.
    expect(await queued()).toBeGreaterThan(before);
    // The push's commit is analysed (again: every result is cached) and completes.
    await p.client.completed([repo.head()], 60_000, { after: events, requested: true });
  });

  it("serves every page, the event stream, a replay and a webhook with the least permissions it has", async () => {
    const { server, passwords } = await startAuthServer(path.join(p.work, "auth-nats"));
    const running: RunningService[] = [];
    p.onClose(async () => {
      for (const s of running.reverse()) await s.close().catch(() => {});
      await server.dispose();
    });
    const dataDir = path.join(p.work, "auth-data");
    for (const name of SERVICE_NAMES)
      running.push(await startService(name, server.url, { user: name, password: passwords[name], inboxPrefix: inboxOf(name) }, { dataDir }));
    // What `farm service web` does: connect as web, create nothing, serve.
    const farm = await connectPipeline({
      servers: server.url,
      user: "web",
      password: passwords.web,
      inboxPrefix: "_INBOX_web",
      ensureTopology: false,
      log: quietLog("web"),
    });
    const errors = collectErrors(farm.nc);
    const asWeb = await startWeb({ farm, config: p.cluster.config, log: quietLog("web"), port: 0, host: "127.0.0.1", token: TOKEN });
    p.onClose(async () => (await asWeb.close(), await farm.close()));
    const at = (rel: string) => new URL(rel, asWeb.url).toString();
    const completed = new Set<string>();
    farm.events.subscribe<{ sha: string; requested?: boolean }>(subjects.completed, (e) => void (e.requested && completed.add(e.sha)));
    await farm.nc.flush();

    // A webhook queues the analysis (repo.new_sha through JetStream, as the web user).
    const shas = makeRepo(path.join(p.work, "auth-repo"), 3);
    const repoDir = path.join(p.work, "auth-repo");
    const hook = await fetch(at("/hooks/push"), {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ repo: repoDir, sha: shas[2], history: 1 }),
    });
    expect(hook.status).toBe(202);
    await waitFor("the hook's analysis", () => completed.has(shas[1]) && completed.has(shas[2]), 90_000);

    const file = (await (await fetch(at(`/commit.json?${q({ repo: repoDir, sha: shas[2] })}`))).json()) as Report;
    const issuePath = file.files.find((f) => f.messages.length > 0)!.path;
    for (const rel of [
      "/",
      `/repo?${q({ repo: repoDir })}`,
      `/commit?${q({ repo: repoDir, sha: shas[2] })}`,
      `/commit.sarif?${q({ repo: repoDir, sha: shas[2] })}`,
      `/file?${q({ repo: repoDir, sha: shas[2], path: issuePath })}`,
      "/live",
      "/ops",
    ]) {
      const res = await fetch(at(rel));
      expect(res.status, `${rel}: ${res.status === 200 ? "" : await res.text()}`).toBe(200);
    }
    expect(await (await fetch(at("/"))).text()).toContain("auth-repo");
    // Every service's presence answered the web user, and it read each consumer's depth.
    expect(await (await fetch(at("/ops"))).text()).toMatch(/aggregator[\s\S]*ingest[\s\S]*linter-runner[\s\S]*splitter[\s\S]*lint_batch/);
    const events = await fetch(at("/events"));
    expect(events.headers.get("content-type")).toMatch(/text\/event-stream/);
    await events.body?.cancel();

    // A dead letter, read and replayed by the web user.
    await farm.js.publish(subjects.newSha, JSON.stringify({ repo: repoDir, sha: "0123456789abcdef0123456789abcdef01234567" }));
    const [parked] = await waitFor("the dead letter", async () => {
      const l = await farm.dlq.list({ subject: subjects.analysisRequest });
      return l.length > 0 ? l : undefined;
    });
    expect(await (await fetch(at("/ops"))).text()).toContain(`id="dlq-${parked.seq}"`);
    const replay = await fetch(at("/ops/replay"), {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}` },
      body: new URLSearchParams({ seq: String(parked.seq) }),
      redirect: "manual",
    });
    expect(replay.status).toBe(303);
    expect((await farm.dlq.list()).map((d) => d.seq)).not.toContain(parked.seq);
    // Nothing it did was refused by the server; what it may not do, it cannot.
    expect(errors).toEqual([]);
    await expect(farm.jsm.streams.add({ name: "WEB_MAY_NOT", subjects: ["web.may.not"] })).rejects.toThrow();
    await expect(farm.jsm.streams.purge("REPOS")).rejects.toThrow();
  }, 180_000);
});
