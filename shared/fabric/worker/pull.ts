/**
 * Pulls queued tasks, only as many as there is room for (free slots plus
 * `prefetch`). consume() would hold a full batch behind the running tasks, and
 * a held task burns its ack wait unheard: with tasks longer than the ack wait
 * (kept alive by heartbeats) it would be redelivered, and run twice.
 */
import { AckPolicy, type ConsumerConfig } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { sleep } from "../concurrency.js";
import type { Log } from "./ports.js";

/** The durable pull consumer a worker's queued tasks come from. */
export function workQueueConsumer(o: {
  durable: string;
  /** The queued subject (Queues.wireSubject). */
  wire: string;
  ackWait: number;
  maxDeliver: number;
  concurrency: number;
}): Partial<ConsumerConfig> & { durable_name: string } {
  return {
    durable_name: o.durable,
    filter_subject: o.wire,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(o.ackWait),
    max_deliver: o.maxDeliver,
    // Without a cap the server would hand one instance everything; the client bounds it anyway.
    max_ack_pending: Math.max(1000, o.concurrency * 4),
  };
}

/** One pull: the messages of a batch as they arrive (a consumer's `fetch` answer). */
export type Batch<M> = AsyncIterable<M> & { stop(): void };

/** Where tasks are pulled from (a JetStream `Consumer`). */
export interface PullSource<M> {
  fetch(opts: { max_messages: number; expires: number }): Promise<Batch<M>>;
}

/** What the puller needs from its owner. */
export interface PullOwner<M> {
  /** Tasks running now: they take room. */
  readonly inFlight: number;
  /** Takes a slot now (undefined), or the promise of one. */
  take(): Promise<void> | undefined;
  /** Gives back a slot taken for a task that will not run here. */
  release(): void;
  /** Runs a pulled task in the slot it took; `done` is called when it has finished. */
  run(m: M, done?: () => void): void;
}

export interface PullOptions {
  /** Tasks running or waiting for a slot at most: concurrency plus prefetch. */
  limit: number;
  /** Ms a pull waits for work before it is renewed. Default 10000. */
  expires?: number;
  /** Ms to wait after a failed pull. Default 1000. */
  retryDelay?: number;
  log: Pick<Log, "warn">;
}

export class Puller<M extends { nak(millis?: number): void }> {
  /** Tasks received but waiting for a slot. */
  private readonly buffered = new Set<M>();
  private stopping = false;
  /** Aborts the pause after a failed pull when stop() is called. */
  private readonly halt = new AbortController();
  private fetching?: { stop(): void };
  /** Wakes the loop when a slot frees up. */
  private waking?: () => void;

  constructor(
    private readonly owner: PullOwner<M>,
    private readonly opts: PullOptions,
  ) {}

  /** Tasks received but waiting for a slot. */
  get waiting(): number {
    return this.buffered.size;
  }

  /** Pulls until stop(). */
  async run(source: PullSource<M>): Promise<void> {
    const expires = this.opts.expires ?? 10_000;
    while (!this.stopping) {
      const room = this.opts.limit - this.owner.inFlight - this.buffered.size;
      if (room <= 0) {
        await new Promise<void>((resolve) => (this.waking = resolve));
        continue;
      }
      try {
        const batch = await source.fetch({ max_messages: room, expires });
        this.fetching = batch;
        if (this.stopping) batch.stop();
        for await (const m of batch) void this.dispatch(m);
      } catch (err) {
        if (this.stopping) break;
        // Missed heartbeats, a lost consumer, a failover: log and pull again.
        this.opts.log.warn({ err: (err as Error).message }, "pull failed; retrying");
        await sleep(this.opts.retryDelay ?? 1000, this.halt.signal);
      } finally {
        this.fetching = undefined;
      }
    }
  }

  /** A slot freed up: look for room again. */
  wake(): void {
    this.waking?.();
  }

  /** Stops pulling: the open pull ends, a pause is cut short, tasks pulled from now on are handed back. */
  stop(): void {
    this.stopping = true;
    this.halt.abort();
    this.fetching?.stop();
    this.wake();
  }

  /** Buffered tasks have not started: hands them straight back to the other workers. */
  handBackBuffered(): void {
    for (const m of this.buffered) m.nak();
    this.buffered.clear();
  }

  private async dispatch(m: M) {
    if (this.stopping) return m.nak(); // hand it straight back to the other workers
    this.buffered.add(m);
    const wait = this.owner.take();
    if (wait) await wait;
    // handBackBuffered() took it back: no longer ours to run.
    if (!this.buffered.delete(m)) return this.owner.release();
    this.owner.run(m);
  }
}
