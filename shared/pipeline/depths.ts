/** How far behind the work queues are: each stream's messages, each consumer's pending, ack-pending and redeliveries (`farm status`, the web app's operations page). */
import type { Farm } from "../fabric/farm.js";

export interface ConsumerStatus {
  name: string;
  /** Messages not delivered yet. */
  pending: number;
  /** Delivered, not acked yet: being worked on. */
  ackPending: number;
  /** Delivered more than once and not acked yet. */
  redelivered: number;
}

export interface StreamStatus {
  stream: string;
  messages: number;
  consumers: ConsumerStatus[];
}

/** The farm's work-queue streams with their consumers (by name); a stream not created yet (no service has started) is left out. */
export async function queueDepths(farm: Pick<Farm, "queues" | "jsm">): Promise<StreamStatus[]> {
  const out: StreamStatus[] = [];
  for (const { stream } of farm.queues.list()) {
    const info = await farm.jsm.streams.info(stream).catch(() => null);
    if (!info) continue;
    const consumers: ConsumerStatus[] = [];
    for await (const c of farm.jsm.consumers.list(stream)) {
      consumers.push({ name: c.name, pending: c.num_pending, ackPending: c.num_ack_pending, redelivered: c.num_redelivered });
    }
    out.push({ stream, messages: info.state.messages, consumers: consumers.sort((a, b) => a.name.localeCompare(b.name)) });
  }
  return out;
}
