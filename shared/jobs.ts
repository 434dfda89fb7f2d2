/**
 * Two of the four verbs: `send` one job now (request-reply to a queue group)
 * and `distribute` many (a JetStream work queue).
 */
import {
  createInbox,
  errors as natsErrors,
  headers as natsHeaders,
  nuid,
  type NatsConnection,
} from "@nats-io/transport-node";
import type { JetStreamClient } from "@nats-io/jetstream";
import { decode, encode, formatHeaders } from "./codec.js";
import { NoRespondersError, RemoteError, TimeoutError, FarmError } from "./errors.js";
import { H, type ErrorReply, type TaskResult } from "./envelope.js";
import { queueSubject, streamFor } from "./topology.js";
import { sleep } from "./concurrency.js";

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
  /** Publishes in flight at once. Default 256. */
  window?: number;
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
  return (
    err instanceof natsErrors.NoRespondersError ||
    (err instanceof natsErrors.RequestError && err.isNoResponders())
  );
}

function isTimeout(err: unknown): boolean {
  return err instanceof natsErrors.TimeoutError || (err as Error)?.cause instanceof natsErrors.TimeoutError;
}


export class Jobs {
  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
  ) {}

  /** One job now: the first worker of the queue group answers. */
  async send<R = unknown, T = unknown>(subject: string, task: T, opts: SendOptions = {}): Promise<R> {
    const timeout = opts.timeout ?? 10_000;
    const deadline = Date.now() + (opts.noRespondersWait ?? timeout);
    const data = encode(task);
    for (let attempt = 0; ; attempt++) {
      try {
        const msg = await this.nc.request(subject, data, { timeout, headers: formatHeaders() });
        const body = decode<R | ErrorReply>(msg.data, msg.headers);
        if (msg.headers?.get(H.status) === "error") {
          const e = body as ErrorReply;
          throw new RemoteError({ name: e.name, message: e.error, code: e.code, permanent: e.permanent });
        }
        return body as R;
      } catch (err) {
        if (isNoResponders(err)) {
          const wait = Math.min(50 * 2 ** attempt, 1000);
          if (Date.now() + wait > deadline) throw new NoRespondersError(subject, { cause: err });
          await sleep(wait);
          continue;
        }
        if (isTimeout(err)) throw new TimeoutError(subject, timeout, { cause: err });
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
  async distribute<R, T>(
    subject: string,
    tasks: T[],
    opts: DistributeOptions<T> | FireAndForgetOptions<T> = {},
  ): Promise<TaskResult<R>[] | Enqueued> {
    const wire = queueSubject(subject);
    if (!streamFor(wire)) throw new FarmError(`no work queue captures "${wire}": declare it in shared/topology.ts`, "E_TOPOLOGY");
    const ids = tasks.map((t, i) => opts.id?.(t, i) ?? nuid.next());
    if ("resultsTo" in opts && opts.resultsTo) {
      const duplicates = await this.publishAll(wire, tasks, ids, opts.window, (h) => h.set(H.resultsTo, opts.resultsTo));
      return { ids, duplicates };
    }
    return this.awaitResults<R, T>(wire, subject, tasks, ids, opts);
  }

  private async awaitResults<R, T>(
    wire: string,
    subject: string,
    tasks: T[],
    ids: string[],
    opts: DistributeOptions<T>,
  ): Promise<TaskResult<R>[]> {
    const index = new Map(ids.map((id, i) => [id, i]));
    if (index.size !== ids.length) throw new FarmError("task ids must be unique", "E_DUPLICATE_ID");
    const results: (TaskResult<R> | undefined)[] = new Array(tasks.length);
    let remaining = tasks.length;
    const inbox = createInbox();
    const sub = this.nc.subscribe(inbox);
    const collected = (async () => {
      for await (const m of sub) {
        let r: TaskResult<R>;
        try {
          r = decode<TaskResult<R>>(m.data, m.headers);
        } catch {
          continue;
        }
        const i = index.get(r.id);
        // A redelivered task may answer twice: the first answer wins.
        if (i === undefined || results[i]) continue;
        results[i] = r;
        if (--remaining === 0) break;
      }
    })();
    const timeout = opts.timeout ?? 300_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      if (remaining > 0) {
        await this.publishAll(wire, tasks, ids, opts.window, (h) => h.set(H.replyTo, inbox));
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
          error: { name: "TimeoutError", message: `no result within ${timeout} ms`, code: "E_TIMEOUT", permanent: false },
        },
    );
  }

  /** Publishes with a bounded window of unacknowledged publishes; returns the duplicate count. */
  private async publishAll<T>(
    wire: string,
    tasks: T[],
    ids: string[],
    window = 256,
    decorate: (h: ReturnType<typeof natsHeaders>) => void,
  ): Promise<number> {
    let duplicates = 0;
    let next = 0;
    const lane = async () => {
      while (next < tasks.length) {
        const i = next++;
        const h = formatHeaders();
        h.set(H.taskId, ids[i]);
        decorate(h);
        const ack = await this.js.publish(wire, encode(tasks[i]), { msgID: ids[i], headers: h });
        if (ack.duplicate) duplicates++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(window, tasks.length) }, lane));
    return duplicates;
  }
}
