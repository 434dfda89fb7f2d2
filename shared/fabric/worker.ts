/**
 * The fourth verb: be a worker. One handler serves both `send` (a queue-group
 * subscription) and `distribute` (a durable pull consumer on the subject's work
 * queue), with bounded concurrency, heartbeats, backoff and dead-lettering.
 *
 * The Worker wires the units of shared/fabric/worker/ together, one concern each, each
 * given only the narrow interface it needs: slots, the tasks in flight, pulling,
 * heartbeats, the outbox, results, dead letters, the max-deliveries watcher and
 * requests. It keeps the start-up (consumers) and the order of shutdown.
 */
import { nanos, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import type { JetStreamClient, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import type { Logger } from "pino";
import { decode } from "./codec.js";
import { HeaderNames } from "./envelope.js";
import { sleep } from "./concurrency.js";
import { fromSchedule } from "./backoff.js";
import type { DeadLetters } from "./dlq.js";
import { maxBody } from "./limits.js";
import type { Queues } from "./queues.js";
import { ADVISORY_STREAM, advisoryDurable, durableName, fairBell, fairDurable, queueGroup } from "./names.js";
import { fairFilter, laneToken, parseFairWire } from "./fair.js";
import { whenReady } from "./topology.js";
import { DeadLetterer, type DeadLetterCopy } from "./worker/dead-letter.js";
import { ErrorCodes, FarmError } from "./errors.js";
import { Heartbeats } from "./worker/heartbeats.js";
import { InFlight } from "./worker/in-flight.js";
import { observed, type WorkerObserver } from "./worker/observers.js";
import { advisoryConsumer, MaxDeliveries } from "./worker/max-deliveries.js";
import { Outbox } from "./worker/outbox.js";
import type { TaskRun } from "./worker/ports.js";
import { Puller, workQueueConsumer, type PullOwner } from "./worker/pull.js";
import { FairPuller, type FairSource } from "./worker/fair-pull.js";
import { QueuedTasks } from "./worker/queued.js";
import { Requests } from "./worker/requests.js";
import { Results } from "./worker/results.js";
import { Slots } from "./worker/slots.js";

export type { DeadLetterCopy };

export interface WorkerOptions {
  /** Tasks in flight at once (requests and queued tasks together). Default 1. */
  concurrency?: number;
  /**
   * Queued tasks pulled ahead of a free slot. A pulled task's ack wait is already
   * running, so the buffer stays this small. Default 0: pull only into a free slot.
   */
  prefetch?: number;
  /** Ms the server waits for an ack before redelivering. Default 30000. */
  ackWait?: number;
  /** Deliveries before a task is dead-lettered. Default 5. */
  maxDeliver?: number;
  /** Ms to wait before retry n (by attempt; the last repeats). Default [1000, 5000, 15000, 60000]. */
  backoff?: number[];
  /** Ms between `working()` heartbeats of a running task. Default ackWait / 3. */
  heartbeat?: number;
  /** Serve `send` requests too. Default true, except on ingress subjects (a stream captures them). */
  serveRequests?: boolean;
  /** Consume the subject's work queue. Default true. */
  consumeQueue?: boolean;
  /** Ms to let in-flight tasks finish on close before handing them back. Default 10000. */
  shutdownGrace?: number;
  /**
   * Turns a payload into the handler's task. Default: the codec (msgpack or JSON).
   * A handler that must answer even undecodable input takes the raw bytes: `(data) => data`.
   */
  decode?: (data: Uint8Array, headers?: MsgHdrs) => unknown;
  /**
   * What the dead-letter stream keeps of a task given up: e.g. its payload and
   * reason without the credentials a client put in it. Default: as they are.
   */
  deadLetter?: (task: DeadLetterCopy) => DeadLetterCopy;
  /** Fair subjects (QueueSpec.fair): backfill's share of the cost served while both lanes wait, 0–1. Default 0.2. */
  backfillShare?: number;
  /** Fair subjects: ms a (lane, tenant) consumer may sit unused before the server removes it. Default 300000. */
  idleConsumerMs?: number;
  /**
   * Fair subjects: slots only interactive tasks may take, so that long
   * backfill tasks filling every slot never hold a push (fewer than
   * `concurrency`). Default 0: a freed slot goes to interactive first anyway.
   */
  interactiveReserve?: number;
}

export interface TaskContext {
  id: string;
  subject: string;
  via: "send" | "distribute";
  /** 1 on the first delivery. */
  attempt: number;
  maxDeliver: number;
  headers?: MsgHdrs;
  log: Logger;
  /** Aborted when the worker gives up waiting for this task at shutdown. */
  signal: AbortSignal;
  /** Extends the ack deadline now (heartbeats also do this on their own). */
  working(): void;
}

export type Handler<T, R> = (task: T, ctx: TaskContext) => R | Promise<R>;

export interface WorkerStats {
  processed: number;
  failed: number;
  deadLettered: number;
  inFlight: number;
}

export interface WorkerDeps {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  dlq: DeadLetters;
  log: Logger;
  /** The work queues a subject may be on (Farm passes its own). */
  queues: Queues;
  /** See every task (metrics, $SRV stats, traces); read at each task, so later additions count. Default none. */
  observers?: readonly WorkerObserver[];
}

export class Worker<T = unknown, R = unknown> {
  readonly subject: string;
  readonly durable: string;
  private readonly queues: Queues;
  private readonly opts: Required<WorkerOptions>;
  private readonly log: Logger;
  private readonly counts = { processed: 0, failed: 0, deadLettered: 0 };
  private readonly slots: Slots;
  private readonly inFlight: InFlight;
  private readonly heartbeats: Heartbeats;
  private readonly outbox: Outbox;
  private readonly results: Results;
  private readonly deadLetters: DeadLetterer;
  private readonly puller: Puller<JsMsg> | FairPuller<JsMsg>;
  private readonly requests: Requests;
  private maxDeliveries?: MaxDeliveries;
  private readonly loops: Promise<void>[] = [];
  private closed?: Promise<void>;

  constructor(
    private readonly deps: WorkerDeps,
    subject: string,
    private readonly handler: Handler<T, R>,
    options: WorkerOptions = {},
  ) {
    this.subject = subject;
    this.durable = durableName(subject);
    this.queues = deps.queues;
    const ackWait = options.ackWait ?? 30_000;
    const opts: Required<WorkerOptions> = {
      concurrency: options.concurrency ?? 1,
      prefetch: options.prefetch ?? 0,
      ackWait,
      maxDeliver: options.maxDeliver ?? 5,
      backoff: options.backoff ?? [1000, 5000, 15000, 60000],
      heartbeat: options.heartbeat ?? Math.max(100, Math.floor(ackWait / 3)),
      serveRequests: options.serveRequests ?? !this.queues.isIngress(subject),
      consumeQueue: options.consumeQueue ?? true,
      shutdownGrace: options.shutdownGrace ?? 10_000,
      decode: options.decode ?? decode,
      deadLetter: options.deadLetter ?? ((t) => t),
      backfillShare: options.backfillShare ?? 0.2,
      idleConsumerMs: options.idleConsumerMs ?? 300_000,
      interactiveReserve: options.interactiveReserve ?? 0,
    };
    if (!(Number.isInteger(opts.interactiveReserve) && opts.interactiveReserve >= 0 && opts.interactiveReserve < opts.concurrency))
      throw new FarmError(
        `interactiveReserve must be a whole number from 0 to concurrency - 1 (${opts.concurrency - 1}), got ${opts.interactiveReserve}`,
        ErrorCodes.InvalidInput,
      );
    this.opts = opts;
    const log = (this.log = deps.log.child({ worker: subject }));
    const counts = this.counts;

    this.slots = new Slots(opts.concurrency);
    // A freed slot goes to the next waiter, and may make room for the pull loop.
    const freed = () => {
      this.slots.release();
      this.puller.wake();
    };
    this.inFlight = new InFlight({ freed }, log);
    this.heartbeats = new Heartbeats(this.inFlight, { heartbeat: opts.heartbeat });
    this.outbox = new Outbox(deps.nc, log);
    this.results = new Results({ nc: deps.nc, js: deps.js, queues: this.queues });
    this.deadLetters = new DeadLetterer(
      { dlq: deps.dlq, results: this.results, counts, observers: deps.observers, log },
      { subject, decode: opts.decode, keep: opts.deadLetter, retryDelay: fromSchedule(opts.backoff, 0, 1000) },
    );
    const queued = new QueuedTasks(
      {
        run: (data, h, run) => this.run("distribute", data, h, run),
        beats: this.heartbeats,
        outbox: this.outbox,
        results: this.results,
        deadLetters: this.deadLetters,
        counts,
        log,
      },
      { subject, maxDeliver: opts.maxDeliver, backoff: opts.backoff },
    );
    const inFlight = this.inFlight;
    const owner: PullOwner<JsMsg> = {
      get inFlight() {
        return inFlight.size;
      },
      take: () => this.slots.take(),
      release: () => this.slots.release(),
      run: (m, done) => inFlight.track(m, (entry) => (done ? queued.run(m, entry).finally(done) : queued.run(m, entry))),
    };
    const limit = opts.concurrency + opts.prefetch;
    this.puller = this.queues.isFair(subject)
      ? new FairPuller<JsMsg>(owner, {
          limit,
          log,
          backfillShare: opts.backfillShare,
          backfillSlots: opts.concurrency - opts.interactiveReserve,
          heartbeat: opts.heartbeat,
          costOf: (m) => Number(m.headers?.get(HeaderNames.cost)) || 1,
        })
      : new Puller<JsMsg>(owner, { limit, log });
    this.requests = new Requests({
      run: (data, h, run) => this.run("send", data, h, run),
      slots: this.slots,
      tasks: inFlight,
      outbox: this.outbox,
      counts,
      maxBody: () => maxBody(deps.nc),
      log,
    });
  }

  stats(): WorkerStats {
    return { ...this.counts, inFlight: this.inFlight.size };
  }

  /** How this worker takes work, as a service endpoint (Service.endpoints, $SRV.INFO). */
  get endpoint(): { subject: string; queueGroup?: string; requests: boolean; workQueue?: { stream: string; consumer: string; fair?: boolean } } {
    const { serveRequests, consumeQueue } = this.opts;
    return {
      subject: this.subject,
      ...(serveRequests ? { queueGroup: queueGroup(this.subject) } : {}),
      requests: serveRequests,
      ...(consumeQueue
        ? {
            workQueue: {
              stream: this.queues.queuedOn(this.subject).stream,
              consumer: this.durable,
              ...(this.queues.isFair(this.subject) ? { fair: true } : {}),
            },
          }
        : {}),
    };
  }

  async start(): Promise<this> {
    const puller = this.puller;
    if (this.opts.consumeQueue && puller instanceof FairPuller) {
      const { stream } = this.queues.queuedOn(this.subject);
      const bell = this.deps.nc.subscribe(fairBell(this.subject), { callback: () => puller.ring() });
      this.loops.push(puller.run(this.fairSource(stream)).finally(() => bell.unsubscribe()));
      this.heartbeats.start();
    } else if (this.opts.consumeQueue) {
      // Refused when no declared work queue captures the subject.
      const { wire, stream } = this.queues.queuedOn(this.subject);
      // A busy or electing cluster may time out a create: each step is idempotent, asked again.
      const step = <X>(what: string, fn: () => Promise<X>) => whenReady(`${this.durable}: ${what}`, fn, { log: this.log });
      await step("consumers", () => this.ensureConsumers(stream, wire));
      const consumer = await step("consumer", () => this.deps.js.consumers.get(stream, this.durable));
      this.loops.push((puller as Puller<JsMsg>).run(consumer));
      const adv = await step("advisory consumer", () => this.deps.js.consumers.get(ADVISORY_STREAM, advisoryDurable(this.durable)));
      const advisories = await adv.consume({ max_messages: 4 });
      this.maxDeliveries = new MaxDeliveries({ streams: this.deps.jsm.streams, parker: this.deadLetters, log: this.log }, { stream });
      this.loops.push(this.maxDeliveries.watch(advisories));
      this.heartbeats.start();
    }
    if (this.opts.serveRequests) {
      const sub = this.deps.nc.subscribe(this.subject, { queue: queueGroup(this.subject) });
      this.loops.push(this.requests.serve(sub));
    }
    this.log.debug({ opts: this.opts }, "worker started");
    return this;
  }

  /** A fair subject's flows: the stream's per-subject counts, and a durable per (lane, tenant), removed by the server once idle. */
  private fairSource(stream: string): FairSource<JsMsg> {
    const { jsm, js } = this.deps;
    const { ackWait, concurrency, idleConsumerMs } = this.opts;
    const subject = this.subject;
    return {
      backlog: async () => {
        const info = await jsm.streams.info(stream, { subjects_filter: fairFilter(subject) });
        return new Map(Object.entries(info.state.subjects ?? {}));
      },
      laneOf: (wire) => parseFairWire(subject, wire)?.lane ?? null,
      open: async (wire) => {
        const { lane, token } = parseFairWire(subject, wire)!;
        const durable = fairDurable(this.durable, laneToken(lane), token);
        // max_deliver unbounded: QueuedTasks gives a task up after maxDeliver, so no advisory consumer per flow is needed.
        const config = { ...workQueueConsumer({ durable, wire, ackWait, maxDeliver: -1, concurrency }), inactive_threshold: nanos(idleConsumerMs) };
        await whenReady(`${durable}: consumer`, () => jsm.consumers.add(stream, config), { log: this.log });
        return js.consumers.get(stream, durable);
      },
    };
  }

  private async ensureConsumers(stream: string, wire: string) {
    const { ackWait, maxDeliver, concurrency } = this.opts;
    await this.deps.jsm.consumers.add(stream, workQueueConsumer({ durable: this.durable, wire, ackWait, maxDeliver, concurrency }));
    await this.deps.jsm.consumers.add(ADVISORY_STREAM, advisoryConsumer(stream, this.durable));
  }

  /** Decodes a task and runs the handler on it with its context (throws what the decoder throws). */
  private run(via: TaskContext["via"], data: Uint8Array, headers: MsgHdrs | undefined, run: TaskRun): R | Promise<R> {
    const handle = () => this.handler(this.opts.decode(data, headers) as T, this.context(run.id, via, run.attempt, headers, run.working));
    const observers = this.deps.observers;
    if (!observers?.length) return handle();
    return observed(observers, { id: run.id, subject: this.subject, via, attempt: run.attempt, headers }, handle);
  }

  private context(id: string, via: TaskContext["via"], attempt: number, headers: MsgHdrs | undefined, working: () => void): TaskContext {
    const parent = this.log;
    let log: Logger | undefined;
    return {
      id,
      subject: this.subject,
      via,
      attempt,
      maxDeliver: via === "send" ? 1 : this.opts.maxDeliver,
      headers,
      // A child logger per task is made only for the handlers that log.
      get log() {
        return (log ??= parent.child({ task: id }));
      },
      signal: this.inFlight.signal,
      working,
    };
  }

  /**
   * Stops taking work, lets in-flight tasks finish for `shutdownGrace` ms, then
   * hands the rest back with an immediate nak so no task waits out its ack wait.
   */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown() {
    this.puller.stop();
    this.requests.stop();
    this.maxDeliveries?.stop();
    this.puller.handBackBuffered();
    await this.inFlight.close(this.opts.shutdownGrace);
    this.heartbeats.stop();
    // Finished tasks' replies and acks go out before the connection drains.
    this.outbox.flush();
    const loopsOver = new AbortController();
    // A fair worker's open pulls expire on their own: until then a task they bring is handed back.
    const drain = this.puller instanceof FairPuller ? this.puller.drainMs : 1000;
    await Promise.race([Promise.allSettled(this.loops), sleep(drain, loopsOver.signal)]);
    loopsOver.abort();
  }
}
