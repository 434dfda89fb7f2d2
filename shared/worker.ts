/**
 * The fourth verb: be a worker. One handler serves both `send` (a queue-group
 * subscription) and `distribute` (a durable pull consumer on the subject's work
 * queue), with bounded concurrency, heartbeats, backoff and dead-lettering.
 */
import {
  nanos,
  nuid,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from "@nats-io/transport-node";
import {
  AckPolicy,
  type Consumer,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from "@nats-io/jetstream";
import type { Logger } from "pino";
import { decode, encode, formatHeaders, formatOf, type Format } from "./codec.js";
import { isPermanent, ShutdownError, toWireError, type WireError } from "./errors.js";
import { H, type ErrorReply, type TaskResult } from "./envelope.js";
import { Semaphore, sleep } from "./concurrency.js";
import type { DeadLetters, DeadLetterKind, RawMessage } from "./dlq.js";
import {
  ADVISORY_STREAM,
  advisorySubject,
  durableName,
  isIngress,
  queueSubject,
  streamFor,
} from "./topology.js";

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
}

interface Running {
  msg?: JsMsg;
  handedBack: boolean;
  done: Promise<void>;
}

/** Ms a pull waits for work before it is renewed. */
const PULL_EXPIRES = 10_000;

export class Worker<T = unknown, R = unknown> {
  readonly subject: string;
  readonly durable: string;
  private readonly wire: string;
  private readonly stream?: string;
  private readonly opts: Required<WorkerOptions>;
  private readonly log: Logger;
  private readonly slots: Semaphore;
  /** Aborts handlers when close() stops waiting for them. */
  private readonly abort = new AbortController();
  /** Aborts the worker's own waits (pulls, retry pauses) when close() starts. */
  private readonly halt = new AbortController();
  private readonly running = new Set<Running>();
  /** Queued tasks received but waiting for a slot. */
  private readonly buffered = new Set<JsMsg>();
  private readonly loops: Promise<void>[] = [];
  private sub?: Subscription;
  private fetching?: ConsumerMessages;
  private advisories?: ConsumerMessages;
  /** Wakes the pull loop when a slot frees up. */
  private wake?: () => void;
  private stopping = false;
  private closed?: Promise<void>;
  private counts = { processed: 0, failed: 0, deadLettered: 0 };

  constructor(
    private readonly deps: WorkerDeps,
    subject: string,
    private readonly handler: Handler<T, R>,
    options: WorkerOptions = {},
  ) {
    this.subject = subject;
    this.durable = durableName(subject);
    this.wire = queueSubject(subject);
    this.stream = streamFor(this.wire);
    const ackWait = options.ackWait ?? 30_000;
    this.opts = {
      concurrency: options.concurrency ?? 1,
      prefetch: options.prefetch ?? 0,
      ackWait,
      maxDeliver: options.maxDeliver ?? 5,
      backoff: options.backoff ?? [1000, 5000, 15000, 60000],
      heartbeat: options.heartbeat ?? Math.max(100, Math.floor(ackWait / 3)),
      serveRequests: options.serveRequests ?? !isIngress(subject),
      consumeQueue: options.consumeQueue ?? true,
      shutdownGrace: options.shutdownGrace ?? 10_000,
      decode: options.decode ?? decode,
    };
    this.log = deps.log.child({ worker: subject });
    this.slots = new Semaphore(this.opts.concurrency);
  }

  stats(): WorkerStats {
    return { ...this.counts, inFlight: this.running.size };
  }

  async start(): Promise<this> {
    if (this.opts.consumeQueue) {
      if (!this.stream) throw new Error(`no work queue captures "${this.wire}": declare it in shared/topology.ts`);
      await this.ensureConsumers(this.stream);
      const consumer = await this.deps.js.consumers.get(this.stream, this.durable);
      this.loops.push(this.pullLoop(consumer));
      const adv = await this.deps.js.consumers.get(ADVISORY_STREAM, `adv_${this.durable}`);
      this.advisories = await adv.consume({ max_messages: 4 });
      this.loops.push(this.advisoryLoop(this.advisories, this.stream));
    }
    if (this.opts.serveRequests) {
      this.sub = this.deps.nc.subscribe(this.subject, { queue: `farm.${this.subject}` });
      this.loops.push(this.requestLoop(this.sub));
    }
    this.log.debug({ opts: this.opts }, "worker started");
    return this;
  }

  private async ensureConsumers(stream: string) {
    await this.deps.jsm.consumers.add(stream, {
      durable_name: this.durable,
      filter_subject: this.wire,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(this.opts.ackWait),
      max_deliver: this.opts.maxDeliver,
      // Without a cap the server would hand one instance everything; the client bounds it anyway.
      max_ack_pending: Math.max(1000, this.opts.concurrency * 4),
    });
    await this.deps.jsm.consumers.add(ADVISORY_STREAM, {
      durable_name: `adv_${this.durable}`,
      filter_subject: advisorySubject(stream, this.durable),
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(30_000),
    });
  }

  // ---- distribute: the work queue -------------------------------------------------

  /**
   * Pulls only as many tasks as there is room for (free slots plus `prefetch`).
   * consume() holds a full batch behind the running tasks, and a held task burns
   * its ack wait unheard: with tasks longer than the ack wait (kept alive by
   * heartbeats) it is redelivered, and runs twice.
   */
  private async pullLoop(consumer: Consumer) {
    const limit = this.opts.concurrency + this.opts.prefetch;
    while (!this.stopping) {
      const room = limit - this.running.size - this.buffered.size;
      if (room <= 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      try {
        const batch = await consumer.fetch({ max_messages: room, expires: PULL_EXPIRES });
        this.fetching = batch;
        if (this.stopping) batch.stop();
        for await (const m of batch) void this.dispatch(m);
      } catch (err) {
        if (this.stopping) break;
        // Missed heartbeats, a lost consumer, a failover: log and pull again.
        this.log.warn({ err: (err as Error).message }, "pull failed; retrying");
        await sleep(1000, this.halt.signal);
      } finally {
        this.fetching = undefined;
      }
    }
  }

  private async dispatch(m: JsMsg) {
    if (this.stopping) return m.nak(); // hand it straight back to the other workers
    this.buffered.add(m);
    await this.slots.acquire();
    // close() hands buffered tasks back; one it took is no longer ours to run.
    if (!this.buffered.delete(m)) return this.slots.release();
    this.track(m, (entry) => this.runQueued(m, entry));
  }

  private async runQueued(m: JsMsg, entry: Running) {
    const attempt = m.info.deliveryCount;
    const id = m.headers?.get(H.taskId) || `${m.info.stream}.${m.seq}`;
    // A task handed back at shutdown belongs to the next worker: stop vouching for it.
    const working = () => entry.handedBack || m.working();
    const beat = setInterval(working, this.opts.heartbeat);
    try {
      const task = this.decodeTask(m.data, m.headers);
      const value = await this.handler(task, this.context(id, "distribute", attempt, m.headers, working));
      if (entry.handedBack) return;
      await this.deliverResult(m.headers, `${m.info.stream}.${m.seq}`, { id, subject: this.subject, ok: true, value });
      m.ack();
      this.counts.processed++;
    } catch (err) {
      if (entry.handedBack) return;
      this.counts.failed++;
      const permanent = isPermanent(err);
      if (!permanent && attempt < this.opts.maxDeliver) {
        const delay = this.opts.backoff[Math.min(attempt - 1, this.opts.backoff.length - 1)] ?? 0;
        this.log.info({ id, attempt, delay, err: (err as Error).message }, "task failed; will retry");
        m.nak(delay);
        return;
      }
      await this.deadLetter(m, id, attempt, err, permanent ? "permanent" : "exhausted");
    } finally {
      clearInterval(beat);
    }
  }

  private async deadLetter(m: JsMsg, id: string, attempts: number, err: unknown, kind: DeadLetterKind) {
    const reason = describe(err, kind, attempts);
    try {
      const raw = { subject: m.subject, data: m.data, headers: m.headers };
      await this.park(raw, m.info.stream, m.seq, attempts, reason, kind, id, toWireError(err));
      m.term(); // 2.9 ignores a term reason: the reason lives in the dead-letter entry
      this.log.warn({ id, attempts, kind, reason }, "task dead-lettered");
    } catch (e) {
      // Could not park it: let the server redeliver rather than lose it.
      this.log.error({ id, err: (e as Error).message }, "dead-lettering failed; task will be redelivered");
      m.nak(this.opts.backoff[0] ?? 1000);
    }
  }

  private async park(
    msg: RawMessage,
    stream: string,
    streamSeq: number,
    attempts: number,
    reason: string,
    kind: DeadLetterKind,
    id: string,
    /** The handler's last error; none when the worker never got to finish (advisory). */
    cause?: WireError,
  ) {
    await this.deps.dlq.park(msg, { stream, streamSeq, attempts, reason, kind });
    this.counts.deadLettered++;
    // The distributor sees the worker's own error, as `send` would; "DeadLettered" when there is none.
    const error: WireError = cause ?? { name: "DeadLettered", message: reason, code: "E_DEAD_LETTER", permanent: true };
    // The task rides along so a results consumer knows what was given up.
    const task = attempt(() => this.decodeTask(msg.data, msg.headers));
    await this.deliverResult(msg.headers, `${stream}.${streamSeq}`, { id, subject: this.subject, ok: false, error, task });
  }

  /**
   * Sends a task's outcome where the distributor asked: its inbox, or a results queue.
   * `delivery` (stream.seq) keys the dedup: a redelivered task's second answer is
   * dropped, a replayed task (a new message) is answered again.
   */
  private async deliverResult(h: MsgHdrs | undefined, delivery: string, result: TaskResult<R>) {
    const replyTo = h?.get(H.replyTo);
    const resultsTo = h?.get(H.resultsTo);
    if (replyTo) this.deps.nc.publish(replyTo, encode(result), { headers: formatHeaders() });
    if (resultsTo) {
      const rh = formatHeaders();
      rh.set(H.taskId, `${result.id}.result`);
      await this.deps.js.publish(queueSubject(resultsTo), encode(result), { msgID: `${result.id}.result.${delivery}`, headers: rh });
    }
  }

  // A worker that dies on every attempt never gets to park its task: the
  // server's max-deliveries advisory is the only trace, so act on it here.
  private async advisoryLoop(advisories: ConsumerMessages, stream: string) {
    for await (const a of advisories) {
      try {
        const { stream_seq: seq, deliveries } = a.json<{ stream_seq: number; deliveries: number }>();
        const sm = await this.deps.jsm.streams.getMessage(stream, { seq });
        if (sm) {
          const id = sm.header?.get(H.taskId) || `${stream}.${seq}`;
          const reason = `no ack after ${deliveries} deliveries: the worker crashed or timed out on every attempt`;
          await this.park({ subject: sm.subject, data: sm.data, headers: sm.header }, stream, seq, deliveries, reason, "exhausted", id);
          await this.deps.jsm.streams.deleteMessage(stream, seq, false).catch(() => false);
          this.log.warn({ id, seq, deliveries }, "task dead-lettered after max deliveries");
        }
        a.ack();
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, "max-deliveries advisory not handled; will retry");
        a.nak(5000);
      }
    }
  }

  // ---- send: request-reply ------------------------------------------------------------

  private async requestLoop(sub: Subscription) {
    for await (const m of sub) {
      await this.slots.acquire();
      this.track(undefined, () => this.runRequest(m));
    }
  }

  private async runRequest(m: Msg) {
    const format: Format = formatOf(m.data, m.headers);
    const id = nuid.next();
    const h = formatHeaders(format);
    let body: unknown;
    try {
      const task = this.decodeTask(m.data, m.headers);
      body = (await this.handler(task, this.context(id, "send", 1, m.headers, () => {}))) ?? null;
      this.counts.processed++;
    } catch (err) {
      this.counts.failed++;
      const w = toWireError(err);
      body = { error: w.message, code: w.code, name: w.name, permanent: w.permanent } satisfies ErrorReply;
      h.set(H.status, "error");
      this.log.info({ id, err: w.message, code: w.code }, "request failed");
    }
    if (m.reply) m.respond(encode(body, format), { headers: h });
  }

  // ---- shared -----------------------------------------------------------------------

  private decodeTask(data: Uint8Array, headers?: MsgHdrs): T {
    return this.opts.decode(data, headers) as T;
  }

  private context(id: string, via: TaskContext["via"], attempt: number, headers: MsgHdrs | undefined, working: () => void): TaskContext {
    return {
      id,
      subject: this.subject,
      via,
      attempt,
      maxDeliver: via === "send" ? 1 : this.opts.maxDeliver,
      headers,
      log: this.log.child({ task: id }),
      signal: this.abort.signal,
      working,
    };
  }

  private track(msg: JsMsg | undefined, run: (entry: Running) => Promise<void>) {
    const entry: Running = { msg, handedBack: false, done: Promise.resolve() };
    this.running.add(entry);
    entry.done = run(entry)
      .catch((err) => this.log.error({ err: (err as Error).message }, "task runner failed"))
      .finally(() => {
        this.running.delete(entry);
        this.slots.release();
        this.wake?.();
      });
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
    this.stopping = true;
    this.halt.abort();
    this.sub?.unsubscribe();
    this.fetching?.stop();
    this.advisories?.stop();
    this.wake?.();
    // Buffered tasks have not started: hand them straight back to the other workers.
    for (const m of this.buffered) m.nak();
    this.buffered.clear();
    const finished = Promise.allSettled([...this.running].map((r) => r.done));
    const graceOver = new AbortController();
    const inTime = await Promise.race([
      finished.then(() => true),
      sleep(this.opts.shutdownGrace, graceOver.signal).then(() => false),
    ]);
    graceOver.abort();
    if (!inTime) {
      for (const r of this.running) {
        r.handedBack = true;
        r.msg?.nak();
      }
      this.abort.abort(new ShutdownError());
      this.log.warn({ handedBack: this.running.size }, "shutdown grace over; in-flight tasks handed back");
    }
    const loopsOver = new AbortController();
    await Promise.race([Promise.allSettled(this.loops), sleep(1000, loopsOver.signal)]);
    loopsOver.abort();
  }
}

function attempt<V>(fn: () => V): V | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

function describe(err: unknown, kind: DeadLetterKind, attempts: number): string {
  const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return kind === "permanent" ? `permanent failure: ${msg}` : `failed ${attempts} times; last error: ${msg}`;
}
