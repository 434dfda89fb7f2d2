/**
 * Prometheus metrics for real: a pipeline with FARM_METRICS_PORT on, Debian's
 * `prometheus` server scraping it on loopback, and farm's numbers (as
 * Prometheus's HTTP API answers them) against the work done, counted
 * independently (the repository's blobs by git, the batches by the LINT
 * stream, the commits by their events). Then /metrics read directly: every
 * metric's HELP and TYPE, a second analysis that hits the cache, a reconnect,
 * metrics off by default, and `farm up` serving the same on one port.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOperations } from "../../../services/operations.js";
import { loadConfig } from "../../../shared/runtime/config.js";
import { freePort } from "../../../shared/runtime/embedded.js";
import { metricsOf } from "../../../shared/pipeline/counts.js";
import { FarmCli } from "../../harness/cli.js";
import { quietLog } from "../../harness/farms.js";
import { TestRepo, git } from "../../harness/git.js";
import { testConfig, usePipeline, type AnalysisEvent } from "../../harness/pipeline.js";
import { waitFor } from "../../harness/wait.js";

const PROMETHEUS = "/usr/bin/prometheus";

/** Every farm metric the dashboard (deploy/) is written against. */
const FARM_METRICS = {
  farm_tasks_total: "counter",
  farm_tasks_redelivered_total: "counter",
  farm_tasks_dead_lettered_total: "counter",
  farm_task_duration_seconds: "histogram",
  farm_lint_file_duration_seconds: "histogram",
  farm_result_cache_hits_total: "counter",
  farm_result_cache_misses_total: "counter",
  farm_commits_analyzed_total: "counter",
  farm_files_linted_total: "counter",
  farm_stream_messages: "gauge",
  farm_consumer_pending_messages: "gauge",
  farm_consumer_ack_pending_messages: "gauge",
  farm_consumer_redelivered_messages: "gauge",
  farm_fair_messages: "gauge",
  farm_nats_reconnects_total: "counter",
} as const;

// ---- reading the exposition format ------------------------------------------------------

/** The sum of the samples of `name` whose labels include `labels` (undefined: no such sample). */
function sampleOf(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let sum: number | undefined;
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum = (sum ?? 0) + Number(m[3]);
  }
  return sum;
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
  return res.text();
}

// ---- a Prometheus server of the test's own ------------------------------------------------

interface Prometheus {
  url: string;
  proc: ChildProcess;
  output: () => string;
}

async function startPrometheus(dir: string, target: string): Promise<Prometheus> {
  if (!existsSync(PROMETHEUS)) throw new Error(`${PROMETHEUS} is missing: apt-get install -y prometheus (.ci/run installs it)`);
  mkdirSync(dir, { recursive: true });
  const config = path.join(dir, "prometheus.yml");
  writeFileSync(
    config,
    [
      "global:",
      "  scrape_interval: 1s",
      "  scrape_timeout: 1s",
      "  evaluation_interval: 1s",
      "scrape_configs:",
      "  - job_name: farm",
      "    static_configs:",
      `      - targets: ["${target}"]`,
      "",
    ].join("\n"),
  );
  const port = await freePort();
  const proc = spawn(
    PROMETHEUS,
    [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=warn"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    "prometheus to be ready",
    async () => {
      if (proc.exitCode !== null) throw new Error(`prometheus exited ${proc.exitCode}: ${out}`);
      return (await fetch(`${url}/-/ready`)).ok;
    },
    30_000,
    100,
  );
  return { url, proc, output: () => out };
}

async function stopPrometheus(p: Prometheus | undefined): Promise<void> {
  if (!p || p.proc.exitCode !== null || p.proc.signalCode !== null) return;
  const gone = new Promise((resolve) => p.proc.once("exit", resolve));
  p.proc.kill("SIGKILL");
  await gone;
}

interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** An instant query's vector. */
async function query(prom: Prometheus, q: string): Promise<PromSample[]> {
  const res = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = (await res.json()) as { status: string; error?: string; data: { resultType: string; result: PromSample[] } };
  if (body.status !== "success") throw new Error(`query ${q}: ${body.error}`);
  return body.data.result;
}

/** The one value of a query that sums to a scalar-like vector (`sum(...)`); undefined when Prometheus has no such series. */
async function valueOf(prom: Prometheus, q: string): Promise<number | undefined> {
  const r = await query(prom, q);
  if (r.length > 1) throw new Error(`query ${q} has ${r.length} series`);
  return r.length ? Number(r[0].value[1]) : undefined;
}

// ---- the repository and the run ---------------------------------------------------------

function buildRepo(dir: string): TestRepo {
  const repo = new TestRepo(dir);
  repo.commit("c1: three files", {
    "package.json": JSON.stringify({ name: "fixture", version: "1.0.0" }),
    "README.md": "# fixture\n",
    "src/a.js": "const a = 1;\nmodule.exports = a;\n",
    "src/b.js": "debugger;\nmodule.exports = 2;\n",
    "src/c.js": "function unused(x) {\n  return x;\n}\n",
  });
  repo.commit("c2: edit a", { "src/a.js": "const a = 2;\nmodule.exports = a;\n" });
  repo.commit("c3: add d, edit b", { "src/d.js": "console.log(undefinedThing);\n", "src/b.js": "module.exports = 3;\n" });
  return repo;
}

/** The JavaScript files of each commit, and the distinct blobs among them: what farm must lint once each. */
function jsFiles(repo: TestRepo): { versions: number; blobs: number } {
  const blobs = new Set<string>();
  let versions = 0;
  for (const sha of repo.shas) {
    for (const line of git(repo.dir, "ls-tree", "-r", sha).split("\n")) {
      const [meta, file] = line.split("\t");
      if (!file.endsWith(".js")) continue;
      versions++;
      blobs.add(meta.split(" ")[2]);
    }
  }
  return { versions, blobs: blobs.size };
}

const env = usePipeline({ prefix: "farm-metrics-", config: { metricsPort: 0 } });
let repo: TestRepo;
let metricsUrl: string;
let prom: Prometheus | undefined;
let firstRun: Map<string, AnalysisEvent>;

beforeAll(async () => {
  repo = buildRepo(path.join(env.work, "repo"));
  metricsUrl = env.cluster.operations.metricsUrl!;
  expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  prom = await startPrometheus(path.join(env.work, "prometheus"), new URL(metricsUrl).host);
  // Before the pipeline's own close (which removes the work dir Prometheus writes in).
  env.onClose(() => stopPrometheus(prom));
}, 60_000);

afterAll(() => stopPrometheus(prom));

describe("a real Prometheus scraping a pipeline", () => {
  it("has farm's numbers equal to the work done", async () => {
    const p = prom!;
    await waitFor("prometheus to scrape farm (up == 1)", async () => (await valueOf(p, 'up{job="farm"}')) === 1, 30_000, 200);

    env.client.newSha({ repo: repo.dir, sha: repo.shas[2], ref: "refs/heads/main", history: 2 });
    firstRun = await env.client.completed(repo.shas, 120_000);
    await env.client.settled();
    const settledAt = Date.now() / 1000;
    // A scrape that began after everything settled: every number below is final.
    await waitFor("a scrape after the analysis settled", async () => ((await valueOf(p, 'timestamp(up{job="farm"})')) ?? 0) > settledAt + 0.1, 30_000, 200);
    expect(p.proc.exitCode).toBeNull();
    expect(await valueOf(p, 'up{job="farm"}')).toBe(1);

    const { versions, blobs } = jsFiles(repo);
    const stats = [...firstRun.values()].map((e) => e.stats!);
    expect(stats.reduce((n, s) => n + s.files, 0)).toBe(versions);
    const jsm = await jetstreamManager(env.client.nc);
    const batches = (await jsm.streams.info("LINT")).state.last_seq;
    expect(batches).toBeGreaterThan(0);

    expect(await valueOf(p, "farm_commits_analyzed_total")).toBe(repo.shas.length);
    // Each distinct (blob, config) linted once; every other file version a cache hit.
    expect(await valueOf(p, "farm_files_linted_total")).toBe(blobs);
    expect(await valueOf(p, "farm_result_cache_misses_total")).toBe(blobs);
    expect(await valueOf(p, "farm_result_cache_hits_total")).toBe(versions - blobs);
    expect(await valueOf(p, "farm_lint_file_duration_seconds_count")).toBe(blobs);
    expect(await valueOf(p, 'sum(farm_tasks_total{subject="lint.batch",via="distribute",outcome="ok"})')).toBe(batches);
    expect(await valueOf(p, 'sum(farm_task_duration_seconds_count{subject="lint.batch"})')).toBe(batches);
    expect(await valueOf(p, 'sum(farm_tasks_total{subject="commit.manifest",outcome="ok"})')).toBe(repo.shas.length);
    expect(await valueOf(p, 'sum(farm_tasks_total{subject="results.commit_files",outcome="ok"})')).toBe(repo.shas.length);
    expect(await valueOf(p, 'sum(farm_tasks_total{subject="repo.new_sha",outcome="ok"})')).toBe(1);
    // Nothing failed, was redelivered or given up: those series were never created.
    expect(await valueOf(p, 'sum(farm_tasks_total{outcome="failed"})')).toBeUndefined();
    expect(await valueOf(p, "sum(farm_tasks_redelivered_total)")).toBeUndefined();
    expect(await valueOf(p, "sum(farm_tasks_dead_lettered_total)")).toBeUndefined();

    // The JetStream gauges, as the server tells them to any client.
    expect(await valueOf(p, 'farm_stream_messages{stream="LINT"}')).toBe(0);
    expect(await valueOf(p, 'farm_stream_messages{stream="EVENTS"}')).toBe((await jsm.streams.info("EVENTS")).state.messages);
    expect(await valueOf(p, 'farm_consumer_pending_messages{stream="REPOS",consumer="repo_new_sha"}')).toBe(0);
    expect(await valueOf(p, 'farm_consumer_ack_pending_messages{stream="REPOS",consumer="repo_new_sha"}')).toBe(0);
    expect(await valueOf(p, 'farm_consumer_redelivered_messages{stream="RESULTS",consumer="results_lint"}')).toBe(0);
    const consumers = await query(p, "farm_consumer_pending_messages");
    expect(consumers.map((s) => `${s.metric.stream}/${s.metric.consumer}`)).toEqual(expect.arrayContaining(["REPOS/repo_new_sha", "RESULTS/results_lint"]));
    // The fair stages (lint.batch, …) count what waits by lane and tenant: nothing, once the history is done.
    expect(await valueOf(p, "sum(farm_fair_messages)")).toBeUndefined();
    // prom-client's process metrics, under their standard names.
    expect(await valueOf(p, 'process_resident_memory_bytes{job="farm"}')).toBeGreaterThan(0);
  }, 180_000);
});

describe("/metrics read directly", () => {
  it("names every farm metric with its HELP and TYPE, and prom-client's process metrics", async () => {
    const text = await scrape(metricsUrl);
    for (const [name, type] of Object.entries(FARM_METRICS)) {
      expect(text, name).toMatch(new RegExp(`^# HELP ${name} \\S`, "m"));
      expect(text, name).toContain(`\n# TYPE ${name} ${type}\n`);
    }
    for (const name of ["process_cpu_seconds_total", "process_resident_memory_bytes", "nodejs_eventloop_lag_seconds"])
      expect(text, name).toContain(`\n# TYPE ${name} `);
    // Defaults keep their names: nothing of prom-client's is prefixed farm_.
    expect(text).not.toMatch(/^# TYPE farm_process_/m);
    const res = await fetch(metricsUrl);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    await res.text();
    const other = await fetch(new URL("/other", metricsUrl));
    expect(other.status).toBe(404);
    await other.text();
  });

  it("a second analysis of the same commits: more cache hits, no more files linted", async () => {
    const before = await scrape(metricsUrl);
    const after = env.client.events.length;
    env.client.newSha({ repo: repo.dir, sha: repo.shas[2], history: 2 });
    const again = await env.client.completed(repo.shas, 120_000, { after });
    await env.client.settled();
    const now = await scrape(metricsUrl);
    const delta = (name: string) => sampleOf(now, name)! - sampleOf(before, name)!;
    const files = [...again.values()].reduce((n, e) => n + e.stats!.files, 0);
    expect(files).toBe(jsFiles(repo).versions);
    expect(delta("farm_result_cache_hits_total")).toBe(files);
    expect(delta("farm_result_cache_misses_total")).toBe(0);
    expect(delta("farm_files_linted_total")).toBe(0);
    expect(delta("farm_commits_analyzed_total")).toBe(repo.shas.length);
    expect(sampleOf(now, "farm_tasks_total", { subject: "commit.manifest", outcome: "ok" })).toBe(2 * repo.shas.length);
  }, 180_000);

  it("a request that cannot be read: one failed task, dead-lettered at once", async () => {
    const before = await scrape(metricsUrl);
    const failed = env.client.of("failed").length;
    env.client.publish("repo.new_sha", '{"repo": ');
    await waitFor("repo.analysis.failed for the unreadable request", () => env.client.of("failed").length > failed, 20_000);
    const jsm = await jetstreamManager(env.client.nc);
    await waitFor("the request in the dead-letter stream", async () => (await jsm.streams.info("DLQ")).state.messages === 1, 20_000);
    const now = await waitFor("the dead letter counted", async () => {
      const text = await scrape(metricsUrl);
      return sampleOf(text, "farm_tasks_dead_lettered_total", { subject: "repo.new_sha" }) === 1 ? text : undefined;
    });
    const failedTasks = (text: string) => sampleOf(text, "farm_tasks_total", { subject: "repo.new_sha", outcome: "failed" }) ?? 0;
    expect(failedTasks(now) - failedTasks(before)).toBe(1);
    expect(sampleOf(now, "farm_tasks_total", { subject: "repo.new_sha", outcome: "ok" })).toBe(
      sampleOf(before, "farm_tasks_total", { subject: "repo.new_sha", outcome: "ok" }),
    );
    expect(sampleOf(now, "farm_stream_messages", { stream: "DLQ" })).toBe(1);
  }, 60_000);

  it("answers a scrape while the server is gone (no JetStream gauges), and counts the reconnect", async () => {
    const up = await scrape(metricsUrl);
    expect(sampleOf(up, "farm_nats_reconnects_total")).toBe(0);
    expect(sampleOf(up, "farm_stream_messages")).toBeDefined();
    await env.server.stop();
    // JetStream cannot answer: the scrape's time bound gives up on it, the rest is served.
    const down = await scrape(metricsUrl);
    expect(down).toContain("# TYPE farm_stream_messages gauge");
    expect(sampleOf(down, "farm_stream_messages")).toBeUndefined();
    expect(sampleOf(down, "farm_consumer_pending_messages")).toBeUndefined();
    expect(sampleOf(down, "farm_commits_analyzed_total")).toBe(sampleOf(up, "farm_commits_analyzed_total"));
    expect(sampleOf(down, "process_resident_memory_bytes")).toBeGreaterThan(0);
    await env.server.start();
    await waitFor(
      "farm_nats_reconnects_total to count the reconnect",
      async () => sampleOf(await scrape(metricsUrl), "farm_nats_reconnects_total") === 1,
      30_000,
      100,
    );
  }, 60_000);

  it("is off unless FARM_METRICS_PORT is set; 0 is any free port", async () => {
    expect(loadConfig({}).metricsPort).toBeUndefined();
    expect(loadConfig({ FARM_METRICS_PORT: "" }).metricsPort).toBeUndefined();
    expect(loadConfig({ FARM_METRICS_PORT: "0" }).metricsPort).toBe(0);
    expect(loadConfig({ FARM_METRICS_PORT: "9464", FARM_METRICS_HOST: "0.0.0.0" })).toMatchObject({ metricsPort: 9464, metricsHost: "0.0.0.0" });
    expect(loadConfig({}).metricsHost).toBe("127.0.0.1");
    expect(() => loadConfig({ FARM_METRICS_PORT: "http" })).toThrow(/FARM_METRICS_PORT/);
    expect(() => loadConfig({ FARM_METRICS_PORT: "70000" })).toThrow(/FARM_METRICS_PORT/);

    const off = await startOperations({ farm: env.cluster.farm, config: testConfig(env.dataDir), log: quietLog("metrics-off") });
    expect(off.metricsUrl).toBeUndefined();
    expect(off.metrics).toBeUndefined();
    await off.close();
    // A service without operations counts into a registry nobody serves.
    const unserved = metricsOf({});
    expect(unserved).not.toBe(env.cluster.operations.metrics);
    expect(metricsOf({ farm: env.cluster.farm })).toBe(env.cluster.operations.metrics);
  });
});

describe("the embedded default", () => {
  const cli = () => new FarmCli({ cwd: env.work, env: { FARM_DATA_DIR: path.join(env.work, "data-up") } });

  it("farm up serves every service's metrics on one port, and counts what a client's analyze asked", async () => {
    const port = await freePort();
    const up = cli().spawn(["up", "--port", String(await freePort())], { FARM_METRICS_PORT: String(port) });
    const url = `http://127.0.0.1:${port}/metrics`;
    // Stopped by SIGTERM even when an assertion fails: a SIGKILL at the end would orphan its nats-server.
    try {
      await up.line('"farm ready"');
      const idle = await scrape(url);
      for (const name of Object.keys(FARM_METRICS)) expect(idle, name).toContain(`# TYPE ${name} `);
      expect(sampleOf(idle, "farm_commits_analyzed_total")).toBe(0);
      // Attaches to the running farm up (its data dir's record): the work is done, and counted, there.
      const analyzed = await cli().run(["analyze", repo.dir, "--commits", "2"]);
      expect(analyzed.code, analyzed.stderr).toBe(0);
      const busy = await scrape(url);
      // The two requested commits and the baseline their oldest's delta is computed against.
      expect(sampleOf(busy, "farm_commits_analyzed_total")).toBe(3);
      expect(sampleOf(busy, "farm_tasks_total", { subject: "lint.batch", outcome: "ok" })).toBeGreaterThan(0);
      expect(sampleOf(busy, "farm_stream_messages", { stream: "REPOS" })).toBe(0);
    } finally {
      expect(await up.stop("SIGTERM")).toBe(0);
    }
    // Closed with the process: the port is free again.
    await expect(fetch(url)).rejects.toThrow();
  }, 120_000);

  it("farm analyze fails plainly when the metrics port is taken", async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const r = await cli().run(["analyze", repo.dir, "--commits", "1"], { FARM_METRICS_PORT: String(port), FARM_DATA_DIR: path.join(env.work, "data-taken") });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(new RegExp(`metrics port 127\\.0\\.0\\.1:${port} is already in use.*FARM_METRICS_PORT`));
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  }, 60_000);
});
