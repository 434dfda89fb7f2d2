/**
 * The reporter as its own process (`farm service reporter`, as its container
 * runs it), SIGKILLed in the middle of an event: between two pages of
 * annotations, with the second page's request on its way to GitHub and not
 * yet recorded in farm-state. The event comes back (once its ack wait is
 * over) to a new reporter process, which carries on from GitHub's annotation
 * count: one check run, every annotation posted exactly once, the gate's
 * conclusion. The pipeline's services run in-process; GitHub is the local
 * HTTPS server that checks every request against its OpenAPI description.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Kvm } from "@nats-io/kv";
import { afterAll, beforeAll, expect, test } from "vitest";
import { decode } from "../../../shared/fabric/codec.js";
import { repoKey } from "../../../shared/git/index.js";
import { buckets, kvKeys } from "../../../shared/pipeline/names.js";
import { SERVICE_NAMES } from "../../../services/index.js";
import type { CheckState } from "../../../services/reporter/state.js";
import { killChildren, spawnService, type Child } from "../../harness/children.js";
import { GitHubApi, type CheckRun, type Recorded } from "../../harness/github-api.js";
import { serveHostFromDisk, TestRepo } from "../../harness/git.js";
import { closePipelines, startPipeline } from "../../harness/pipeline.js";
import { waitFor } from "../../harness/wait.js";

const TOKEN = "ghp_reporterKillTestToken0123456789";
/** New errors in the pushed commit: three pages of annotations (50, 50, 30). */
const ISSUES = 130;
/** How late GitHub answers the first two pages: the kill lands while the second is on its way. */
const SLOW_PAGE_MS = 5000;

const dir = mkdtempSync(path.join(os.tmpdir(), "farm-reporter-kill-"));
let hosted: string;
let restore: () => void;
let api: GitHubApi;

beforeAll(async () => {
  api = await GitHubApi.start(dir);
  ({ hosted, restore } = serveHostFromDisk(dir, "github.com"));
});

afterAll(async () => {
  await closePipelines();
  await killChildren();
  restore();
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The annotations a check-run update carries (none for the one that completes it). */
const annotationsIn = (r: Recorded): Record<string, unknown>[] =>
  (r.body as { output?: { annotations?: Record<string, unknown>[] } }).output?.annotations ?? [];

test("a reporter process SIGKILLed between annotation pages is replaced: the check run completes, created once, every annotation posted exactly once", async () => {
  const p = await startPipeline({ prefix: "farm-reporter-kill-pipeline-", services: SERVICE_NAMES });
  const env = {
    FARM_DATA_DIR: path.join(dir, "reporter-data"),
    FARM_GITHUB_API_URL: api.url,
    FARM_GITHUB_HOST: "github.com",
    FARM_GITHUB_TOKEN: TOKEN,
    FARM_REPORTER_CA_FILE: api.caFile,
    FARM_WEB_URL: "https://farm.example.com/",
  };
  const reporter = async (): Promise<Child> => {
    const child = spawnService("reporter", p.server.url, env);
    // Its durable consumer exists once it is ready: it sees every event published after.
    await child.line(/"msg":"service ready"/, { stream: "stderr", timeout: 60_000 });
    return child;
  };
  const first = await reporter();

  const repo = new TestRepo(path.join(hosted, "acme", "app"));
  repo.commit("clean", { "package.json": '{"name":"app"}\n', "src/ok.js": "module.exports = 1;\n" });
  const head = repo.commit("add issues", { "src/bad.js": "debugger;\n".repeat(ISSUES) + "module.exports = 2;\n" });
  const url = "https://github.com/acme/app";
  const runOf = (): CheckRun | undefined => api.checkRuns.find((c) => c.head_sha === head);
  const pagesSent = () => api.of("checks/update").filter((r) => annotationsIn(r).length > 0);

  // The first two pages are answered late; the reporter sends the second only once the first is answered.
  api.delay("checks/update", SLOW_PAGE_MS, 2);
  p.client.newSha({ repo: url, sha: head, history: 1 });
  await waitFor("the second page of annotations on its way", () => pagesSent().length >= 2, 120_000, 10).catch((err: Error) => {
    throw new Error(`${err.message}\nfirst reporter's output:\n${first.output()}`);
  });
  first.proc.kill("SIGKILL");
  // What GitHub had when the process died: the first page, the run still in progress.
  const atKill = { status: runOf()?.status, annotations: runOf()?.annotations.length, pages: pagesSent().length };
  expect(await first.exited).toBe("SIGKILL");
  expect(atKill).toEqual({ status: "in_progress", annotations: 50, pages: 2 });

  // The second page lands after the kill; farm-state still says one page: GitHub knows more than the record.
  await waitFor("the page in flight answered", () => pagesSent()[1].status !== 0, 60_000, 50);
  expect(runOf()!.annotations).toHaveLength(100);
  const kv = await new Kvm(p.client.nc).open(buckets.state);
  const entry = await kv.get(kvKeys.reporterCheck(repoKey(url), head));
  expect(decode<CheckState>(entry!.value)).toMatchObject({ phase: "open", id: runOf()!.id, pages: 1 });

  // A new reporter process gets the event back once its ack wait is over, and finishes it.
  const second = await reporter();
  const run = await waitFor("the check run completed", () => (runOf()?.status === "completed" ? runOf() : undefined), 180_000, 100).catch((err: Error) => {
    throw new Error(`${err.message}\nsecond reporter's output:\n${second.output()}`);
  });

  expect(api.of("checks/create").filter((r) => (r.body as { head_sha: string }).head_sha === head)).toHaveLength(1);
  expect(api.checkRuns.filter((c) => c.head_sha === head)).toHaveLength(1);
  expect(run.conclusion).toBe("failure");
  // Every annotation once: across all the updates sent, and on the check run GitHub keeps.
  const sent = api
    .of("checks/update")
    .filter((r) => r.params.check_run_id === String(run.id))
    .flatMap(annotationsIn);
  const lines = (list: Record<string, unknown>[]) => list.map((a) => `${String(a.path)}:${String(a.start_line)}`);
  expect(sent).toHaveLength(ISSUES);
  expect(new Set(lines(sent)).size).toBe(ISSUES);
  expect(run.annotations).toHaveLength(ISSUES);
  expect(lines(run.annotations).sort()).toEqual(Array.from({ length: ISSUES }, (_, i) => `src/bad.js:${i + 1}`).sort());
  expect(pagesSent().map((r) => annotationsIn(r).length)).toEqual([50, 50, 30]);
  expect(api.violations).toEqual([]);
  expect(first.output() + second.output()).not.toContain(TOKEN);
}, 300_000);
