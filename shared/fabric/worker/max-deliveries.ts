/**
 * A worker that dies on every attempt never gets to park its task: the
 * server's max-deliveries advisory is the only trace, so the task is parked
 * from here. The ADVISORIES stream keeps an advisory while no worker listens;
 * one not handled is nak'ed and comes back.
 */
import { AckPolicy, type ConsumerConfig } from "@nats-io/jetstream";
import { nanos, type MsgHdrs } from "@nats-io/transport-node";
import { HeaderNames } from "../envelope.js";
import { advisoryDurable, advisorySubject } from "../names.js";
import type { ParkOptions } from "./dead-letter.js";
import type { Log } from "./ports.js";

/** The advisory consumer of a worker's durable: `adv_<durable>`, on its max-deliveries advisories only. */
export function advisoryConsumer(stream: string, durable: string): Partial<ConsumerConfig> & { durable_name: string } {
  return {
    durable_name: advisoryDurable(durable),
    filter_subject: advisorySubject(stream, durable),
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(30_000),
  };
}

/** A max-deliveries advisory as its consumer delivers it (a `JsMsg`). */
export interface AdvisoryMsg {
  json<T>(): T;
  ack(): void;
  nak(millis?: number): void;
}

/** The stream reads and deletes the watcher needs (a JetStreamManager's `streams`). */
export interface StreamMessages {
  getMessage(stream: string, query: { seq: number }): Promise<{ subject: string; data: Uint8Array; header?: MsgHdrs } | null>;
  deleteMessage(stream: string, seq: number, erase?: boolean): Promise<boolean>;
}

export interface MaxDeliveriesDeps {
  streams: StreamMessages;
  parker: { park(p: ParkOptions): Promise<void> };
  log: Pick<Log, "warn">;
}

export interface MaxDeliveriesOptions {
  /** The work-queue stream the worker's tasks are on. */
  stream: string;
  /** Ms before an advisory that could not be handled comes back. Default 5000. */
  retryDelay?: number;
}

export class MaxDeliveries {
  private advisories?: { stop(): void };

  constructor(
    private readonly deps: MaxDeliveriesDeps,
    private readonly opts: MaxDeliveriesOptions,
  ) {}

  /** Handles each advisory until `stop()` (or the iterator ends). */
  async watch(advisories: AsyncIterable<AdvisoryMsg> & { stop(): void }): Promise<void> {
    this.advisories = advisories;
    for await (const a of advisories) await this.handle(a);
  }

  stop(): void {
    this.advisories?.stop();
  }

  /** Parks the task the advisory names (gone already: nothing to park), deletes it from its stream, acks. */
  async handle(a: AdvisoryMsg): Promise<void> {
    const stream = this.opts.stream;
    try {
      const { stream_seq: seq, deliveries } = a.json<{ stream_seq: number; deliveries: number }>();
      const sm = await this.deps.streams.getMessage(stream, { seq });
      if (sm) {
        const id = sm.header?.get(HeaderNames.taskId) || `${stream}.${seq}`;
        const reason = `no ack after ${deliveries} deliveries: the worker crashed or timed out on every attempt`;
        const msg = { subject: sm.subject, data: sm.data, headers: sm.header };
        await this.deps.parker.park({ msg, stream, streamSeq: seq, attempts: deliveries, reason, kind: "exhausted", id });
        await this.deps.streams.deleteMessage(stream, seq, false).catch(() => false);
        this.deps.log.warn({ id, seq, deliveries }, "task dead-lettered after max deliveries");
      }
      a.ack();
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, "max-deliveries advisory not handled; will retry");
      a.nak(this.opts.retryDelay ?? 5000);
    }
  }
}
