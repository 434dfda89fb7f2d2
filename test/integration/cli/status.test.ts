/**
 * `farm status` against a real farm: a nats-server, the four services
 * in-process (linter-runner and aggregator on connections of their own, so
 * each can be stopped), the real CLI as a child process. Healthy → exit 0;
 * a missing service, a fresh dead letter → exit 1 saying which; an analysis
 * held back mid-commit shows with its progress; --watch on a pipe.
 */
import path from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { FarmCli, type Run } from "../../harness/cli.js";
import { TestRepo } from "../../harness/git.js";
import { usePipeline, type Cluster } from "../../harness/pipeline.js";
import { waitFor } from "../../harness/wait.js";
import { FARM_VERSION } from "../../../shared/fabric/version.js";
import { tenantToken } from "../../../shared/fabric/fair.js";
import type { StatusSnapshot } from "../../../cli/commands/status.js";

const env = usePipeline({ prefix: "farm-status-", services: ["ingest", "splitter"] });
const PIPELINE = ["aggregator", "ingest", "linter-runner", "splitter"];

let cli: FarmCli;
let repo: TestRepo;
let linter: Cluster;
let aggregator: Cluster;
/** Two files, then a third: the second commit is the one held back. */
let first: string;
let second: string;

const farm = (args: string[]): Promise<Run> => cli.run([...args, "--nats", env.server.url]);

async function status(args: string[] = []): Promise<{ run: Run; s: StatusSnapshot }> {
  const run = await farm(["status", "--json", ...args]);
  expect(run.stderr, run.stderr).not.toMatch(/at .*\.ts:/);
  return { run, s: JSON.parse(run.stdout) as StatusSnapshot };
}

beforeAll(async () => {
  cli = new FarmCli({ cwd: env.work, env: { FARM_DATA_DIR: path.join(env.work, "cli-data") } });
  linter = await env.startCluster(["linter-runner"]);
  aggregator = await env.startCluster(["aggregator"]);
  repo = new TestRepo(path.join(env.work, "repo"));
  first = repo.commit("two files", { "a.js": "module.exports = 1;\n", "b.js": "var unused = 2;\n" });
  second = repo.commit("a third", { "c.js": "module.exports = undefinedThing;\n" });
});

describe("farm status", () => {
  test("a healthy farm: exit 0, the four services with version and uptime, a finished analysis not in flight", async () => {
    env.client.newSha({ repo: repo.dir, sha: first });
    await env.client.completed([first]);

    const { run, s } = await status();
    expect(run.code, run.stderr).toBe(0);
    expect(s).toMatchObject({ nats: env.server.url, healthy: true, problems: [], dlq: { messages: 0, storedSince: 0 } });
    expect(s.services.map((x) => [x.name, x.expected, x.instances, x.versions])).toEqual(
      ["ingest", "splitter", "linter-runner", "aggregator"].map((n) => [n, true, 1, [FARM_VERSION]]),
    );
    expect(s.instances.map((i) => i.service)).toEqual(PIPELINE);
    for (const i of s.instances) {
      expect(i).toMatchObject({ version: FARM_VERSION, pid: process.pid, id: expect.any(String), startedAt: expect.any(String) });
      expect(i.uptimeSeconds).toBeGreaterThanOrEqual(0);
    }
    // One id per instance: the two services sharing a process are told apart.
    expect(new Set(s.instances.map((i) => i.id)).size).toBe(4);
    expect(s.streams.map((x) => x.stream)).toEqual(expect.arrayContaining(["REPOS", "COMMITS", "LINT", "RESULTS"]));
    const lint = s.streams.find((x) => x.stream === "LINT")!;
    // lint.batch is shared out by lane and tenant: one consumer per flow, all drained.
    expect(lint.consumers.length).toBeGreaterThan(0);
    for (const c of lint.consumers)
      expect(c).toEqual({ name: expect.stringMatching(/^lint_batch_[ib]_/) as string, pending: 0, ackPending: 0, redelivered: 0 });
    expect(s.analyses.inFlight).toEqual([]);

    const text = await farm(["status"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^health: ok$/m);
    expect(text.stdout).toMatch(new RegExp(`^linter-runner +${FARM_VERSION.replaceAll(".", "\\.")} +\\S+ +\\S+ +${process.pid} +\\S+$`, "m"));
    expect(text.stdout).toMatch(/^analyses in flight .*: 0$/m);
  });

  test("--expect names a service that must be up too; an unknown one is a usage error", async () => {
    const web = await farm(["status", "--expect", "web"]);
    expect(web.code).toBe(1);
    expect(web.stderr).toMatch(/^farm status: unhealthy: no live instance of web$/m);
    expect(web.stdout).toMatch(/^web +NO LIVE INSTANCE$/m);
    const bad = await farm(["status", "--expect", "nope"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--expect must be one of ingest, splitter, linter-runner, aggregator, web, reporter, got "nope"/);
  });

  test("--watch on a pipe: a snapshot per interval (NDJSON with --json, text otherwise), SIGTERM ends it with exit 0", async () => {
    const json = cli.spawn(["status", "--watch", "--json", "--interval", "0.5", "--nats", env.server.url]);
    await waitFor("two NDJSON snapshots", () => json.stdout().split("\n").length > 2, 30_000);
    expect(await json.stop("SIGTERM")).toBe(0);
    const lines = json.stdout().trim().split("\n");
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines) expect(JSON.parse(l)).toMatchObject({ healthy: true, services: expect.any(Array) });
    // No terminal: no escape sequences.
    expect(json.stdout()).not.toContain("\x1b");

    const text = cli.spawn(["status", "--watch", "--interval", "0.5", "--nats", env.server.url]);
    await waitFor("two text snapshots", () => text.stdout().match(/^health: ok$/gm)?.length === 2, 30_000);
    expect(await text.stop("SIGTERM")).toBe(0);
    expect(text.stdout()).not.toContain("\x1b");
  });

  test("a service with no live instance: exit 1 naming it; the analysis it holds back shows in flight with its progress", async () => {
    // No linter-runner: the new file is never linted. A fresh aggregator has seen no result yet, so
    // it finds the two cached ones and announces progress, then waits for the third.
    await linter.close();
    await aggregator.close();
    aggregator = await env.startCluster(["aggregator"]);
    env.client.newSha({ repo: repo.dir, sha: second });

    const { run, s } = await waitFor(
      "the held-back analysis with progress",
      async () => {
        const r = await status();
        return r.s.analyses.inFlight.some((a) => a.sha === second && (a.progress?.done ?? 0) > 0) ? r : undefined;
      },
      60_000,
      250,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^farm status: unhealthy: no live instance of linter-runner$/m);
    expect(s.healthy).toBe(false);
    expect(s.problems).toEqual([{ kind: "missing-service", service: "linter-runner", message: "no live instance of linter-runner" }]);
    expect(s.services.find((x) => x.name === "linter-runner")).toMatchObject({ expected: true, instances: 0, versions: [] });
    expect(s.instances.map((i) => i.service)).toEqual(["aggregator", "ingest", "splitter"]);

    expect(s.analyses.inFlight).toHaveLength(1);
    const [a] = s.analyses.inFlight;
    expect(a).toMatchObject({ repo: repo.dir, sha: second, commits: { done: 0, total: 1 }, progress: { sha: second, total: 3 } });
    expect(a.progress!.done).toBeGreaterThanOrEqual(1);
    expect(a.progress!.done).toBeLessThan(3);
    // Its batch waits in LINT for a linter-runner.
    expect(s.streams.find((x) => x.stream === "LINT")!.consumers[0].pending).toBeGreaterThanOrEqual(1);
    // ... in its lane (one commit: interactive) and under its tenant (the repository's owner: here its parent directory).
    const waiting = s.lanes.filter((f) => f.subject === "lint.batch");
    expect(waiting).toEqual([{ subject: "lint.batch", lane: "interactive", tenant: tenantToken(path.dirname(repo.dir)), messages: 1 }]);

    const text = await farm(["status"]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^health: FAILING: no live instance of linter-runner$/m);
    expect(text.stdout).toMatch(new RegExp(`^  lint\\.batch +interactive +${tenantToken(path.dirname(repo.dir))} +1$`, "m"));
    expect(text.stdout).toContain(`${second.slice(0, 10)}  commits 0/1  ${second.slice(0, 10)} ${a.progress!.done}/3 files`);
  });

  test("the linter-runner back: the analysis finishes and leaves the list; a fresh dead letter: exit 1 with the count", async () => {
    linter = await env.startCluster(["linter-runner"]);
    await env.client.completed([second]);
    const healthy = await status();
    expect(healthy.run.code, healthy.run.stderr).toBe(0);
    expect(healthy.s.analyses.inFlight).toEqual([]);

    // Not JSON: ingest fails it for good and parks it in the DLQ.
    const failedBefore = env.client.of("failed").length;
    env.client.publish("repo.new_sha", '{"repo": ');
    await waitFor("the bad request's failed event", () => env.client.of("failed").length > failedBefore, 30_000);
    const { run, s } = await waitFor("the dead letter", async () => {
      const r = await status();
      return r.s.dlq.messages === 1 ? r : undefined;
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^farm status: unhealthy: 1 dead letter stored in the last 15m \(farm dlq ls\)$/m);
    expect(s.dlq).toMatchObject({ messages: 1, storedSince: 1 });
    expect(s.problems).toEqual([expect.objectContaining({ kind: "dead-letters", count: 1 })]);
    // The window reaches back 15 minutes.
    expect(Date.parse(s.time) - Date.parse(s.dlq.since)).toBe(15 * 60_000);

    // A watch that began after it: the DLQ has not grown since, so healthy.
    const watch = cli.spawn(["status", "--watch", "--json", "--interval", "0.5", "--nats", env.server.url]);
    await waitFor("a snapshot", () => watch.stdout().includes("\n"), 30_000);
    expect(await watch.stop("SIGTERM")).toBe(0);
    expect(JSON.parse(watch.stdout().split("\n")[0])).toMatchObject({ healthy: true, dlq: { messages: 1, storedSince: 0 } });
  });
});
