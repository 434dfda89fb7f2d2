/**
 * Helpers of the history benchmark: child processes with wall/CPU/RSS
 * measurement, machine facts, formatting.
 */
import { spawn, execFileSync, type SpawnOptions } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export function log(msg: string): void {
  process.stderr.write(`[history ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  wallMs: number;
}

export interface RunOptions extends SpawnOptions {
  /** Reject unless the exit code is one of these. Default [0]. */
  okCodes?: number[];
  /** Written to stdin, then closed. */
  input?: string | Buffer;
  /** Called with the pid right after spawn. */
  onSpawn?: (pid: number) => void;
}

/** Runs a command to completion, capturing output; wall time measured around the child's life. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const { okCodes = [0], input, onSpawn, ...spawnOpts } = opts;
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], ...spawnOpts });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (d: Buffer) => out.push(d));
    child.stderr?.on("data", (d: Buffer) => err.push(d));
    child.on("error", reject);
    if (child.pid !== undefined) onSpawn?.(child.pid);
    child.stdin?.end(input);
    child.on("close", (code, signal) => {
      const r: RunResult = {
        code,
        signal,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        wallMs: performance.now() - t0,
      };
      if (code === null || !okCodes.includes(code)) {
        reject(new Error(`${cmd} ${args.slice(0, 6).join(" ")} exited with ${code ?? signal}:\n${r.stderr.slice(-3000)}`));
      } else resolve(r);
    });
  });
}

export function git(repo: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run("git", [`--git-dir=${repo}`, ...args], opts);
}

/** The git dir of a repo path (bare or with a working tree). */
export function gitDirOf(repo: string): string {
  const out = execFileSync("git", ["-C", repo, "rev-parse", "--absolute-git-dir"], { encoding: "utf8" }).trim();
  return out;
}

// ---------------------------------------------------------------- /proc sampling

const CLK_TCK = 100; // Linux USER_HZ; what /proc/<pid>/stat counts in

export interface ProcSample {
  /** Peak resident set size (VmHWM), KiB. */
  hwmKb: number;
  /** Current RSS, KiB. */
  rssKb: number;
  /** User + system CPU of every thread, ms. */
  cpuMs: number;
}

export function sampleProc(pid: number): ProcSample | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const hwm = /VmHWM:\s+(\d+)/.exec(status);
    const rss = /VmRSS:\s+(\d+)/.exec(status);
    // Fields after the "(comm)": state is field 3; utime 14, stime 15.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const cpu = ((Number(rest[11]) + Number(rest[12])) * 1000) / CLK_TCK;
    if (!hwm || !rss) return null; // a zombie has no memory lines
    return { hwmKb: Number(hwm[1]), rssKb: Number(rss[1]), cpuMs: cpu };
  } catch {
    return null;
  }
}

/** Direct children of a process (every thread's children). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const s = readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim();
      if (s) out.push(...s.split(/\s+/).map(Number));
    }
  } catch {
    /* gone */
  }
  return out;
}

export function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

/**
 * Polls a set of processes' VmHWM / CPU until stopped. The peak is a
 * high-water mark kept by the kernel, so sampling only has to catch the last
 * value before exit; CPU is as of the last sample (error ≤ one interval).
 */
export class ProcWatcher {
  readonly last = new Map<string, ProcSample>();
  private timer: NodeJS.Timeout;
  constructor(
    private readonly targets: () => Map<string, number>,
    intervalMs = 100,
  ) {
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }
  tick(): void {
    for (const [name, pid] of this.targets()) {
      const s = sampleProc(pid);
      if (s) this.last.set(name, s);
    }
  }
  stop(): Map<string, ProcSample> {
    clearInterval(this.timer);
    return this.last;
  }
}

// ---------------------------------------------------------------- machine

export interface MachineInfo {
  date: string;
  host: string;
  cpu: string;
  cores: number;
  memGiB: number;
  node: string;
  natsServer: string;
  git: string;
  eslint: string;
  loadAvg: number[];
}

export function natsServerBin(): string {
  const env = process.env.FARM_NATS_SERVER;
  if (env) return env;
  for (const dir of `${process.env.PATH ?? ""}:/usr/sbin:/usr/local/sbin`.split(":").filter(Boolean)) {
    const p = path.join(dir, "nats-server");
    if (existsSync(p)) return p;
  }
  return "nats-server";
}

export function machineInfo(): MachineInfo {
  const safe = (f: () => string) => {
    try {
      return f();
    } catch {
      return "unknown";
    }
  };
  const eslintPkg = JSON.parse(readFileSync(path.join(PROJECT_ROOT, "node_modules/eslint/package.json"), "utf8")) as { version: string };
  return {
    date: new Date().toISOString(),
    host: os.hostname(),
    cpu: os.cpus()[0]?.model.trim() ?? "unknown",
    cores: os.availableParallelism(),
    memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    natsServer: safe(() => execFileSync(natsServerBin(), ["--version"], { encoding: "utf8" }).trim()),
    git: safe(() => execFileSync("git", ["--version"], { encoding: "utf8" }).trim()),
    eslint: eslintPkg.version,
    loadAvg: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

// ---------------------------------------------------------------- formatting

export function fmtS(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return "-";
  const s = ms / 1000;
  return s >= 100 ? `${s.toFixed(0)} s` : s >= 10 ? `${s.toFixed(1)} s` : `${s.toFixed(2)} s`;
}

export function fmtX(r: number | undefined): string {
  if (r === undefined || !Number.isFinite(r)) return "-";
  return r >= 100 ? `${r.toFixed(0)}×` : r >= 10 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`;
}

export function fmtMiB(kb: number | undefined): string {
  return kb === undefined ? "-" : `${(kb / 1024).toFixed(0)} MiB`;
}

/** Bytes as decimal MB, or kB below 1 MB (output sizes). */
export function fmtMB(bytes: number | undefined): string {
  if (bytes === undefined) return "-";
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`;
}

export function fmtN(n: number): string {
  return n.toLocaleString("en-US");
}

export function table(head: string[], rows: string[][], right: boolean[] = []): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right[i] ? (c ?? "").padStart(widths[i]) : (c ?? "").padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** Runs `fn` over items with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  });
  await Promise.all(lanes);
  return out;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
