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
import { setMaxListeners } from "node:events";
import type { Logger } from "pino";
import { decode, encode, formatHeaders, formatOf, type Format } from "./codec.js";
import { isPermanent, PermanentError, ShutdownError, toWireError, type WireError } from "./errors.js";
import { H, type ErrorReply, type TaskResult } from "./envelope.js";
import { sleep } from "./concurrency.js";
import type { DeadLetters, DeadLetterKind, RawMessage } from "./dlq.js";
import {
  ADVISORY_STREAM,
  advisorySubject,
  durableName,
  isIngress,
  queueSubject,
  streamFor,
  whenReady,
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
  /**
   * What the dead-letter stream keeps of a task given up: e.g. its payload and
   * reason without the credentials a client put in it. Default: as they are.
   */
  deadLetter?: (task: DeadLetterCopy) => DeadLetterCopy;
}

/** A task's payload and the reason it was given up, as the dead-letter stream keeps them. */
export interface DeadLetterCopy {
  data: Uint8Array;
  reason: string;
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
  /** performance.now() of the start or the last heartbeat of a queued task. */
  beat: number;
}

/** Bounds the tasks in flight; unlike a plain semaphore, a free slot is taken without a turn of the event loop. */
class Slots {
  private readonly waiters: (() => void)[] = [];
  constructor(private free: number) {}

  /** Takes a slot now, or returns the promise of one. */
  take(): Promise<void> | undefined {
    if (this.free > 0) {
      this.free--;
      return undefined;
    }
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free++;
  }
}

/** A reply to publish and/or a task to ack, batched per event-loop turn. */
interface Outgoing {
  to?: string;
  data?: Uint8Array;
  headers?: MsgHdrs;
  ack?: JsMsg;
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
  private readonly slots: Slots;
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
  /** One timer beats for every running queued task (a timer per task costs at 100k tasks). */
  private heartbeats?: NodeJS.Timeout;
  /**
   * Finished tasks' replies and acks, sent together once per event-loop turn:
   * one socket write for the lot, not one per task.
   */
  private outbox: Outgoing[] = [];
  private outboxFlush?: NodeJS.Immediate;
  private stopping = false;
  private closed?: Promise<void>;
  private counts = { processed: 0, failed: 0, deadLettered: 0 };

  constructor(
    private readonly deps: WorkerDeps,
    subject: string,
    private readonly handler: Handler<T, R>,
    options: WorkerOptions = {},
  ) {
    // Every running task may listen on the one abort signal (ctx.signal): not a leak.
    setMaxListeners(0, this.abort.signal);
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
      deadLetter: options.deadLetter ?? ((t) => t),
    };
    this.log = deps.log.child({ worker: subject });
    this.slots = new Slots(this.opts.concurrency);
  }

  stats(): WorkerStats {
    return { ...this.counts, inFlight: this.running.size };
  }

  async start(): Promise<this> {
    if (this.opts.consumeQueue) {
      if (!this.stream) throw new Error(`no work queue captures "${this.wire}": declare it in shared/topology.ts`);
      // A busy or electing cluster may time out a create: each step is idempotent, asked again.
      const step = <X>(what: string, fn: () => Promise<X>) => whenReady(`${this.durable}: ${what}`, fn, { log: this.log });
      const stream = this.stream;
      await step("consumers", () => this.ensureConsumers(stream));
      const consumer = await step("consumer", () => this.deps.js.consumers.get(stream, this.durable));
      this.loops.push(this.pullLoop(consumer));
      const adv = await step("advisory consumer", () => this.deps.js.consumers.get(ADVISORY_STREAM, `adv_${this.durable}`));
      this.advisories = await adv.consume({ max_messages: 4 });
      this.loops.push(this.advisoryLoop(this.advisories, this.stream));
      this.startHeartbeats();
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
    const wait = this.slots.take();
    if (wait) await wait;
    // close() hands buffered tasks back; one it took is no longer ours to run.
    if (!this.buffered.delete(m)) return this.slots.release();
    this.track(m, (entry) => this.runQueued(m, entry));
  }

  /**
   * Every running queued task whose last beat is at least half a period old gets
   * `working()`: the gap between beats stays within `heartbeat`, as a timer per
   * task would keep it, and a short task is never beaten.
   */
  private startHeartbeats() {
    const every = Math.max(1, Math.floor(this.opts.heartbeat / 2));
    this.heartbeats = setInterval(() => {
      const old = performance.now() - every;
      for (const r of this.running) {
        // A task handed back at shutdown belongs to the next worker: stop vouching for it.
        if (r.msg && !r.handedBack && r.beat <= old) {
          r.beat = performance.now();
          r.msg.working();
        }
      }
    }, every);
    this.heartbeats.unref();
  }

  /** Queues a reply (a request's answer, a distributed task's result) and/or a task's ack for this turn's batch. */
  private sendLater(out: Outgoing) {
    this.outbox.push(out);
    this.outboxFlush ??= setImmediate(() => this.flushOutbox());
  }

  private flushOutbox() {
    if (this.outboxFlush) clearImmediate(this.outboxFlush);
    this.outboxFlush = undefined;
    const out = this.outbox;
    this.outbox = [];
    for (const { to, data, headers, ack } of out) {
      try {
        if (to && data) this.deps.nc.publish(to, data, { headers });
        ack?.ack();
      } catch (err) {
        // A closed connection. An unacked task is redelivered; a request's caller times out.
        this.log.warn({ err: (err as Error).message }, "reply or ack not sent");
      }
    }
  }

  private async runQueued(m: JsMsg, entry: Running) {
    const info = m.info;
    const attempt = info.deliveryCount;
    const headers = m.headers;
    const delivery = `${info.stream}.${info.streamSequence}`;
    const id = headers?.get(H.taskId) || delivery;
    const working = () => {
      if (entry.handedBack) return;
      entry.beat = performance.now();
      m.working();
    };
    try {
      const task = this.decodeTask(m.data, headers);
      const value = await this.handler(task, this.context(id, "distribute", attempt, headers, working));
      if (entry.handedBack) return;
      const result: TaskResult<R> = { id, subject: this.subject, ok: true, value };
      if (headers?.get(H.resultsTo)) {
        await this.deliverResult(headers, delivery, result);
        this.sendLater({ ack: m });
      } else {
        // The common cases, an inbox or nobody, wait for nothing: reply and ack go out with the turn's batch.
        // The result envelope is a msgpack map, never taken for JSON: no content-type needed (codec.formatOf).
        const to = headers?.get(H.replyTo);
        this.sendLater(to ? { to, data: encode(result), ack: m } : { ack: m });
      }
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
    const kept = this.opts.deadLetter({ data: msg.data, reason });
    await this.deps.dlq.park({ ...msg, data: kept.data }, { stream, streamSeq, attempts, reason: kept.reason, kind });
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
      const wait = this.slots.take();
      if (wait) await wait;
      this.track(undefined, () => this.runRequest(m));
    }
  }

  /** Answers a request; a handler that returns a plain value is answered without a turn of the event loop. */
  private runRequest(m: Msg): Promise<void> | undefined {
    const format: Format = formatOf(m.data, m.headers);
    const id = nuid.next();
    let value: R | Promise<R>;
    try {
      const task = this.decodeTask(m.data, m.headers);
      value = this.handler(task, this.context(id, "send", 1, m.headers, () => {}));
    } catch (err) {
      this.answerRequest(m, format, id, undefined, err);
      return undefined;
    }
    if (isPromiseLike(value)) {
      return Promise.resolve(value).then(
        (v) => this.answerRequest(m, format, id, v),
        (err) => this.answerRequest(m, format, id, undefined, err),
      );
    }
    this.answerRequest(m, format, id, value);
    return undefined;
  }

  private answerRequest(m: Msg, format: Format, id: string, value: unknown, err?: unknown): void {
    if (err === undefined) {
      if (!m.reply) return void this.counts.processed++;
      const data = encode(value ?? null, format);
      // Too big for one message: the client gets an error now, not a timeout later.
      const max = (this.deps.nc.info?.max_payload ?? 1024 * 1024) - 4096;
      if (data.length > max) {
        const tooBig = new PermanentError(`the answer is ${data.length} bytes, over the ${max}-byte message limit`, "E_TOO_LARGE");
        return this.answerRequest(m, format, id, undefined, tooBig);
      }
      this.counts.processed++;
      // JSON answers say so (edge clients); msgpack that cannot pass for JSON needs no header (codec.formatOf).
      const headers = format === "json" || sniffsAsJson(data) ? formatHeaders(format) : undefined;
      this.sendLater({ to: m.reply, data, headers });
      return;
    }
    this.counts.failed++;
    const w = toWireError(err);
    const body = { error: w.message, code: w.code, name: w.name, permanent: w.permanent } satisfies ErrorReply;
    this.log.info({ id, err: w.message, code: w.code }, "request failed");
    const h = formatHeaders(format);
    h.set(H.status, "error");
    if (m.reply) this.sendLater({ to: m.reply, data: encode(body, format), headers: h });
  }

  // ---- shared -----------------------------------------------------------------------

  private decodeTask(data: Uint8Array, headers?: MsgHdrs): T {
    return this.opts.decode(data, headers) as T;
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
      signal: this.abort.signal,
      working,
    };
  }

  /** Runs a task in a slot; `run` returns nothing when it finished synchronously. */
  private track(msg: JsMsg | undefined, run: (entry: Running) => Promise<void> | undefined) {
    const entry: Running = { msg, handedBack: false, done: DONE, beat: performance.now() };
    this.running.add(entry);
    const finish = () => {
      this.running.delete(entry);
      this.slots.release();
      this.wake?.();
    };
    const failed = (err: unknown) => {
      this.log.error({ err: (err as Error).message }, "task runner failed");
      finish();
    };
    let pending: Promise<void> | undefined;
    try {
      pending = run(entry);
    } catch (err) {
      return failed(err);
    }
    if (pending) entry.done = pending.then(finish, failed);
    else finish();
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
    clearInterval(this.heartbeats);
    // Finished tasks' replies and acks go out before the connection drains.
    this.flushOutbox();
    const loopsOver = new AbortController();
    await Promise.race([Promise.allSettled(this.loops), sleep(1000, loopsOver.signal)]);
    loopsOver.abort();
  }
}

const DONE = Promise.resolve();

/** True when a payload's first byte would make codec.formatOf take it for JSON: `{` or `[`. */
function sniffsAsJson(data: Uint8Array): boolean {
  return data[0] === 0x7b || data[0] === 0x5b;
}

function isPromiseLike<V>(v: V | PromiseLike<V>): v is PromiseLike<V> {
  return typeof (v as PromiseLike<V> | undefined)?.then === "function";
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
