/**
 * Two of the four verbs: `send` one job now (request-reply to a queue group)
 * and `distribute` many (a JetStream work queue).
 */
import { createInbox, errors as natsErrors, headers as natsHeaders, nuid, type Msg, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import { JetStreamApiError, JetStreamError, PubHeaders, type ApiError, type PubAck } from "@nats-io/jetstream";
import { decode, encode, formatHeaders } from "./codec.js";
import { ErrorCodes, FarmError, NoRespondersError, RemoteError, TimeoutError, type WireError } from "./errors.js";
import { isNatsTimeout } from "./nats-errors.js";
import { HeaderNames, type ErrorReply, type TaskResult } from "./envelope.js";
import { delayFor } from "./backoff.js";
import type { Queues } from "./queues.js";
import { sleep } from "./concurrency.js";
import { setTraceFields, traceFields, tracingOn } from "./tracing.js";
import { checkedPlacement, fairWire, type FairPlacement } from "./fair.js";
import { fairBell } from "./names.js";

export interface SendOptions {
  /** Milliseconds to wait for a reply. Default 10000. */
  timeout?: number;
  /** How long to keep retrying while no worker is up yet. Default: the timeout. */
  noRespondersWait?: number;
}

export interface DistributeOptions<T> {
  /** Task id, used as the JetStream message id (dedup). Default: a fresh nuid. */
  id?: (task: T, index: number) => string;
  /** Awaited mode: give up on results after this many ms. Default 300000. */
  timeout?: number;
  /** Publishes in flight at once (sent, not yet acknowledged by the stream). Default 256. */
  window?: number;
  /**
   * A fair subject's (QueueSpec.fair) lane, tenant and cost of each task.
   * Default: interactive, tenant "default", cost 1. Refused for other subjects.
   */
  placement?: (task: T, index: number) => FairPlacement;
}

/** Where the tasks of one call go: each task's wire subject and its own headers. */
interface Route {
  wire(i: number): string;
  headers(h: ReturnType<typeof natsHeaders>, i: number): void;
}

/** Ms the stream has to acknowledge a publish, as for `js.publish`. */
const PUB_ACK_TIMEOUT = 5000;

/** True when a payload's first byte would make codec.formatOf take it for JSON: `{` or `[`. */
function sniffsAsJson(data: Uint8Array): boolean {
  return data[0] === 0x7b || data[0] === 0x5b;
}

/** The stream's answer to one publish, checked as `js.publish` checks it. */
function pubAck(m: Msg, wire: string): PubAck {
  if (m.data.length === 0 && m.headers?.code === 503) {
    throw new FarmError(`no stream on the server captures "${wire}": was the topology created?`, ErrorCodes.Topology, {
      cause: new natsErrors.NoRespondersError(wire),
    });
  }
  const pa = m.json<PubAck & { error?: ApiError }>();
  if (pa.error) throw new JetStreamApiError(pa.error);
  if (!pa.stream) throw new JetStreamError("invalid ack response");
  return pa;
}

export interface FireAndForgetOptions<T> extends DistributeOptions<T> {
  /** Route results to this subject's work queue instead of awaiting them. */
  resultsTo: string;
}

export interface Enqueued {
  ids: string[];
  /** Tasks the stream already had (same id inside its duplicate window). */
  duplicates: number;
}

function isNoResponders(err: unknown): boolean {
  return err instanceof natsErrors.NoRespondersError || (err instanceof natsErrors.RequestError && err.isNoResponders());
}

function undecodableResult(id: string, err: unknown): WireError {
  const message = `the result of task "${id}" could not be decoded: ${(err as Error).message}`;
  return { name: "DecodeError", message, code: ErrorCodes.Decode, permanent: true };
}

/** The stream dropped the task as a copy: its result went, or goes, to whoever queued it first. */
function duplicateError(id: string): WireError {
  const message = `task id "${id}" was already queued within the stream's duplicate window; this copy was dropped`;
  return { name: "DuplicateTask", message, code: ErrorCodes.TaskIdReused, permanent: true };
}

/** While no worker serves a subject yet (one is starting): 50 ms, doubling, at most 1 s apart. */
const NO_RESPONDERS_BACKOFF = { initialMs: 50, maxMs: 1000 };

export interface JobsDeps {
  nc: NatsConnection;
  /** Which subjects have a work queue (distribute and enqueue refuse the others). */
  queues: Queues;
  /** The connection's reply-subject prefix (ConnectOptions.inboxPrefix). Default `_INBOX`. */
  inboxPrefix?: string;
}

export class Jobs {
  private readonly nc: NatsConnection;
  private readonly queues: Queues;
  private readonly inboxPrefix?: string;

  constructor(deps: JobsDeps) {
    this.nc = deps.nc;
    this.queues = deps.queues;
    this.inboxPrefix = deps.inboxPrefix;
  }

  /** One job now: the first worker of the queue group answers. */
  async send<R = unknown, T = unknown>(subject: string, task: T, opts: SendOptions = {}): Promise<R> {
    const data = encode(task);
    // msgpack that cannot pass for JSON needs no content-type (see codec.formatOf): one header block less each way.
    const msg = await this.exchange(subject, data, sniffsAsJson(data) ? formatHeaders() : undefined, opts);
    return decode<R>(msg.data, msg.headers);
  }

  /**
   * The same, asked and answered in JSON: the answer's JSON bytes, never
   * decoded, for a caller that writes it out as it is. (A view of the
   * connection's read buffer: copy it to keep it long.)
   */
  async sendForJson<T = unknown>(subject: string, task: T, opts: SendOptions = {}): Promise<Uint8Array> {
    return (await this.exchange(subject, encode(task, "json"), formatHeaders("json"), opts)).data;
  }

  /** The request and its reply, a failed job thrown as a RemoteError; retried while no worker serves `subject`. */
  private async exchange(subject: string, data: Uint8Array, headers: MsgHdrs | undefined, opts: SendOptions): Promise<Msg> {
    const timeout = opts.timeout ?? 10_000;
    const deadline = Date.now() + (opts.noRespondersWait ?? timeout);
    // The caller's span, when tracing: the worker's span continues it.
    const trace = tracingOn ? traceFields() : undefined;
    if (trace) headers = setTraceFields(headers ?? natsHeaders(), trace);
    for (let attempt = 0; ; attempt++) {
      try {
        const msg = await this.nc.request(subject, data, { timeout, headers });
        if (msg.headers?.get(HeaderNames.status) === "error") {
          const e = decode<ErrorReply>(msg.data, msg.headers);
          throw new RemoteError({ name: e.name, message: e.error, code: e.code, permanent: e.permanent });
        }
        return msg;
      } catch (err) {
        if (isNoResponders(err)) {
          const wait = delayFor(attempt, NO_RESPONDERS_BACKOFF);
          if (Date.now() + wait > deadline) throw new NoRespondersError(subject, { cause: err });
          await sleep(wait);
          continue;
        }
        if (isNatsTimeout(err)) throw new TimeoutError(subject, timeout, { cause: err });
        throw err;
      }
    }
  }

  /**
   * Many jobs through the work queue. Awaited mode resolves with one result per
   * task, in task order; a failed task is a result with `ok: false`, not a throw.
   * With `resultsTo`, resolves once the stream holds every task and results are
   * queued on `resultsTo` for another worker.
   */
  distribute<R = unknown, T = unknown>(subject: string, tasks: T[], opts?: DistributeOptions<T>): Promise<TaskResult<R>[]>;
  distribute<T = unknown>(subject: string, tasks: T[], opts: FireAndForgetOptions<T>): Promise<Enqueued>;
  async distribute<R, T>(subject: string, tasks: T[], opts: DistributeOptions<T> | FireAndForgetOptions<T> = {}): Promise<TaskResult<R>[] | Enqueued> {
    const route = this.route(subject, tasks, opts);
    const ids = tasks.map((t, i) => opts.id?.(t, i) ?? nuid.next());
    if ("resultsTo" in opts && opts.resultsTo) {
      // Checked now: a worker could not deliver the results, and would fail every task.
      this.queues.queuedOn(opts.resultsTo);
      const dups = await this.publishAll(route, tasks, ids, opts.window, (h) => h.set(HeaderNames.resultsTo, opts.resultsTo));
      this.ring(subject);
      return { ids, duplicates: dups.length };
    }
    return this.awaitResults<R, T>(route, subject, tasks, ids, opts);
  }

  /** Queues tasks and returns once the stream holds them; nobody waits for results. */
  async enqueue<T>(subject: string, tasks: T[], opts: Pick<DistributeOptions<T>, "id" | "window" | "placement"> = {}): Promise<Enqueued> {
    const route = this.route(subject, tasks, opts);
    const ids = tasks.map((t, i) => opts.id?.(t, i) ?? nuid.next());
    const dups = await this.publishAll(route, tasks, ids, opts.window, () => {});
    this.ring(subject);
    return { ids, duplicates: dups.length };
  }

  /** Where each task goes: the subject's wire, or for a fair subject its lane's and tenant's, with their headers. */
  private route<T>(subject: string, tasks: readonly T[], opts: Pick<DistributeOptions<T>, "placement">): Route {
    const { wire } = this.queues.queuedOn(subject);
    if (!this.queues.isFair(subject)) {
      if (opts.placement)
        throw new FarmError(`"${subject}" is not a fair queue: declare it in QueueSpec.fair to give tasks a lane and tenant`, ErrorCodes.Topology);
      return { wire: () => wire, headers: () => {} };
    }
    const placed = tasks.map((t, i) => checkedPlacement(opts.placement?.(t, i) ?? {}));
    return {
      wire: (i) => fairWire(subject, placed[i].lane, placed[i].tenant),
      headers: (h, i) => {
        h.set(HeaderNames.lane, placed[i].lane);
        h.set(HeaderNames.tenant, placed[i].tenant);
        h.set(HeaderNames.cost, String(placed[i].cost));
      },
    };
  }

  /** Workers of a fair subject look for new (lane, tenant) flows at once rather than at their next look. */
  private ring(subject: string): void {
    if (this.queues.isFair(subject)) this.nc.publish(fairBell(subject));
  }

  private async awaitResults<R, T>(route: Route, subject: string, tasks: T[], ids: string[], opts: DistributeOptions<T>): Promise<TaskResult<R>[]> {
    const index = new Map(ids.map((id, i) => [id, i]));
    if (index.size !== ids.length) throw new FarmError("task ids must be unique", ErrorCodes.DuplicateTaskIds);
    const results = new Array<TaskResult<R> | undefined>(tasks.length);
    let remaining = tasks.length;
    let allIn!: () => void;
    const collected = new Promise<void>((resolve) => (allIn = resolve));
    // A redelivered task may answer twice: the first answer wins.
    const settle = (i: number | undefined, r: TaskResult<R>) => {
      if (i === undefined || results[i]) return;
      results[i] = r;
      if (--remaining === 0) allIn();
    };
    const inbox = createInbox(this.inboxPrefix);
    const sub = this.nc.subscribe(inbox, {
      callback: (subErr, m) => {
        // A subscription error (e.g. a permission violation) ends nothing here: the timeout settles what is left.
        if (subErr) return;
        let r: TaskResult<R>;
        try {
          r = decode<TaskResult<R>>(m.data, m.headers);
        } catch (err) {
          // A result this client cannot read still settles its task (workers name it in a header), not at the timeout.
          const id = m.headers?.get(HeaderNames.taskId);
          if (id) settle(index.get(id), { id, subject, ok: false, error: undecodableResult(id, err) });
          return;
        }
        settle(index.get(r.id), r);
      },
    });
    const timeout = opts.timeout ?? 300_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      if (remaining > 0) {
        const dups = await this.publishAll(route, tasks, ids, opts.window, (h) => h.set(HeaderNames.replyTo, inbox));
        this.ring(subject);
        // No answer will come to this inbox for a dropped copy: settle it now, not at the timeout.
        for (const i of dups) settle(i, { id: ids[i], subject, ok: false, error: duplicateError(ids[i]) });
        await Promise.race([collected, new Promise((r) => (timer = setTimeout(r, timeout)))]);
      }
    } finally {
      clearTimeout(timer);
      sub.unsubscribe();
    }
    return results.map(
      (r, i) =>
        r ?? {
          id: ids[i],
          subject,
          ok: false as const,
          error: { name: "TimeoutError", message: `no result within ${timeout} ms`, code: ErrorCodes.Timeout, permanent: false },
        },
    );
  }

  /**
   * Publishes with a bounded window of unacknowledged publishes; returns the
   * indexes the stream dropped as copies. The JetStream publish protocol without
   * a request per message: each task goes out as a plain publish whose reply
   * subject (one inbox subscription for the call) receives the stream's ack, so
   * the acks of a window arrive and are checked together. `js.publish` would
   * build two Error objects, a timer and a promise chain for every task, which
   * cost more than the rest of the path (see test/bench/fabric.ts).
   */
  private publishAll<T>(route: Route, tasks: T[], ids: string[], window = 256, decorate: (h: ReturnType<typeof natsHeaders>) => void): Promise<number[]> {
    if (tasks.length === 0) return Promise.resolve([]);
    const nc = this.nc;
    const prefix = `${createInbox(this.inboxPrefix)}.`;
    const duplicates: number[] = [];
    // Injected once, now, in the caller's context: pump() also runs later, in ack callbacks, outside it.
    const trace = tracingOn ? traceFields() : undefined;
    /** Published, not yet acknowledged: index → when it was sent (insertion order: oldest first). */
    const waiting = new Map<number, number>();
    let next = 0;
    return new Promise<number[]>((resolve, reject) => {
      let over = false;
      // Callbacks run later, never inside subscribe() or setInterval(): finish and pump exist by then.
      const sub = nc.subscribe(`${prefix}*`, {
        callback: (err, m) => {
          if (over) return;
          if (err) return finish(err);
          const i = Number(m.subject.slice(prefix.length));
          if (!waiting.delete(i)) return; // not ours, or answered already
          try {
            if (pubAck(m, route.wire(i)).duplicate) duplicates.push(i);
          } catch (e) {
            return finish(e as Error);
          }
          if (next >= tasks.length && waiting.size === 0) finish();
          else pump();
        },
      });
      // As js.publish would: a publish unacknowledged for PUB_ACK_TIMEOUT fails the call.
      const watchdog = setInterval(() => {
        const oldest = waiting.values().next().value;
        if (oldest !== undefined && Date.now() - oldest > PUB_ACK_TIMEOUT) finish(new natsErrors.TimeoutError());
      }, 250);
      const finish = (err?: Error) => {
        if (over) return;
        over = true;
        clearInterval(watchdog);
        sub.unsubscribe();
        if (err) reject(err);
        else resolve(duplicates.sort((a, b) => a - b));
      };
      const pump = () => {
        try {
          while (next < tasks.length && waiting.size < window) {
            const i = next++;
            const h = formatHeaders();
            h.set(HeaderNames.taskId, ids[i]);
            h.set(PubHeaders.MsgIdHdr, ids[i]);
            decorate(h);
            route.headers(h, i);
            if (trace) setTraceFields(h, trace);
            const data = encode(tasks[i]);
            waiting.set(i, Date.now());
            nc.publish(route.wire(i), data, { reply: prefix + i, headers: h });
          }
        } catch (err) {
          finish(err as Error); // a closed connection, a payload over max_payload, an unencodable task
        }
      };
      pump();
    });
  }
}
