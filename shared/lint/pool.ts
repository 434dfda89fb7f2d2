/**
 * A pool of lint threads that uses every core, started as work needs them. Each thread keeps warm ESLint
 * instances and lints one file at a time; a file that keeps its thread busy
 * past the time limit gets a fatal "did not finish" message and the thread is
 * terminated and replaced (synchronous linter code cannot be interrupted any
 * other way). The other files are unaffected.
 */
import { availableParallelism } from "node:os";
import type { ResourceLimits, Worker } from "node:worker_threads";
import { BIG_FILE_CHARS, fatal } from "./engine.js";
import { fromThreadError, LintPoolClosedError, LintPoolStartError } from "./errors.js";
import type { FromThread, ThreadInit, ToThread } from "./protocol.js";
import { createThread, takeSpare, threadInit, type ThreadOptions } from "./thread-start.js";
import type { LinterName, LintFileResult, LintMessage, LintTask } from "./types.js";

export { threadExecArgv, withoutFlags } from "./thread-start.js";

/**
 * Files waiting, beyond the threads free, for each thread started beyond the
 * first: a thread costs about half a second of loading ESLint, a file a few
 * milliseconds, so a small batch is linted sooner by the threads there are.
 */
const BACKLOG_PER_THREAD = 32;

export interface LintPoolOptions extends ThreadOptions {
  /** Threads. Default `os.availableParallelism()`. */
  threads?: number;
  /** Time limit per file, from hand-over to its thread until all its linters finished. Default 10 000 ms. */
  fileTimeoutMs?: number;
  /** Consecutive thread start failures before queued files are failed with LintPoolStartError. Default 3. */
  maxStartFailures?: number;
  /**
   * Files longer than this (in characters) are linted by one thread only, one at a time. Default
   * BIG_FILE_CHARS (64 Ki). A big file's tree and scopes take a few hundred MB while it is linted, and
   * its thread's heap keeps that size until V8 next collects it: threads that take turns on big files
   * would each grow to it.
   */
  bigFileChars?: number;
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
  private readonly bigFileChars: number;
  private readonly slots = new Set<Slot>();
  /** The thread that lints big files, once one has taken one (until it is retired). */
  private bigSlot: Slot | undefined;
  /** Files waiting, in arrival order: small ones, and big ones that only the big-file thread takes. */
  private queue: Job[] = [];
  private bigQueue: Job[] = [];
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
    this.bigFileChars = options.bigFileChars ?? BIG_FILE_CHARS;
    this.init = threadInit(options);
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
          (task.content.length > this.bigFileChars ? this.bigQueue : this.queue).push({
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
    return { threads: this.slots.size, busy, queued: this.waiting(), timeouts: this.timeouts, replaced: this.replaced };
  }

  /** Terminates the threads; pending files reject with LintPoolClosedError. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new LintPoolClosedError();
    this.failWaiting(err);
    const exits: Promise<number>[] = [];
    for (const slot of this.slots) {
      slot.dead = true;
      clearTimeout(slot.timer);
      slot.job?.reject(err);
      slot.job = null;
      exits.push(slot.worker.terminate());
    }
    this.slots.clear();
    this.bigSlot = undefined;
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
    const backlog = this.waiting() - free;
    if (backlog <= 0) return;
    let more = (this.slots.size === 0 ? 1 : 0) + Math.floor(backlog / BACKLOG_PER_THREAD);
    for (; more > 0 && this.slots.size < this.threads; more--) this.spawn();
  }

  private spawn(): void {
    const spare = takeSpare(this.init, this.resourceLimits);
    const worker = spare?.worker ?? createThread(this.init, this.resourceLimits);
    const slot: Slot = { worker, ready: spare?.ready ?? false, dead: false, job: null, timer: undefined };
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
      this.failWaiting(startErr);
      return;
    }
    this.refill();
  }

  private retire(slot: Slot): void {
    slot.dead = true;
    clearTimeout(slot.timer);
    slot.job = null;
    this.slots.delete(slot);
    if (this.bigSlot === slot) this.bigSlot = undefined;
    this.replaced++;
    void slot.worker.terminate();
  }

  private refill(): void {
    if (this.closed) return;
    // A thread that died with work waiting is replaced; more start as the backlog asks.
    if (this.waiting() > 0 && this.slots.size < this.threads) this.spawn();
    this.grow();
    this.dispatch();
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (!slot.ready || slot.dead || slot.job) continue;
      const job = this.nextJob(slot);
      if (!job) continue;
      slot.job = job;
      job.startedAt = performance.now();
      slot.timer = setTimeout(() => this.onTimeout(slot, job), this.fileTimeoutMs);
      slot.worker.postMessage({ type: "lint", id: job.id, task: job.task } satisfies ToThread);
    }
  }

  /**
   * The next file for a free thread: the oldest waiting, except that a big file goes only to the
   * big-file thread (the first free thread becomes it when there is none).
   */
  private nextJob(slot: Slot): Job | undefined {
    // Files of a batch that already failed are not worth a thread's time.
    for (const q of [this.queue, this.bigQueue]) while (q[0]?.batch.failed) q.shift();
    const small = this.queue[0];
    const big = this.bigQueue[0];
    const mayTakeBig = big !== undefined && (this.bigSlot ?? slot) === slot;
    if (mayTakeBig && (small === undefined || big.id < small.id)) {
      this.bigSlot = slot;
      return this.bigQueue.shift();
    }
    return this.queue.shift();
  }

  private waiting(): number {
    return this.queue.length + this.bigQueue.length;
  }

  private failWaiting(err: Error): void {
    for (const job of [...this.queue, ...this.bigQueue]) job.reject(err);
    this.queue = [];
    this.bigQueue = [];
  }
}

function result(job: Job, messages: LintMessage[]): LintFileResult {
  return { path: job.task.path, messages, durationMs: Math.round((performance.now() - job.startedAt) * 100) / 100 };
}
