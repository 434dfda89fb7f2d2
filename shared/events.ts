/** The third verb: cluster pub/sub on plain core subjects. Events are JSON (the public contract). */
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { decode, encode } from "./codec.js";

export type EventHandler<T> = (payload: T, subject: string) => void | Promise<void>;

export interface SubscribeOptions {
  /** Share the events among the members of a queue group instead of fanning out. */
  queue?: string;
}

export class Events {
  constructor(
    private readonly nc: NatsConnection,
    private readonly log: Logger,
  ) {}

  publish(subject: string, payload: unknown): void {
    this.nc.publish(subject, encode(payload, "json"));
  }

  /** Every subscriber gets every event matching `pattern` (wildcards allowed). */
  subscribe<T = unknown>(pattern: string, handler: EventHandler<T>, opts: SubscribeOptions = {}): Subscription {
    const sub = this.nc.subscribe(pattern, { queue: opts.queue });
    (async () => {
      for await (const m of sub) {
        try {
          await handler(decode<T>(m.data, m.headers), m.subject);
        } catch (err) {
          // A bad event or a failing handler must not end the subscription.
          this.log.warn({ subject: m.subject, err: (err as Error).message }, "event handler failed");
        }
      }
    })();
    return sub;
  }
}
