/**
 * The reporter through the real pipeline, against a local HTTPS server that
 * checks every request against GitHub's published OpenAPI description: a
 * push of a repository on github.com gets one check run, opened when its
 * analysis starts and completed with the gate's conclusion, its summary and
 * the new issues as annotations (paged by 50); a 403 dead-letters the event,
 * a 502 is retried and posts once; as a GitHub App its installation token is
 * refreshed when it expires; no credential reaches a log line.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../../shared/fabric/logger.js";
import { SERVICE_NAMES } from "../../../services/index.js";
import type { FarmConfig } from "../../../shared/runtime/config.js";
import { GitHubApi, type CheckRun } from "../../harness/github-api.js";
import { serveHostFromDisk, TestRepo } from "../../harness/git.js";
import { closePipelines, startPipeline, type Pipeline } from "../../harness/pipeline.js";
import { waitFor } from "../../harness/wait.js";

const TOKEN = "ghp_reporterTestToken0123456789";
const dir = mkdtempSync(path.join(os.tmpdir(), "farm-reporter-"));
/** Clone urls of github.com are read from here: git rewrites them (url.<base>.insteadOf), as a mirror would. */
let hosted: string;
let restore: () => void;
let api: GitHubApi;
const logLines: string[] = [];

beforeAll(async () => {
  api = await GitHubApi.start(dir);
  ({ hosted, restore } = serveHostFromDisk(dir, "github.com"));
});

afterAll(async () => {
  restore();
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  await closePipelines();
  expect(api.violations).toEqual([]);
});

async function farmWithReporter(github: Partial<FarmConfig["github"]> = { token: TOKEN }): Promise<Pipeline> {
  const log = createLogger({ level: "debug", name: "reporter-test", destination: { write: (s: string) => void logLines.push(s) } });
  return startPipeline({
    prefix: "farm-reporter-pipeline-",
    services: [...SERVICE_NAMES, "reporter"],
    log,
    config: {
      github: { apiUrl: api.url, host: "github.com", ...github },
      reporterCaFile: api.caFile,
      webUrl: "https://farm.example.com/",
    },
  });
}

let repos = 0;
/** A repository of github.com/acme: a clean first commit, then one with `issues` new errors in src/bad.js. */
function pushedRepo(issues: number): { url: string; repo: TestRepo } {
  const name = `app${repos++}`;
  const repo = new TestRepo(path.join(hosted, "acme", name));
  // Its own name in it: each test's commits have their own shas.
  repo.commit("clean", { "package.json": `{"name":"${name}"}\n`, "src/ok.js": "module.exports = 1;\n" });
  const body = "debugger;\n".repeat(issues) + "module.exports = 2;\n";
  repo.commit("add issues", { "src/bad.js": body });
  return { url: `https://github.com/acme/${name}`, repo };
}

const runOf = (sha: string): CheckRun | undefined => api.checkRuns.find((c) => c.head_sha === sha);
const completedRun = (sha: string, timeout = 120_000) =>
  waitFor(`the check run of ${sha.slice(0, 8)} completed`, () => (runOf(sha)?.status === "completed" ? runOf(sha) : undefined), timeout, 100);

describe("reporter: GitHub check runs", () => {
  it("a push gets one check run: in progress, then completed by the gate with a summary and its new issues as annotations", async () => {
    const p = await farmWithReporter();
    const { url, repo } = pushedRepo(2);
    p.client.newSha({ repo: url, sha: repo.head(), history: 1 });
    const run = await completedRun(repo.head());
    expect(api.checkRuns.filter((c) => c.head_sha === repo.head())).toHaveLength(1);
    expect(run).toMatchObject({ owner: "acme", name: "farm", conclusion: "failure", external_id: expect.stringContaining(repo.head()) as string });
    expect(run.details_url).toBe(`https://farm.example.com/commit?repo=${encodeURIComponent(url)}&sha=${repo.head()}`);
    expect(run.output.title).toBe("2 new errors");
    expect(run.output.summary).toMatch(/\*\*2\*\* new \(2 errors\), \*\*0\*\* fixed/);
    expect(run.output.summary).toContain("| no\\-debugger | 2 |");
    expect(run.annotations).toEqual(
      [1, 2].map((line) =>
        expect.objectContaining({ path: "src/bad.js", start_line: line, end_line: line, annotation_level: "failure", title: "eslint/no-debugger" }),
      ),
    );
    // Opened as in progress when the analysis started, then updated: one create.
    const creates = api.of("checks/create").filter((r) => (r.body as { head_sha: string }).head_sha === repo.head());
    expect(creates).toHaveLength(1);
    expect(creates[0].body).toMatchObject({ status: "in_progress" });
    expect(creates[0].authorization).toBe(`token ${TOKEN}`);
  }, 180_000);

  it("a gate the repository's .farm.json sets wins over the operator's; a wrong one is a note and the operator's applies", async () => {
    const p = await farmWithReporter();
    const { url, repo } = pushedRepo(2);
    // The operator's gate (new-errors) would fail this commit: its own gate lets it pass, and says whose it is.
    const lenient = repo.commit("gate none", { ".farm.json": '{"gate": "none"}\n', "src/more.js": "debugger;\n" });
    p.client.newSha({ repo: url, sha: lenient, history: 1 });
    const run = await completedRun(lenient);
    expect(run.conclusion).toBe("success");
    expect(run.output.summary).toContain("Quality gate (set by the repository's .farm.json): never fails (success).");
    expect(run.annotations).toHaveLength(1);
    const report = await p.client.report(url, lenient);
    expect(report.gate).toBe("none");

    const wrong = repo.commit("gate wrong", { ".farm.json": '{"gate": "sometimes"}\n', "src/worse.js": "debugger;\nmodule.exports = 3;\n" });
    p.client.newSha({ repo: url, sha: wrong, history: 1 });
    const strict = await completedRun(wrong);
    expect(strict.conclusion).toBe("failure");
    expect(strict.output.summary).toContain("Quality gate: fails on new errors (failure).");
    // The note, escaped as Markdown like everything the repository supplies.
    expect(strict.output.summary).toContain(
      '- .farm.json: "gate" must be one of "new\\-errors", "errors", "none" \\(got "sometimes"\\); the operator\'s gate applies',
    );
  }, 180_000);

  it("more than 50 new issues: annotations go 50 per request, every one posted once", async () => {
    const p = await farmWithReporter();
    const { url, repo } = pushedRepo(120);
    p.client.newSha({ repo: url, sha: repo.head(), history: 1 });
    const run = await completedRun(repo.head());
    expect(run.annotations).toHaveLength(120);
    expect(new Set(run.annotations.map((a) => a.start_line)).size).toBe(120);
    const updates = api.of("checks/update").filter((r) => r.params.check_run_id === String(run.id));
    const sizes = updates.map((u) => ((u.body as { output?: { annotations?: unknown[] } }).output?.annotations ?? []).length);
    expect(sizes.filter((n) => n > 0)).toEqual([50, 50, 20]);
  }, 180_000);

  it("a 403 is permanent: the event is dead-lettered with the reason, nothing else is posted for it", async () => {
    const p = await farmWithReporter();
    const { url, repo } = pushedRepo(1);
    api.fail("checks/create", 403, {}, 1);
    const before = api.requests.length;
    p.client.newSha({ repo: url, sha: repo.head() });
    const [parked] = await waitFor("the dead letter", async () => {
      const l = (await p.cluster.farm.dlq.list()).filter((d) => d.stream === "EVENTS");
      return l.length > 0 ? l : undefined;
    });
    expect(parked.reason).toMatch(/GitHub answered 403 to POST \/repos\/acme\/app\d+\/check-runs/);
    expect(parked.kind).toBe("permanent");
    await p.client.completed([repo.head()], 60_000, { requested: true });
    // The completion finds no check run of its request: nothing more goes to GitHub for this commit.
    await new Promise((r) => setTimeout(r, 1000));
    expect(api.requests.slice(before).map((r) => r.operationId)).toEqual(["checks/create"]);
    expect(runOf(repo.head())).toBeUndefined();
  }, 180_000);

  it("a 502 is retried: the check run completes, created once", async () => {
    const p = await farmWithReporter();
    const { url, repo } = pushedRepo(1);
    api.fail("checks/update", 502, {}, 1);
    p.client.newSha({ repo: url, sha: repo.head() });
    const run = await completedRun(repo.head());
    expect(run.conclusion).toBe("failure");
    expect(api.checkRuns.filter((c) => c.head_sha === repo.head())).toHaveLength(1);
    expect(api.of("checks/update").some((r) => r.status === 502)).toBe(true);
    expect(run.annotations).toHaveLength(1);
  }, 180_000);

  it("a rate limit (429 with Retry-After) waits as long as GitHub says, then posts", async () => {
    const p = await farmWithReporter();
    const { url, repo } = pushedRepo(1);
    api.fail("checks/create", 429, { "retry-after": "2" }, 1);
    p.client.newSha({ repo: url, sha: repo.head() });
    await completedRun(repo.head());
    const creates = api.of("checks/create").filter((r) => (r.body as { head_sha: string }).head_sha === repo.head());
    expect(creates.map((r) => r.status)).toEqual([429, 201]);
    expect(creates[1].at - creates[0].at).toBeGreaterThanOrEqual(1900);
  }, 180_000);

  it("as a GitHub App: the installation token is fetched with the App's JWT and refreshed once it expires", async () => {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const keyFile = path.join(dir, "app-key.pem");
    writeFileSync(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }));
    api.acceptApp("4242", publicKey.export({ type: "spki", format: "pem" }) as string, 77, 4000);
    try {
      const p = await farmWithReporter({ appId: "4242", appKeyFile: keyFile });
      const first = pushedRepo(1);
      p.client.newSha({ repo: first.url, sha: first.repo.head() });
      await completedRun(first.repo.head());
      const tokens = api.tokens.length;
      expect(tokens).toBeGreaterThanOrEqual(1);
      // Past the token's lifetime: the next push needs a new one, and gets it before any request fails.
      await new Promise((r) => setTimeout(r, 4500));
      const second = pushedRepo(1);
      p.client.newSha({ repo: second.url, sha: second.repo.head() });
      await completedRun(second.repo.head());
      expect(api.tokens.length).toBeGreaterThan(tokens);
      expect(api.requests.filter((r) => r.status === 401)).toEqual([]);
      // The checks were posted with installation tokens, never the App's JWT.
      for (const r of [...api.of("checks/create"), ...api.of("checks/update")].slice(-4)) expect(r.authorization).toMatch(/^token ghs_/);
    } finally {
      api.forgetApp();
    }
  }, 180_000);

  it("a reporter closed mid-event hands it back; the next one carries on: every annotation posted once, one check run", async () => {
    const p = await farmWithReporter();
    const { url, repo } = pushedRepo(120);
    // The first page of annotations is answered late: the reporter closes while it waits.
    api.delay("checks/update", 2000, 1);
    const updatesBefore = api.of("checks/update").length;
    p.client.newSha({ repo: url, sha: repo.head(), history: 1 });
    await waitFor("the first page on its way", () => api.of("checks/update").length > updatesBefore, 120_000, 50);
    const first = p.cluster.services.find((s) => s.name === "reporter")!;
    await first.close();
    expect(runOf(repo.head())!.status).toBe("in_progress");
    await p.cluster.add(["reporter"]);
    const run = await completedRun(repo.head());
    expect(run.annotations).toHaveLength(120);
    expect(new Set(run.annotations.map((a) => a.start_line)).size).toBe(120);
    expect(api.checkRuns.filter((c) => c.head_sha === repo.head())).toHaveLength(1);
  }, 180_000);

  it("no log line holds the token", () => {
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.filter((l) => l.includes(TOKEN) || l.includes("ghs_"))).toEqual([]);
  });
});
