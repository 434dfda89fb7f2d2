/** Live service instances answer `farm.presence`, so `farm status` can list them. */
import os from "node:os";
import { nuid, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { decode, encode } from "./codec.js";
import { FARM_VERSION } from "./version.js";

export const PRESENCE_SUBJECT = "farm.presence";

export interface Presence {
  service: string;
  host: string;
  pid: number;
  startedAt: string;
  /** farm's release the instance runs (FARM_VERSION). */
  version: string;
  /** Unique per running instance (a restart gets a new one). */
  id: string;
  /** Seconds since startedAt, measured by the instance when it answers: no clock skew between hosts. */
  uptimeSeconds: number;
}

export interface PresenceOptions {
  /** The instance id; default a new nuid (pass one to share it with another announcement, e.g. $SRV). */
  id?: string;
}

export function announcePresence(nc: NatsConnection, service: string, opts: PresenceOptions = {}): Subscription {
  const started = performance.now();
  const me = { service, host: os.hostname(), pid: process.pid, startedAt: new Date().toISOString(), version: FARM_VERSION, id: opts.id ?? nuid.next() };
  return nc.subscribe(PRESENCE_SUBJECT, {
    callback: (_err, m) => {
      const answer: Presence = { ...me, uptimeSeconds: Math.round((performance.now() - started) / 1000) };
      void m.respond(encode(answer, "json"));
    },
  });
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
