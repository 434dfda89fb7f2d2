/**
 * The farm side of the history benchmark: `farm analyze` on the embedded
 * default (one process: nats-server child + all services in-process), and the
 * same analysis with each service in its own process (for per-service peak
 * RSS: the linter-runner, and the aggregator over a long history).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createReadStream, mkdirSync, rmSync, statSync } from "node:fs";
import { createInterface } from "node:readline";
import path from "node:path";
import { freePort } from "../../shared/runtime/embedded.js";
import { childPids, commOf, log, natsServerBin, PROJECT_ROOT, ProcWatcher, run, sleep, type ProcSample } from "./history-util.js";

/** How to start the farm CLI: node + these arguments. */
export interface FarmCommand {
  /** A build directory to remove after the run. */
  dir?: string;
  /** Arguments before the CLI's own, e.g. ["--import", "tsx", "cli/farm.ts"] or ["<build>/cli/farm.js"]. */
  args: string[];
  label: string;
}

export function farmFromSource(): FarmCommand {
  return { args: ["--import", "tsx", path.join(PROJECT_ROOT, "cli/farm.ts")], label: "source via tsx" };
}

/**
 * Compiles the current source into `<project>/.farm/bench-build-<pid>` (dist/ is
 * left alone; inside the project so node_modules resolve) and uses that. The
 * caller removes `dir` when done.
 */
export async function farmBuilt(): Promise<FarmCommand & { dir: string }> {
  const out = path.join(PROJECT_ROOT, `.farm/bench-build-${process.pid}`);
  rmSync(out, { recursive: true, force: true });
  // The build farm ships (bundles included); --fast emits even if someone's work in progress has a type error: the benchmark measures what runs.
  await run(process.execPath, [path.join(PROJECT_ROOT, "build.mjs"), "--out", out, "--fast"], { cwd: PROJECT_ROOT });
  return { args: [path.join(out, "cli/farm.js")], label: "built by build.mjs", dir: out };
}

/** A clean environment for farm: no cluster from the caller's shell. */
function farmEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ["NATS_URL", "NATS_CREDS", "NATS_USER", "NATS_PASSWORD", "FARM_CONCURRENCY", "FARM_REPLICAS"]) delete env[k];
  return { ...env, ...extra };
}

/** A commit's totals, as in its summary (`--summary`) and its full report. */
export interface CommitTotals {
  files: number;
  errors: number;
  warnings: number;
}

export interface ReportCounts extends CommitTotals {
  /** path → errors + warnings; only from full reports. */
  perFile?: Map<string, number>;
}

/** What `farm analyze` prints per commit: `--format ndjson --summary` (the history view) or `--format ndjson` (full per-file reports). */
export type FarmOutput = "summary" | "full";

export const FORMAT_ARGS: Record<FarmOutput, string[]> = {
  summary: ["--format", "ndjson", "--summary"],
  full: ["--format", "ndjson"],
};

export interface FarmRun {
  output: FarmOutput;
  wallMs: number;
  /** CPU (user+sys, all threads) of the farm process, and of its nats-server child. */
  cpuMs?: number;
  natsCpuMs?: number;
  peakRssKb?: number;
  natsPeakRssKb?: number;
  /** ms from spawn: ingest queued the commits / the last commit completed. */
  ingestDoneMs?: number;
  allCompletedMs?: number;
  /** Per commit sha, from the NDJSON lines. */
  reports: Map<string, ReportCounts>;
  /** Files linted / cache hits summed over the progress lines' last line. */
  progress?: string;
  outputBytes: number;
}

interface NdjsonLine {
  sha?: unknown;
  summary?: { files: number; errors: number; warnings: number };
  files?: { path: string; messages: unknown[] }[];
}

/**
 * The output of `farm analyze --format ndjson [--summary]`, one commit per
 * line (newest first), read line by line: memory stays bounded by one report
 * however long the history (a whole history's full reports are gigabytes).
 * A summary line must have no files; a full report must have them.
 */
async function readNdjson(file: string, output: FarmOutput): Promise<{ reports: Map<string, ReportCounts>; bytes: number }> {
  const bytes = statSync(file).size;
  const reports = new Map<string, ReportCounts>();
  const lines = createInterface({ input: createReadStream(file, { encoding: "utf8" }), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line === "") continue;
    const r = JSON.parse(line) as NdjsonLine;
    const where = `${file}:${n}`;
    if (typeof r.sha !== "string" || !r.summary) throw new Error(`${where}: not a commit (no sha or summary): ${line.slice(0, 120)}`);
    if (reports.has(r.sha)) throw new Error(`${where}: commit ${r.sha} printed twice`);
    if (output === "summary" && r.files !== undefined) throw new Error(`${where}: --summary printed a commit's files`);
    if (output === "full" && !Array.isArray(r.files)) throw new Error(`${where}: a full report without files`);
    const { files, errors, warnings } = r.summary;
    reports.set(r.sha, { files, errors, warnings, perFile: r.files && new Map(r.files.map((f) => [f.path, f.messages.length])) });
  }
  return { reports, bytes };
}

/** `farm analyze --timeout` (default 1 h): a whole history on a slow machine may take longer; the benchmark waits. */
const ANALYZE_TIMEOUT_S = String(24 * 3600);

export interface EmbeddedOptions {
  farm: FarmCommand;
  repo: string;
  sha: string;
  commits: number;
  dataDir: string;
  outFile: string;
  /** What to print per commit (default summary). */
  output?: FarmOutput;
  /** Directory for `--cpu-prof` profiles of the farm process (every thread). */
  cpuProfDir?: string;
  /** More environment (default: toolchains off, farm's own config for every commit, as the ESLint runs use). */
  env?: Record<string, string>;
}

/** `farm analyze <repo> --sha <sha> --commits N --format ndjson [--summary] --out F`, polled for CPU and peak RSS. */
/** `farm analyze` of `commits` commits up to `sha`, written to `outFile` in `output` form. */
function analyzeArgs(o: { repo: string; sha: string; commits: number }, output: FarmOutput, outFile: string): string[] {
  return ["analyze", o.repo, "--sha", o.sha, "--commits", String(o.commits), ...FORMAT_ARGS[output], "--out", outFile, "--timeout", ANALYZE_TIMEOUT_S];
}

export async function runFarmEmbedded(o: EmbeddedOptions): Promise<FarmRun> {
  const output = o.output ?? "summary";
  rmSync(o.outFile, { force: true });
  const nodeArgs = o.cpuProfDir ? ["--cpu-prof", "--cpu-prof-dir", o.cpuProfDir] : [];
  const args = [...nodeArgs, ...o.farm.args, ...analyzeArgs(o, output, o.outFile)];
  const env = farmEnv({ FARM_DATA_DIR: o.dataDir, FARM_LOG_LEVEL: "info", FARM_TOOLCHAINS: "off", ...o.env });
  let pid = 0;
  let natsPid = 0;
  const watcher = new ProcWatcher(() => {
    const m = new Map<string, number>();
    if (!pid) return m;
    m.set("farm", pid);
    if (!natsPid) natsPid = childPids(pid).find((c) => commOf(c) === "nats-server") ?? 0;
    if (natsPid) m.set("nats", natsPid);
    return m;
  });
  const t0 = performance.now();
  let ingestDoneMs: number | undefined;
  let allCompletedMs: number | undefined;
  let progress: string | undefined;
  const r = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ["ignore", "ignore", "pipe"] });
    pid = child.pid ?? 0;
    let stderr = "";
    let partial = "";
    child.stderr!.on("data", (d: Buffer) => {
      const now = performance.now() - t0;
      stderr += d.toString();
      partial += d.toString();
      const lines = partial.split("\n");
      partial = lines.pop()!;
      for (const line of lines) {
        if (line.includes('"commits queued"')) ingestDoneMs ??= now;
        const m = /^(\d+)\/(\d+) commits/.exec(line);
        if (m) {
          progress = line;
          if (m[1] === m[2]) allCompletedMs = now;
        }
      }
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
  });
  const wallMs = performance.now() - t0;
  const samples = watcher.stop();
  if (r.code !== 0) throw new Error(`farm analyze exited with ${r.code}:\n${r.stderr.slice(-4000)}`);
  const { reports, bytes } = await readNdjson(o.outFile, output);
  return {
    output,
    wallMs,
    cpuMs: samples.get("farm")?.cpuMs,
    peakRssKb: samples.get("farm")?.hwmKb,
    natsCpuMs: samples.get("nats")?.cpuMs,
    natsPeakRssKb: samples.get("nats")?.hwmKb,
    ingestDoneMs,
    allCompletedMs,
    reports,
    progress,
    outputBytes: bytes,
  };
}

// ---------------------------------------------------------------- one process per service

export const SERVICES = ["ingest", "splitter", "linter-runner", "aggregator"] as const;

export interface SplitRun {
  commits: number;
  wallMs: number;
  /** Peak RSS / CPU per process: the four services, nats-server, the client. */
  procs: Record<string, ProcSample>;
  /** The client's `--format ndjson --summary` lines, per commit sha. */
  reports: Map<string, ReportCounts>;
}

function waitForLine(child: ChildProcess, stream: "stdout" | "stderr", needle: string, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`${what} not ready after ${timeoutMs} ms:\n${seen.slice(-2000)}`)), timeoutMs);
    const onData = (d: Buffer) => {
      seen += d.toString();
      if (seen.includes(needle)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child[stream]!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}:\n${seen.slice(-2000)}`));
    });
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const killed = await Promise.race([exited.then(() => true), sleep(20_000).then(() => false)]);
  if (!killed) {
    child.kill("SIGKILL");
    await exited;
  }
}

/** A nats-server and the four services, each its own process, on a fresh data dir. */
export interface SplitFarm {
  url: string;
  close(): Promise<void>;
}

/**
 * Starts nats-server and the four services as `farm service <name>`
 * processes in `dir` (emptied first), toolchains off; their pids go into
 * `pids`; `env` adds to the services' environment.
 */
export async function startSplitFarm(o: { farm: FarmCommand; dir: string; pids?: Map<string, number>; env?: Record<string, string> }): Promise<SplitFarm> {
  rmSync(o.dir, { recursive: true, force: true });
  mkdirSync(o.dir, { recursive: true });
  const port = await freePort();
  const url = `nats://127.0.0.1:${port}`;
  const children: ChildProcess[] = [];
  const pids = o.pids ?? new Map<string, number>();
  const close = async () => {
    // Services first (they drain), the server last; only our own children.
    for (const c of children.slice(1).reverse()) await stop(c);
    if (children[0]) await stop(children[0]);
  };
  try {
    const nats = spawn(natsServerBin(), ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", path.join(o.dir, "nats")], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    children.push(nats);
    await waitForLine(nats, "stderr", "Server is ready", 15_000, "nats-server");
    pids.set("nats-server", nats.pid!);
    const env = farmEnv({
      NATS_URL: url,
      FARM_DATA_DIR: path.join(o.dir, "data"),
      FARM_ALLOW_LOCAL_REPOS: "1",
      FARM_LOG_LEVEL: "info",
      FARM_TOOLCHAINS: "off",
      // As the image runs them (deploy/Dockerfile).
      MALLOC_ARENA_MAX: "2",
      ...o.env,
    });
    await Promise.all(
      SERVICES.map(async (name) => {
        const child = spawn(process.execPath, [...o.farm.args, "service", name], { env, stdio: ["ignore", "ignore", "pipe"] });
        children.push(child);
        pids.set(name, child.pid!);
        await waitForLine(child, "stderr", "service ready", 120_000, `farm service ${name}`);
        child.stderr!.removeAllListeners("data");
        child.stderr!.resume();
      }),
    );
    return { url, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * nats-server, the four services as `farm service <name>` processes, and a
 * `farm analyze --nats --format ndjson --summary` client (what a user reading
 * a history runs); every process's peak RSS and CPU.
 */
export async function runFarmSplit(o: { farm: FarmCommand; repo: string; sha: string; commits: number; dir: string }): Promise<SplitRun> {
  const pids = new Map<string, number>();
  const watcher = new ProcWatcher(() => pids, 200);
  let split: SplitFarm | undefined;
  try {
    split = await startSplitFarm({ farm: o.farm, dir: o.dir, pids });
    const url = split.url;
    const outFile = path.join(o.dir, "summaries.ndjson");
    const t0 = performance.now();
    await run(process.execPath, [...o.farm.args, ...analyzeArgs(o, "summary", outFile), "--nats", url], {
      env: farmEnv({ FARM_LOG_LEVEL: "warn" }),
      stdio: ["ignore", "pipe", "pipe"],
      onSpawn: (pid) => pids.set("client", pid),
    });
    const wallMs = performance.now() - t0;
    watcher.tick();
    const procs = Object.fromEntries(watcher.stop());
    const { reports } = await readNdjson(outFile, "summary");
    if (reports.size !== o.commits) log(`WARNING: split run printed ${reports.size} commits, ${o.commits} asked for`);
    return { commits: o.commits, wallMs, procs, reports };
  } finally {
    watcher.stop();
    await split?.close();
    log(`split run of ${o.commits} commits: processes stopped`);
  }
}
