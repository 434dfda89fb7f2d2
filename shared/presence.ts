/** Live service instances answer `farm.presence`, so `farm status` can list them. */
import os from "node:os";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { decode, encode } from "./codec.js";

export const PRESENCE_SUBJECT = "farm.presence";

export interface Presence {
  service: string;
  host: string;
  pid: number;
  startedAt: string;
}

export function announce(nc: NatsConnection, service: string): Subscription {
  const me: Presence = { service, host: os.hostname(), pid: process.pid, startedAt: new Date().toISOString() };
  return nc.subscribe(PRESENCE_SUBJECT, { callback: (_err, m) => void m.respond(encode(me, "json")) });
}

/** Everyone who answers within `maxWait` ms. */
export async function whoIsUp(nc: NatsConnection, maxWait = 500): Promise<Presence[]> {
  const out: Presence[] = [];
  try {
    for await (const m of await nc.requestMany(PRESENCE_SUBJECT, undefined, { strategy: "timer", maxWait })) out.push(decode<Presence>(m.data));
  } catch {
    // no responders: nobody is up
  }
  return out;
}
