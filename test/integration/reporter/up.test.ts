/**
 * End to end, as a team would run it: `farm up --web --reporter` as its own
 * process, a signed GitHub push webhook to its web app, and the check run on
 * the pushed commit at a local HTTPS server that validates every request
 * against GitHub's OpenAPI description.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { githubSignature } from "../../../services/web/hooks.js";
import { FarmCli, killChildren } from "../../harness/cli.js";
import { gitEnv, TestRepo } from "../../harness/git.js";
import { GitHubApi } from "../../harness/github-api.js";
import { freePort } from "../../harness/nats-server.js";
import { waitFor } from "../../harness/wait.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "farm-reporter-up-"));
const hosted = path.join(dir, "github.com");
const TOKEN = "ghp_upTestToken";
const SECRET = "hook-secret";
let api: GitHubApi;

beforeAll(async () => {
  api = await GitHubApi.start(dir);
});

afterAll(async () => {
  await killChildren();
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

test("farm up --web --reporter: a GitHub push webhook ends in a completed check run on the pushed commit", async () => {
  // Where git finds https://github.com/acme/site.git once the url is rewritten.
  const repo = new TestRepo(path.join(hosted, "acme", "site.git"));
  repo.commit("first", { "package.json": '{"name":"site"}\n', "index.js": "module.exports = 1;\n" });
  const head = repo.commit("second", { "index.js": "debugger;\nmodule.exports = 1;\n" });
  const cli = new FarmCli({
    cwd: dir,
    env: {
      ...gitEnv(dir),
      // The pushed repository's clone url, github.com, is read from the local copy.
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: `url.${hosted}/.insteadOf`,
      GIT_CONFIG_VALUE_0: "https://github.com/",
      FARM_DATA_DIR: path.join(dir, "data"),
      FARM_WEB_PORT: "0",
      FARM_WEBHOOK_SECRET: SECRET,
      FARM_GITHUB_API_URL: api.url,
      FARM_GITHUB_TOKEN: TOKEN,
      FARM_REPORTER_CA_FILE: api.caFile,
      FARM_WEB_URL: "https://farm.example.com",
      FARM_TOOLCHAINS: "off",
    },
  });
  const up = cli.spawn(["up", "--web", "--reporter", "--port", String(await freePort())]);
  const ready = JSON.parse(await up.line(/"msg":"farm ready"/, { timeout: 60_000 })) as { web: string; services: string[] };
  expect(ready.services).toContain("reporter");

  const body = JSON.stringify({ ref: "refs/heads/main", after: head, repository: { clone_url: "https://github.com/acme/site.git" }, commits: [{ id: head }] });
  const res = await fetch(new URL("/hooks/github", ready.web), {
    method: "POST",
    headers: { "content-type": "application/json", "x-github-event": "push", "x-hub-signature-256": githubSignature(SECRET, body) },
    body,
  });
  expect(res.status).toBe(202);

  const run = await waitFor("the check run completed", () => api.checkRuns.find((c) => c.head_sha === head && c.status === "completed"), 120_000, 200);
  expect(run).toMatchObject({ owner: "acme", repo: "site", name: "farm", conclusion: "failure" });
  expect(run.annotations).toEqual([expect.objectContaining({ path: "index.js", start_line: 1, title: "eslint/no-debugger" })]);
  expect(api.violations).toEqual([]);
  expect(await up.stop("SIGTERM")).toBe(0);
  expect(up.output()).not.toContain(TOKEN);
}, 180_000);
