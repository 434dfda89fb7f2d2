/** How large one NATS message may be, in the one place that says so. */
import type { NatsConnection } from "@nats-io/transport-node";

/** The server default, for a connection that has not said its own `max_payload` yet. */
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/** Room kept for headers and the envelope around a body that must fit one message. */
export const MESSAGE_HEADROOM_BYTES = 16 * 1024;

/** The server's largest message payload on this connection. */
export function maxPayload(nc: Pick<NatsConnection, "info">): number {
  return nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
}

/** The largest body that fits one message with its headers and envelope. */
export function maxBody(nc: Pick<NatsConnection, "info">): number {
  return maxPayload(nc) - MESSAGE_HEADROOM_BYTES;
}
