/**
 * The reporter on GitLab: a push of a repository on gitlab.com (a group's
 * subgroup included) gets a commit status, `running` when its analysis
 * starts and then the gate's `success` or `failed`, with the web app's url
 * and a short description; a refused status dead-letters the event. Against
 * a local HTTPS server that checks each request against the endpoint's
 * documented fields.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SERVICE_NAMES } from "../../../services/index.js";
import { GitLabApi } from "../../harness/gitlab-api.js";
import { serveHostFromDisk, TestRepo } from "../../harness/git.js";
import { closePipelines, startPipeline, type Pipeline } from "../../harness/pipeline.js";
import { waitFor } from "../../harness/wait.js";

const TOKEN = "glpat-reporterTest";
const dir = mkdtempSync(path.join(os.tmpdir(), "farm-reporter-gitlab-"));
let hosted: string;
let restore: () => void;
let api: GitLabApi;

beforeAll(async () => {
  api = await GitLabApi.start(dir, TOKEN);
  ({ hosted, restore } = serveHostFromDisk(dir, "gitlab.com"));
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

function farmWithReporter(): Promise<Pipeline> {
  return startPipeline({
    prefix: "farm-reporter-gitlab-",
    services: [...SERVICE_NAMES, "reporter"],
    config: { gitlab: { apiUrl: api.url, host: "gitlab.com", token: TOKEN }, reporterCaFile: api.caFile, webUrl: "https://farm.example.com/" },
  });
}

let n = 0;
function pushedRepo(issues: number): { url: string; repo: TestRepo } {
  const name = `svc${n++}`;
  const repo = new TestRepo(path.join(hosted, "platform", "backend", `${name}.git`));
  repo.commit("clean", { "package.json": `{"name":"${name}"}\n`, "a.js": "module.exports = 1;\n" });
  repo.commit("more", { "b.js": "debugger;\n".repeat(issues) + "module.exports = 2;\n" });
  return { url: `https://gitlab.com/platform/backend/${name}.git`, repo };
}

describe("reporter: GitLab commit statuses", () => {
  it("a push of a subgroup's project: running, then failed with the new errors, linking to the web app", async () => {
    const p = await farmWithReporter();
    const { url, repo } = pushedRepo(2);
    p.client.newSha({ repo: url, sha: repo.head(), history: 1 });
    const last = await waitFor(
      "the final status",
      () => (["success", "failed"].includes(api.latest(repo.head())?.state ?? "") ? api.latest(repo.head()) : undefined),
      120_000,
      100,
    );
    expect(last).toMatchObject({ project: "platform/backend/" + path.basename(url, ".git"), state: "failed", name: "farm", description: "2 new errors" });
    expect(last.target_url).toBe(`https://farm.example.com/commit?repo=${encodeURIComponent(url)}&sha=${repo.head()}`);
    expect(api.statuses.filter((s) => s.sha === repo.head()).map((s) => s.state)).toEqual(["running", "failed"]);
  }, 180_000);

  it("a clean push succeeds", async () => {
    const p = await farmWithReporter();
    const { url, repo } = pushedRepo(0);
    p.client.newSha({ repo: url, sha: repo.head(), history: 1 });
    const last = await waitFor("the final status", () => (api.latest(repo.head())?.state === "success" ? api.latest(repo.head()) : undefined), 120_000, 100);
    expect(last.description).toBe("0 new, 0 fixed");
  }, 180_000);

  it("a 403 is permanent: the event is dead-lettered, nothing else is sent for the commit", async () => {
    const p = await farmWithReporter();
    const { url, repo } = pushedRepo(1);
    api.fail(403);
    const before = api.requests.length;
    p.client.newSha({ repo: url, sha: repo.head() });
    const [parked] = await waitFor("the dead letter", async () => {
      const l = (await p.cluster.farm.dlq.list()).filter((d) => d.stream === "EVENTS");
      return l.length > 0 ? l : undefined;
    });
    expect(parked.reason).toMatch(/GitLab answered 403 to POST \/api\/v4\/projects\/platform%2Fbackend%2Fsvc\d+\/statuses\//);
    await p.client.completed([repo.head()], 60_000, { requested: true });
    await new Promise((r) => setTimeout(r, 1000));
    expect(api.requests.slice(before).map((r) => r.status)).toEqual([403]);
  }, 180_000);
});
