/**
 * The third verb: cluster pub/sub on plain core subjects. Events are JSON (the
 * public contract). Each carries an `id`, also its `Nats-Msg-Id`: a stream that
 * captures the events keeps one copy of an event sent twice (a task redelivered
 * after a failover announces again), and a core subscriber can drop the repeat.
 */
import { createHash } from "node:crypto";
import { headers as natsHeaders, nuid, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { decode, encode } from "./codec.js";
import { injectTrace, tracingOn } from "./tracing.js";

export interface PublishOptions {
  /** The event's id: the same for a re-send of the same event (see eventId). Default: a new unique id. */
  id?: string;
}

/** A stable event id from what identifies the event (its subject, the request, the commit…). */
export function eventId(...parts: (string | number | null | undefined)[]): string {
  return createHash("sha256")
    .update(parts.map((p) => String(p ?? "")).join("\0"))
    .digest("hex")
    .slice(0, 24);
}

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

  /** Publishes `payload` plus its `id`; returns the id. */
  publish(subject: string, payload: object, opts: PublishOptions = {}): string {
    const id = opts.id ?? nuid.next();
    const h = natsHeaders();
    h.set("Nats-Msg-Id", id);
    // A subscriber can continue the trace of the task that announced this.
    if (tracingOn) injectTrace(h);
    this.nc.publish(subject, encode({ ...payload, id }, "json"), { headers: h });
    return id;
  }

  /** Every subscriber gets every event matching `pattern` (wildcards allowed). */
  subscribe<T = unknown>(pattern: string, handler: EventHandler<T>, opts: SubscribeOptions = {}): Subscription {
    const sub = this.nc.subscribe(pattern, { queue: opts.queue });
    void (async () => {
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
