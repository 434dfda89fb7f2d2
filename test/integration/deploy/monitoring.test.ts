/**
 * deploy/'s monitoring files agree with each other and with farm's metrics:
 * the Grafana dashboard is real dashboard JSON whose every PromQL query
 * parses (promtool) and names only metrics farm exports; Prometheus's configs
 * pass promtool and scrape exactly the compose services on their metrics
 * port; compose's `metrics` profile mounts what Grafana's provisioning reads;
 * the k8s pods are annotated for scraping on the port farm-config sets. And
 * the dashboard's queries against a real Prometheus (Debian's) scraping a
 * real farm after an analysis: each evaluates, and the panels that must show
 * something after an analysis do.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { collectDefaultMetrics, Registry } from "prom-client";
import { afterAll, describe, expect, test } from "vitest";
import { parse, parseAllDocuments, stringify } from "yaml";
import { ALL_SERVICE_NAMES } from "../../../services/index.js";
import { useTempDir } from "../../harness/files.js";
import { TestRepo } from "../../harness/git.js";
import { freePort } from "../../harness/nats-server.js";
import { closePipelines, startPipeline } from "../../harness/pipeline.js";
import { waitFor } from "../../harness/wait.js";
import { repoRoot } from "../../harness/deploy.js";

const deploy = (...p: string[]) => path.join(repoRoot, "deploy", ...p);
const tmp = useTempDir("farm-deploy-monitoring-");

/** farm's own metric names (shared/pipeline/metrics.ts; docs/operations.md lists them). */
const FARM_METRICS = [
  "farm_tasks_total",
  "farm_tasks_redelivered_total",
  "farm_tasks_dead_lettered_total",
  "farm_task_duration_seconds",
  "farm_lint_file_duration_seconds",
  "farm_result_cache_hits_total",
  "farm_result_cache_misses_total",
  "farm_commits_analyzed_total",
  "farm_files_linted_total",
  "farm_stream_messages",
  "farm_consumer_pending_messages",
  "farm_consumer_ack_pending_messages",
  "farm_consumer_redelivered_messages",
  "farm_nats_reconnects_total",
];
const HISTOGRAMS = ["farm_task_duration_seconds", "farm_lint_file_duration_seconds"];

/** prom-client's default process metrics, as the real library names them. */
async function defaultMetricNames(): Promise<string[]> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return (await registry.getMetricsAsJSON()).map((m) => m.name);
}

/** The metric names a PromQL expression reads (histogram series as their histogram's name). */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"[^"]*"/g, '""')
    .replace(/\{[^}]*\}/g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "");
  const names = [...bare.matchAll(/\b[a-zA-Z_:][a-zA-Z0-9_:]*\b(?!\s*\()/g)].map((m) => m[0]).filter((n) => !["and", "or", "unless", "offset", "bool"].includes(n));
  return names.map((n) => HISTOGRAMS.find((h) => n === `${h}_bucket` || n === `${h}_sum` || n === `${h}_count`) ?? n);
}

/** Grafana's variables as a query would see them, for promtool. */
const concrete = (expr: string) => expr.replaceAll("$__rate_interval", "1m").replaceAll("$service", ".*");

function promtool(args: string[]) {
  const r = spawnSync("promtool", args, { encoding: "utf8" });
  if (r.error) throw new Error(`promtool: ${r.error.message} (install Debian's prometheus: apt-get install -y prometheus; .ci/run does)`);
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

interface Target {
  refId: string;
  expr: string;
  datasource: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
}

const dashboard = JSON.parse(readFileSync(deploy("grafana/farm-dashboard.json"), "utf8")) as {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown }[] };
};
const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, ...t })));
const compose = parse(readFileSync(deploy("docker-compose.yml"), "utf8"), { merge: true });

describe("deploy/grafana/farm-dashboard.json", () => {
  test("a dashboard: uid, title, panels with unique ids on the grid, every query on the data source variable", () => {
    expect(dashboard).toMatchObject({ uid: "farm-overview", title: "farm" });
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      if (p.type === "row") continue;
      expect(["timeseries", "stat"], p.title).toContain(p.type);
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      expect(p.datasource, p.title).toEqual({ type: "prometheus", uid: "${datasource}" });
    }
    expect(dashboard.templating.list.map((v) => [v.name, v.type])).toEqual([
      ["datasource", "datasource"],
      ["service", "query"],
    ]);
    expect(queries.length).toBeGreaterThan(20);
  });

  test("its PromQL reads only metrics farm exports, and every farm metric is on it", async () => {
    const known = new Set([...FARM_METRICS, ...(await defaultMetricNames())]);
    const used = new Set<string>();
    for (const q of queries) {
      const names = metricNames(q.expr);
      expect(names.length, `${q.panel}: ${q.expr}`).toBeGreaterThan(0);
      for (const n of names) {
        expect(known.has(n), `${q.panel}: ${n} is not a metric farm exports`).toBe(true);
        used.add(n);
      }
    }
    for (const m of FARM_METRICS) expect(used.has(m), `${m} on the dashboard`).toBe(true);
    for (const m of ["process_cpu_seconds_total", "process_resident_memory_bytes", "nodejs_eventloop_lag_seconds"]) expect(used.has(m)).toBe(true);
  });

  test("the name check itself: label names, functions and ranges are not metrics", () => {
    expect(metricNames('histogram_quantile(0.95, sum by (le, subject) (rate(farm_task_duration_seconds_bucket{service=~"$service"}[5m])))')).toEqual([
      "farm_task_duration_seconds",
    ]);
    expect(metricNames("sum(rate(a_total[1m])) / (sum(rate(a_total[1m])) + sum(rate(b_total[1m])))")).toEqual(["a_total", "a_total", "b_total"]);
  });

  test("every query parses as PromQL (promtool check rules)", () => {
    const rules = { groups: [{ name: "dashboard", rules: queries.map((q, i) => ({ record: `farm:dashboard_query_${i}`, expr: concrete(q.expr) })) }] };
    const file = path.join(tmp, "dashboard-rules.yml");
    writeFileSync(file, stringify(rules));
    const r = promtool(["check", "rules", file]);
    expect(r.out).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.code, r.out).toBe(0);
  });
});

describe("deploy/prometheus", () => {
  const prom = parse(readFileSync(deploy("prometheus/prometheus.yml"), "utf8"));

  test("prometheus.yml passes promtool check config", () => {
    const r = promtool(["check", "config", deploy("prometheus/prometheus.yml")]);
    expect(r.code, r.out).toBe(0);
  });

  test("its targets are the compose services serving metrics, on their metrics port, labelled by service", () => {
    const farmServices = Object.entries(compose.services as Record<string, { command?: string[]; environment?: Record<string, string> }>).filter(
      ([, s]) => s.command?.[0] === "service",
    );
    expect(farmServices.map(([n]) => n).sort()).toEqual([...ALL_SERVICE_NAMES].sort());
    const job = prom.scrape_configs.find((j: { job_name: string }) => j.job_name === "farm");
    expect(job.metrics_path).toBe("/metrics");
    const [sd] = job.dns_sd_configs;
    expect([...sd.names].sort()).toEqual(farmServices.map(([n]) => n).sort());
    for (const [name, s] of farmServices) {
      expect(s.environment, name).toMatchObject({ FARM_METRICS_HOST: "0.0.0.0" });
      expect(Number(s.environment!.FARM_METRICS_PORT), name).toBe(sd.port);
      expect(s.command, name).toEqual(["service", name]);
    }
    expect(job.relabel_configs).toContainEqual({ source_labels: ["__meta_dns_name"], target_label: "service" });
  });

  test("prometheus-k8s.yml: the pod-annotation job passes promtool (Debian's build lacks Kubernetes discovery: then its relabelling, on static targets)", () => {
    const file = deploy("prometheus/prometheus-k8s.yml");
    const k8s = parse(readFileSync(file, "utf8"));
    const job = k8s.scrape_configs[0];
    expect(job.kubernetes_sd_configs).toEqual([{ role: "pod" }]);
    const keep = job.relabel_configs[0];
    expect(keep).toEqual({ source_labels: ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"], action: "keep", regex: "true" });
    const by = (label: string) => job.relabel_configs.find((r: { target_label?: string }) => r.target_label === label);
    expect(by("__metrics_path__").source_labels).toEqual(["__meta_kubernetes_pod_annotation_prometheus_io_path"]);
    expect(by("__address__").source_labels).toEqual(["__address__", "__meta_kubernetes_pod_annotation_prometheus_io_port"]);
    // The address rewrite: the pod's IP, the annotated port.
    const address = new RegExp(`^(?:${by("__address__").regex})$`);
    expect("10.1.2.3:8080;9464".replace(address, by("__address__").replacement)).toBe("10.1.2.3:9464");
    expect(by("service").source_labels).toEqual(["__meta_kubernetes_pod_label_app_kubernetes_io_component"]);

    let r = promtool(["check", "config", file]);
    if (r.code !== 0 && /field kubernetes_sd_configs not found/.test(r.out)) {
      const copy = path.join(tmp, "prometheus-k8s-static.yml");
      delete job.kubernetes_sd_configs;
      job.static_configs = [{ targets: ["10.1.2.3:8080"] }];
      writeFileSync(copy, stringify(k8s));
      r = promtool(["check", "config", copy]);
    }
    expect(r.code, r.out).toBe(0);
  });
});

describe("deploy/docker-compose.yml, profile metrics", () => {
  test("prometheus and grafana run only in the metrics profile, on the host's loopback, with deploy's files mounted", () => {
    const { prometheus, grafana } = compose.services;
    for (const s of [prometheus, grafana]) {
      expect(s.profiles).toEqual(["metrics"]);
      for (const p of s.ports) expect(p).toMatch(/^127\.0\.0\.1:/);
    }
    expect(prometheus.image).toMatch(/prom\/prometheus/);
    expect(grafana.image).toMatch(/grafana\/grafana/);
    const mounts = (s: { volumes: string[] }) => new Map(s.volumes.filter((v) => v.startsWith("./")).map((v) => [v.split(":")[1], v.split(":")[0]]));
    const pm = mounts(prometheus);
    expect(pm.get("/etc/prometheus/prometheus.yml")).toBe("./prometheus/prometheus.yml");
    expect(prometheus.command).toContain("--config.file=/etc/prometheus/prometheus.yml");
    const gm = mounts(grafana);
    for (const [, host] of [...pm, ...gm]) expect(existsSync(deploy(host)), host).toBe(true);
    expect(gm.get("/etc/grafana/provisioning")).toBe("./grafana/provisioning");

    // Grafana's provisioning: the data source is compose's prometheus; the provider reads the mounted dashboard.
    const ds = parse(readFileSync(deploy("grafana/provisioning/datasources/prometheus.yaml"), "utf8")).datasources[0];
    expect(ds).toMatchObject({ type: "prometheus", url: "http://prometheus:9090" });
    const provider = parse(readFileSync(deploy("grafana/provisioning/dashboards/farm.yaml"), "utf8")).providers[0];
    const dashboardMount = [...gm].find(([, host]) => host === "./grafana/farm-dashboard.json")![0];
    expect(path.posix.dirname(dashboardMount)).toBe(provider.options.path);
  });
});

describe("deploy/k8s: pods annotated for scraping", () => {
  const config = parse(readFileSync(deploy("k8s/config.yaml"), "utf8"));

  test("farm-config turns metrics on, on every address of the pod", () => {
    expect(config.data).toMatchObject({ FARM_METRICS_PORT: "9464", FARM_METRICS_HOST: "0.0.0.0" });
  });

  test.each(ALL_SERVICE_NAMES)("%s: prometheus.io annotations and a named container port, the port of farm-config", (name) => {
    const docs = parseAllDocuments(readFileSync(deploy("k8s", `${name}.yaml`), "utf8")).map((d) => d.toJS());
    const pod = docs.find((d) => d?.kind === "Deployment").spec.template;
    expect(pod.metadata.annotations).toEqual({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": config.data.FARM_METRICS_PORT,
      "prometheus.io/path": "/metrics",
    });
    const c = pod.spec.containers[0];
    expect(c.ports).toContainEqual({ name: "metrics", containerPort: Number(config.data.FARM_METRICS_PORT) });
    expect(c.envFrom).toContainEqual({ configMapRef: { name: "farm-config" } });
  });
});

describe("the dashboard against a real Prometheus scraping a real farm", () => {
  let prometheus: ChildProcess | undefined;
  afterAll(async () => {
    // Gone before its data dir (in the pipeline's work dir) is removed.
    if (prometheus && prometheus.exitCode === null && prometheus.signalCode === null) {
      const exited = once(prometheus, "exit");
      prometheus.kill("SIGTERM");
      await exited;
    }
    await closePipelines();
  });

  test("after an analysis every query evaluates, and throughput, tasks, latency, cache, queues and processes have data", async () => {
    const env = await startPipeline({ prefix: "farm-dashboard-", config: { metricsPort: 0 } });
    const target = new URL(env.cluster.operations.metricsUrl!);
    const port = await freePort();
    const dir = path.join(env.work, "prometheus");
    mkdirSync(dir, { recursive: true });
    const config = {
      global: { scrape_interval: "1s" },
      // The one process runs all four services: labelled as compose's relabelling would label a service.
      scrape_configs: [{ job_name: "farm", static_configs: [{ targets: [target.host], labels: { service: "pipeline" } }] }],
    };
    writeFileSync(path.join(dir, "prometheus.yml"), stringify(config));
    prometheus = spawn(
      "prometheus",
      [`--config.file=${path.join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${path.join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: "ignore" },
    );
    const failed = once(prometheus, "error").then(([err]) => {
      throw new Error(`could not start prometheus (install Debian's: apt-get install -y prometheus; .ci/run does): ${(err as Error).message}`);
    });
    failed.catch(() => {});
    const query = async (expr: string) => {
      const r = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await r.json()) as { status: string; error?: string; data?: { result: unknown[] } };
      return { status: body.status, error: body.error, result: body.data?.result ?? [] };
    };
    // Scraped once before the analysis: its counters' rise is then inside the series.
    await Promise.race([failed, waitFor("Prometheus's first scrape of the farm", async () => (await query('up{job="farm"} == 1')).result.length > 0, 30_000, 200)]);

    const repo = new TestRepo(path.join(env.work, "repo"));
    repo.commit("one", { "a.js": "module.exports = 1;\n", "b.js": "var unused = 2;\n" });
    const sha = repo.commit("two", { "c.js": "module.exports = undefinedThing;\n" });
    env.client.newSha({ repo: repo.dir, sha, history: 1 });
    await env.client.completed([sha]);
    // Scraped after the analysis, each stage's series twice (a rate needs two samples): the tasks panel shows every stage.
    const tasksExpr = concrete(queries.find((q) => q.panel === "Tasks per second by subject")!.expr);
    const stages = ["repo.new_sha", "commit.manifest", "lint.batch", "results.lint", "results.commit_files"];
    await waitFor(
      "every stage on the tasks panel",
      async () => {
        const subjects = (await query(tasksExpr)).result.map((x) => (x as { metric: { subject: string } }).metric.subject);
        return stages.every((st) => subjects.includes(st));
      },
      60_000,
      500,
    );

    const mustShow = [
      "Commits analyzed / s",
      "Files linted / s",
      "Result cache hit ratio",
      "Commits and files per second",
      "Tasks per second by subject",
      "Task duration p50 / p95 by subject",
      "Lint duration per file p50 / p95 / p99",
      "Pending per consumer",
      "Ack-pending per consumer",
      "Messages per stream",
      "CPU",
      "Memory (RSS)",
      "Event loop lag",
    ];
    for (const title of mustShow) expect(queries.some((q) => q.panel === title), title).toBe(true);
    for (const q of queries) {
      const r = await query(concrete(q.expr));
      expect(r.status, `${q.panel}: ${q.expr}: ${r.error}`).toBe("success");
      if (mustShow.includes(q.panel) && q.refId === "A") expect(r.result.length, `${q.panel}: ${q.expr}`).toBeGreaterThan(0);
    }
    // The counts behind the throughput panels: the two commits, their three files.
    const total = async (m: string) => Number((await query(`sum(${m})`)).result.map((x) => (x as { value: [number, string] }).value[1])[0]);
    expect(await total("farm_commits_analyzed_total")).toBe(2);
    expect(await total("farm_files_linted_total")).toBe(3);
  }, 180_000);
});
