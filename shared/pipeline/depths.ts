/**
 * How far behind the work queues are: each stream's messages, each
 * consumer's pending, ack-pending and redeliveries, and each fair subject's
 * tasks by lane and tenant (`farm status`, the web app's operations page,
 * the metrics).
 */
import { JetStreamApiCodes, JetStreamApiError, type JetStreamManager } from "@nats-io/jetstream";
import { fairFilter, parseFairWire } from "../fabric/fair.js";
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

/** Tasks of one fair subject's lane and tenant in its stream (running or waiting). */
export interface FairState {
  subject: string;
  lane: string;
  /** The tenant's token (shared/fabric/fair.ts tenantToken), or OTHER_TENANTS. */
  tenant: string;
  messages: number;
}

/** Tenants per (subject, lane) named; the rest are summed under OTHER_TENANTS, so labels and tables stay bounded. */
export const TOP_TENANTS = 10;
export const OTHER_TENANTS = "(others)";

/** Each fair subject's tasks by lane and tenant, from its stream's per-subject counts; a stream not created yet counts none. */
export async function fairDepths(jsm: Pick<JetStreamManager, "streams">, fair: readonly { stream: string; subject: string }[]): Promise<FairState[]> {
  const counts = await Promise.all(
    fair.map(async (f) => {
      const info = await jsm.streams.info(f.stream, { subjects_filter: fairFilter(f.subject) }).catch(notCreated);
      return fairCounts(f.subject, info?.state.subjects ?? {});
    }),
  );
  return counts.flat();
}

function notCreated(err: unknown): null {
  if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return null;
  throw err;
}

/** Every fair subject the farm's queues declare, with its stream (what a process without workers reports). */
export function declaredFair(farm: Pick<Farm, "queues">): { stream: string; subject: string }[] {
  return farm.queues.list().flatMap((q) => (q.fair ?? []).map((subject) => ({ stream: q.stream, subject })));
}

/** A fair subject's per-flow counts, by lane, its TOP_TENANTS biggest tenants named and the rest summed. */
export function fairCounts(subject: string, counts: Readonly<Record<string, number>>): FairState[] {
  const byLane = new Map<string, [string, number][]>();
  for (const [wire, n] of Object.entries(counts)) {
    const flow = parseFairWire(subject, wire);
    if (!flow) continue;
    const list = byLane.get(flow.lane) ?? [];
    list.push([flow.token, n]);
    byLane.set(flow.lane, list);
  }
  const out: FairState[] = [];
  for (const [lane, list] of byLane) {
    list.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    for (const [tenant, messages] of list.slice(0, TOP_TENANTS)) out.push({ subject, lane, tenant, messages });
    const rest = list.slice(TOP_TENANTS).reduce((sum, [, n]) => sum + n, 0);
    if (list.length > TOP_TENANTS) out.push({ subject, lane, tenant: OTHER_TENANTS, messages: rest });
  }
  return out;
}
