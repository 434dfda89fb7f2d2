/**
 * Finished tasks' replies and acks, sent together once per event-loop turn:
 * one socket write for the lot, not one per task. Each item's reply goes out
 * before its ack: a task acked is a task whose result was already sent.
 */
import type { MsgHdrs } from "@nats-io/transport-node";
import type { Log, Publisher } from "./ports.js";

/** A reply to publish and/or a task to ack. */
export interface Outgoing {
  /** Where the reply goes (a request's or a distributor's inbox). */
  to?: string;
  data?: Uint8Array;
  headers?: MsgHdrs;
  /** The finished queued task. */
  ack?: { ack(): void };
}

export class Outbox {
  private pending: Outgoing[] = [];
  private scheduled?: NodeJS.Immediate;

  constructor(
    private readonly nc: Publisher,
    private readonly log: Pick<Log, "warn">,
  ) {}

  /** Queues a reply and/or an ack for this turn's flush. */
  send(out: Outgoing): void {
    this.pending.push(out);
    this.scheduled ??= setImmediate(() => this.flush());
  }

  /** Sends everything queued, in order, now (shutdown calls it before the connection drains). */
  flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const out = this.pending;
    this.pending = [];
    for (const { to, data, headers, ack } of out) {
      try {
        if (to && data) this.nc.publish(to, data, { headers });
        ack?.ack();
      } catch (err) {
        // A closed connection. An unacked task is redelivered; a request's caller times out.
        this.log.warn({ err: (err as Error).message }, "reply or ack not sent");
      }
    }
  }
}
