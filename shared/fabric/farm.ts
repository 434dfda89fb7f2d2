/**
 * Farm: the four verbs over one NATS connection.
 *
 *   const farm = await Farm.connect({ servers: "nats://127.0.0.1:4222" });
 *   await farm.jobs.send("lint.file", { path, content });
 *   await farm.jobs.distribute("jobs.resize", images);
 *   farm.events.subscribe("repo.analysis.>", (e) => console.log(e));
 *   await farm.worker("jobs.resize", async (img) => resize(img), { concurrency: 4 });
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstream, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import type { Logger } from "pino";
import { connectNats, type ConnectOptions } from "./connection.js";
import { DeadLetters } from "./dlq.js";
import { Events } from "./events.js";
import { Jobs } from "./jobs.js";
import { createLogger } from "./logger.js";
import { Queues, type QueueSpec } from "./queues.js";
import { openTopology } from "./topology.js";
import { Worker, type Handler, type WorkerOptions } from "./worker.js";
import type { WorkerObserver } from "./worker/observers.js";

export interface FarmOptions extends ConnectOptions {
  log?: Logger;
  /** Create the queues' streams, the DLQ and the advisories stream at connect. Default true. */
  ensureTopology?: boolean;
  /** Replicas for what ensureTopology creates. Default 1. */
  replicas?: number;
  /** How long connect waits for a cluster that is still forming. Default 60000 ms. */
  readyTimeout?: number;
  /**
   * The work queues this farm uses: each a stream that `jobs.distribute`/`enqueue`
   * and workers of its subjects use, created at connect. Default none.
   */
  queues?: QueueSpec[];
}

export class Farm {
  readonly jobs: Jobs;
  readonly events: Events;
  readonly dlq: DeadLetters;
  // Only closed here: what they take and return does not matter.
  private readonly workers = new Set<Pick<Worker, "close" | "endpoint">>();
  /** What every worker of this farm tells of its tasks (observe). */
  private readonly observers: WorkerObserver[] = [];
  private closing?: Promise<void>;

  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    readonly log: Logger,
    /** The work queues this farm knows: the connect options'. */
    readonly queues: Queues,
    inboxPrefix?: string,
  ) {
    this.jobs = new Jobs({ nc, queues, inboxPrefix });
    this.events = new Events(nc, log);
    this.dlq = new DeadLetters(js, jsm);
  }

  static async connect(opts: FarmOptions): Promise<Farm> {
    const log = opts.log ?? createLogger({ name: opts.name });
    const nc = await connectNats(opts);
    const queues = new Queues(opts.queues);
    const jsm = await openTopology(nc, queues, { create: opts.ensureTopology ?? true, replicas: opts.replicas, log, readyTimeout: opts.readyTimeout });
    return new Farm(nc, jetstream(nc), jsm, log, queues, opts.inboxPrefix);
  }

  /** Starts a worker for `subject`; closed with the farm. */
  async worker<T = unknown, R = unknown>(subject: string, handler: Handler<T, R>, opts?: WorkerOptions): Promise<Worker<T, R>> {
    const deps = { nc: this.nc, js: this.js, jsm: this.jsm, dlq: this.dlq, log: this.log, queues: this.queues, observers: this.observers };
    const w = new Worker<T, R>(deps, subject, handler, opts);
    await w.start();
    this.workers.add(w);
    return w;
  }

  /** The fair subjects this farm's queue workers take, and their streams (their flows come and go). */
  fairQueues(): { stream: string; subject: string }[] {
    return [...this.workers].flatMap((w) => (w.endpoint.workQueue?.fair ? [{ stream: w.endpoint.workQueue.stream, subject: w.endpoint.subject }] : []));
  }

  /** The durable consumers of this farm's queue workers (what a process reports of JetStream). */
  workQueues(): { stream: string; consumer: string }[] {
    // A fair worker's consumers are one per (lane, tenant), made and removed as work comes and goes.
    return [...this.workers].flatMap((w) => (w.endpoint.workQueue && !w.endpoint.workQueue.fair ? [w.endpoint.workQueue] : []));
  }

  /** Adds an observer of every task of this farm's workers, those started already included. */
  observe(observer: WorkerObserver): void {
    this.observers.push(observer);
  }

  /** Graceful: workers finish or hand back their tasks, then the connection drains. Idempotent. */
  close(): Promise<void> {
    // A second drain() on a draining connection throws: every caller shares the first close.
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown() {
    await Promise.all([...this.workers].map((w) => w.close()));
    this.workers.clear();
    if (!this.nc.isClosed()) await this.nc.drain();
  }
}
