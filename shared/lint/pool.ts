/**
 * A pool of lint threads that uses every core, started as work needs them. Each thread keeps warm ESLint
 * instances and lints one file at a time; a file that keeps its thread busy
 * past the time limit gets a fatal "did not finish" message and the thread is
 * terminated and replaced (synchronous linter code cannot be interrupted any
 * other way). The other files are unaffected.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { ResourceLimits } from "node:worker_threads";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { fatal } from "./engine.js";
import { fromThreadError, LintPoolClosedError, LintPoolStartError } from "./errors.js";
import type { FromThread, ThreadInit, ToThread } from "./protocol.js";
import type { LinterName, LintFileResult, LintMessage, LintTask } from "./types.js";

export interface LintPoolOptions {
  /** Threads. Default `os.availableParallelism()`. */
  threads?: number;
  /** Time limit per file, from hand-over to its thread until all its linters finished. Default 10 000 ms. */
  fileTimeoutMs?: number;
  /** Warm ESLint instances per thread. Default 32. */
  maxCachedConfigs?: number;
  /** V8 limits per thread; a file that exhausts them gets a fatal message. Default: Node's. */
  resourceLimits?: ResourceLimits;
  /** Consecutive thread start failures before queued files are failed with LintPoolStartError. Default 3. */
  maxStartFailures?: number;
  /**
   * TESTS ONLY: module (URL or absolute file URL string) whose default export is
   * ESLint flat-config blocks added to every config in every thread. Chosen by
   * the code that creates the pool; nothing in a repo can set it.
   */
  testOnlyEslintConfigModule?: string | URL;
}

export interface LintPoolStats {
  threads: number;
  busy: number;
  queued: number;
  /** Files cut off by the time limit since the pool started. */
  timeouts: number;
  /** Threads replaced (time limit or crash). */
  replaced: number;
}

interface Batch {
  failed: boolean;
}

interface Job {
  id: number;
  task: LintTask;
  batch: Batch;
  resolve(result: LintFileResult): void;
  reject(err: Error): void;
  /** Messages of the linters that finished before the current one. */
  partial: LintMessage[];
  /** The linter running now (from the thread's progress messages). */
  linter: LinterName | null;
  startedAt: number;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  dead: boolean;
  job: Job | null;
  timer: NodeJS.Timeout | undefined;
}

export const DEFAULT_FILE_TIMEOUT_MS = 10_000;

export class LintPool {
  readonly threads: number;
  readonly fileTimeoutMs: number;
  private readonly init: ThreadInit;
  private readonly resourceLimits: ResourceLimits | undefined;
  private readonly maxStartFailures: number;
  private readonly slots = new Set<Slot>();
  private queue: Job[] = [];
  private closed = false;
  private nextId = 1;
  private startFailures = 0;
  private timeouts = 0;
  private replaced = 0;

  constructor(options: LintPoolOptions = {}) {
    this.threads = Math.max(1, Math.floor(options.threads ?? availableParallelism()));
    this.fileTimeoutMs = options.fileTimeoutMs ?? DEFAULT_FILE_TIMEOUT_MS;
    this.resourceLimits = options.resourceLimits;
    this.maxStartFailures = Math.max(1, options.maxStartFailures ?? 3);
    const hook = options.testOnlyEslintConfigModule;
    this.init = {
      maxCachedConfigs: options.maxCachedConfigs,
      testOnlyEslintConfigModule: hook === undefined ? undefined : String(hook),
    };
  }

  /** Starts the threads (otherwise started by the first lint) and waits until all are ready. */
  async start(): Promise<void> {
    this.assertOpen();
    this.fillSlots();
    await Promise.all(
      [...this.slots].map(
        (slot) =>
          new Promise<void>((resolve, reject) => {
            if (slot.ready) return resolve();
            const onMessage = (m: FromThread) => m.type === "ready" && done();
            const onExit = () => done(new LintPoolStartError("a lint thread exited while starting"));
            const done = (err?: Error) => {
              slot.worker.off("message", onMessage).off("exit", onExit);
              if (err) reject(err);
              else resolve();
            };
            slot.worker.on("message", onMessage).on("exit", onExit);
          }),
      ),
    );
  }

  /**
   * Lints files across the threads; results in input order. Rejects with the
   * first error a file's config raises (RepoConfigError: permanent), after
   * which the batch's queued files are dropped.
   */
  lint(tasks: readonly LintTask[]): Promise<LintFileResult[]> {
    if (this.closed) return Promise.reject(new LintPoolClosedError());
    if (tasks.length === 0) return Promise.resolve([]);
    const batch: Batch = { failed: false };
    const results = tasks.map(
      (task) =>
        new Promise<LintFileResult>((resolve, reject) => {
          this.queue.push({
            id: this.nextId++,
            task,
            batch,
            resolve,
            reject: (err) => {
              batch.failed = true;
              reject(err);
            },
            partial: [],
            linter: null,
            startedAt: 0,
          });
        }),
    );
    this.grow();
    this.dispatch();
    return Promise.all(results);
  }

  stats(): LintPoolStats {
    let busy = 0;
    for (const s of this.slots) if (s.job) busy++;
    return { threads: this.slots.size, busy, queued: this.queue.length, timeouts: this.timeouts, replaced: this.replaced };
  }

  /** Terminates the threads; pending files reject with LintPoolClosedError. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new LintPoolClosedError();
    for (const job of this.queue) job.reject(err);
    this.queue = [];
    const exits: Promise<number>[] = [];
    for (const slot of this.slots) {
      slot.dead = true;
      clearTimeout(slot.timer);
      slot.job?.reject(err);
      slot.job = null;
      exits.push(slot.worker.terminate());
    }
    this.slots.clear();
    await Promise.all(exits);
  }

  private assertOpen(): void {
    if (this.closed) throw new LintPoolClosedError();
  }

  private fillSlots(): void {
    while (this.slots.size < this.threads) this.spawn();
  }

  /**
   * Starts one thread ahead of the first lint (not waiting for it), so that
   * loading ESLint overlaps whatever comes before; the rest start as work needs them.
   */
  warm(): void {
    if (!this.closed && this.slots.size === 0) this.spawn();
  }

  /**
   * Threads for the work there is: each file waiting beyond the threads free
   * (or starting) starts one more, up to `threads`. A one-file analysis loads
   * ESLint once, not once per core.
   */
  private grow(): void {
    let free = 0;
    for (const slot of this.slots) if (!slot.job) free++;
    for (let waiting = this.queue.length - free; waiting > 0 && this.slots.size < this.threads; waiting--) this.spawn();
  }

  private spawn(): void {
    const worker = createThread(this.init, this.resourceLimits);
    const slot: Slot = { worker, ready: false, dead: false, job: null, timer: undefined };
    this.slots.add(slot);
    worker.on("message", (m: FromThread) => this.onMessage(slot, m));
    worker.on("error", (err) => this.onDeath(slot, err));
    worker.on("exit", (code) => this.onDeath(slot, new Error(`lint thread exited with code ${code}`)));
  }

  private onMessage(slot: Slot, m: FromThread): void {
    if (slot.dead) return;
    if (m.type === "ready") {
      slot.ready = true;
      this.startFailures = 0;
      this.dispatch();
      return;
    }
    const job = slot.job;
    if (!job || job.id !== m.id) return;
    if (m.type === "progress") {
      job.partial = m.messages;
      job.linter = m.linter;
      return;
    }
    clearTimeout(slot.timer);
    slot.job = null;
    if (m.type === "done") job.resolve(result(job, m.messages));
    else job.reject(fromThreadError(m.error));
    this.dispatch();
  }

  /** The file ran out of time: its result says so, and its thread is replaced. */
  private onTimeout(slot: Slot, job: Job): void {
    if (slot.dead || slot.job !== job) return;
    this.timeouts++;
    this.retire(slot);
    const linter = job.linter ?? job.task.config.linters[0] ?? "eslint";
    job.resolve(result(job, [...job.partial, fatal(linter, `${linter} did not finish within ${this.fileTimeoutMs} ms`)]));
    this.refill();
  }

  private onDeath(slot: Slot, err: Error): void {
    if (slot.dead) return;
    const wasReady = slot.ready;
    const job = slot.job;
    this.retire(slot);
    if (job) {
      // Out of memory or a crash while on this file: its result, not a retry loop.
      const linter = job.linter ?? job.task.config.linters[0] ?? "eslint";
      job.resolve(result(job, [...job.partial, fatal(linter, `${linter} crashed its lint thread: ${err.message}`)]));
    }
    if (!wasReady && ++this.startFailures >= this.maxStartFailures) {
      // Threads cannot start at all (broken install): fail what waits instead of respawning forever.
      this.startFailures = 0;
      const startErr = new LintPoolStartError(`lint threads fail to start: ${err.message}`, { cause: err });
      for (const j of this.queue) j.reject(startErr);
      this.queue = [];
      return;
    }
    this.refill();
  }

  private retire(slot: Slot): void {
    slot.dead = true;
    clearTimeout(slot.timer);
    slot.job = null;
    this.slots.delete(slot);
    this.replaced++;
    void slot.worker.terminate();
  }

  private refill(): void {
    if (this.closed) return;
    this.grow();
    this.dispatch();
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (!slot.ready || slot.dead || slot.job) continue;
      const job = this.nextJob();
      if (!job) return;
      slot.job = job;
      job.startedAt = performance.now();
      slot.timer = setTimeout(() => this.onTimeout(slot, job), this.fileTimeoutMs);
      slot.worker.postMessage({ type: "lint", id: job.id, task: job.task } satisfies ToThread);
    }
  }

  private nextJob(): Job | undefined {
    let job = this.queue.shift();
    // Files of a batch that already failed are not worth a thread's time.
    while (job?.batch.failed) job = this.queue.shift();
    return job;
  }
}

function result(job: Job, messages: LintMessage[]): LintFileResult {
  return { path: job.task.path, messages, durationMs: Math.round((performance.now() - job.startedAt) * 100) / 100 };
}

/**
 * A thread running thread.ts/thread.js next to this module. From compiled
 * output (dist/) that is thread.js; from TypeScript source (vitest, `node
 * --import tsx`) it is thread.ts, loaded through tsx's loader registered
 * inside the thread (a worker's execArgv `--import tsx` does not apply to its
 * entry file on Node 20).
 */
function createThread(init: ThreadInit, resourceLimits: ResourceLimits | undefined): Worker {
  const here = import.meta.url;
  const start = (execArgv: string[]) => {
    const options = { workerData: init, resourceLimits, execArgv };
    if (!here.endsWith(".ts")) return new Worker(new URL("./thread.js", here), options);
    const entry = new URL("./thread.ts", here).href;
    const code = `import(${JSON.stringify(tsxApiUrl())})` + `.then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
    return new Worker(code, { ...options, eval: true });
  };
  try {
    return start((workerExecArgv ??= threadExecArgv()));
  } catch (err) {
    // V8 and per-process flags (`node --max-old-space-size=4096 …`) are refused in a
    // worker's execArgv; they already apply to the whole process, threads included.
    const refused = refusedFlags(err);
    if (refused.size === 0) throw err;
    workerExecArgv = withoutFlags(workerExecArgv!, refused);
    return start(workerExecArgv);
  }
}

/** The process's execArgv as the threads accept it (see createThread). */
let workerExecArgv: string[] | undefined;

/** The flags a Worker refused (ERR_WORKER_INVALID_EXEC_ARGV names them in its message). */
function refusedFlags(err: unknown): Set<string> {
  const e = err as { code?: string; message?: string };
  if (e?.code !== "ERR_WORKER_INVALID_EXEC_ARGV") return new Set();
  const list = /flags: (.*)$/.exec(e.message ?? "")?.[1] ?? "";
  return new Set(list.split(", ").filter(Boolean));
}

/** `execArgv` without `refused` (and a refused flag's separate value). */
export function withoutFlags(execArgv: readonly string[], refused: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i];
    if (!refused.has(arg)) {
      out.push(arg);
      continue;
    }
    const next = execArgv[i + 1];
    if (!arg.includes("=") && next !== undefined && !next.startsWith("-")) i++;
  }
  return out;
}

/**
 * The process's execArgv minus what describes the main script: a thread
 * inheriting `--input-type` (from `node --input-type=module -e …`) refuses
 * to load its entry file.
 */
export function threadExecArgv(execArgv: readonly string[] = process.execArgv): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i];
    if (arg === "--input-type" || arg === "-e" || arg === "--eval" || arg === "-p" || arg === "--print") {
      i++; // and its value
    } else if (!/^--(input-type|eval|print)=/.test(arg)) {
      out.push(arg);
    }
  }
  return out;
}

function tsxApiUrl(): string {
  try {
    return import.meta.resolve("tsx/esm/api");
  } catch {
    // Runners that rewrite import.meta may lack resolve: find tsx through CommonJS resolution.
    const pkg = createRequire(import.meta.url).resolve("tsx/package.json");
    return pathToFileURL(join(dirname(pkg), "dist/esm/api/index.mjs")).href;
  }
}
