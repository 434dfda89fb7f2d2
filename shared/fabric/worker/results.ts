/**
 * Where a queued task's outcome goes: the distributor's inbox (awaited
 * `distribute`), a results queue (`resultsTo`), or nowhere. Every result sent
 * to an inbox carries the task id in a header (HeaderNames.taskId), so the caller can
 * settle a task whose result body it cannot decode.
 */
import { headers as natsHeaders, type MsgHdrs } from "@nats-io/transport-node";
import { encode, formatHeaders } from "../codec.js";
import { HeaderNames, type TaskResult } from "../envelope.js";
import type { Queues } from "../queues.js";
import { libraryMessageIds as messageIds } from "../names.js";
import { injectTaskTrace, tracingOn } from "../tracing.js";
import type { Outgoing } from "./outbox.js";
import type { Publisher, StreamPublisher } from "./ports.js";

export interface ResultSinks {
  /** Core publishes: the inbox of an awaited distribute. */
  nc: Publisher;
  /** JetStream publishes: a results queue. */
  js: StreamPublisher;
  /** Where a results subject's tasks travel. */
  queues: Pick<Queues, "wireSubject">;
}

/** Headers of a result sent to an inbox: the task id, added to `h` when given. */
export function inboxHeaders(id: string, h: MsgHdrs = natsHeaders()): MsgHdrs {
  h.set(HeaderNames.taskId, id);
  return h;
}

export class Results {
  constructor(private readonly sinks: ResultSinks) {}

  /**
   * The inbox reply of a task that succeeded, for the outbox to send with the
   * task's ack. The result envelope is a msgpack map, never taken for JSON: no
   * content-type needed (codec.formatOf).
   */
  reply(to: string, result: TaskResult): Outgoing {
    return { to, data: encode(result), headers: inboxHeaders(result.id) };
  }

  /**
   * Sends a task's outcome now, where its headers ask. `delivery` (stream.seq)
   * keys the results queue's dedup: a redelivered task's second answer is
   * dropped, a replayed task (a new message) is answered again.
   */
  async deliver(h: MsgHdrs | undefined, delivery: string, result: TaskResult): Promise<void> {
    const replyTo = h?.get(HeaderNames.replyTo);
    const resultsTo = h?.get(HeaderNames.resultsTo);
    if (replyTo) this.sinks.nc.publish(replyTo, encode(result), { headers: inboxHeaders(result.id, formatHeaders()) });
    if (resultsTo) {
      // The queued result is a task of its own: its id is the task's plus ".result".
      const rh = formatHeaders();
      rh.set(HeaderNames.taskId, `${result.id}.result`);
      // The task's span (ended by now) is the parent of whoever processes its result.
      if (tracingOn) injectTaskTrace(rh, h);
      await this.sinks.js.publish(this.sinks.queues.wireSubject(resultsTo), encode(result), { msgID: messageIds.result(result.id, delivery), headers: rh });
    }
  }
}
