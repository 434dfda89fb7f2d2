/**
 * Fair queues: a subject declared fair (QueueSpec.fair) carries each task on
 * `q.<subject>.<lane>.<tenant>`, and its workers choose which of those to
 * serve next (worker/fair-pull.ts, worker/scheduler.ts): the interactive lane
 * first, the backfill lane a guaranteed share of the cost served while both
 * wait, and within a lane each tenant an equal share of cost (deficit round
 * robin). NATS 2.9 has no fairness between messages: this is all client-side,
 * over one durable consumer per (lane, tenant) that the server removes once
 * idle.
 */
import { createHash } from "node:crypto";
import { ErrorCodes, FarmError } from "./errors.js";
import { QUEUE_PREFIX } from "./queues.js";

/** A task's lane: interactive work (a push, a request for a few commits) goes ahead of backfill. */
export type Lane = "interactive" | "backfill";

export const LANES: readonly Lane[] = ["interactive", "backfill"];

/** A lane's token in subjects and consumer names. */
const LANE_TOKEN: Record<Lane, string> = { interactive: "i", backfill: "b" };
const TOKEN_LANE: Record<string, Lane> = { i: "interactive", b: "backfill" };

/** The tenant of tasks enqueued without one. */
export const DEFAULT_TENANT = "default";

/** Where a fair task goes, and what it costs (any unit; the same for all tasks of a subject). */
export interface FairPlacement {
  lane?: Lane;
  tenant?: string;
  /** Default 1. */
  cost?: number;
}

/**
 * A tenant as one subject token and consumer-name part: its readable
 * characters (at most 24) and a hash of the whole name, so two tenants never
 * share a token and any string may name one.
 */
export function tenantToken(tenant: string): string {
  const readable = tenant.replace(/[^A-Za-z0-9_-]+/g, "_").slice(0, 24);
  const hash = createHash("sha256").update(tenant).digest("hex").slice(0, 10);
  return `${readable}-${hash}`;
}

export function laneToken(lane: Lane): string {
  return LANE_TOKEN[lane];
}

/** The wire subject of a fair task. */
export function fairWire(subject: string, lane: Lane, tenant: string): string {
  return `${QUEUE_PREFIX}${subject}.${LANE_TOKEN[lane]}.${tenantToken(tenant)}`;
}

/** The subjects filter of a fair subject's every lane and tenant. */
export function fairFilter(subject: string): string {
  return `${QUEUE_PREFIX}${subject}.>`;
}

/** The lane and tenant token of a fair wire subject of `subject`; null for any other subject. */
export function parseFairWire(subject: string, wire: string): { lane: Lane; token: string } | null {
  const prefix = `${QUEUE_PREFIX}${subject}.`;
  if (!wire.startsWith(prefix)) return null;
  const [lane, token, ...rest] = wire.slice(prefix.length).split(".");
  if (rest.length > 0 || !TOKEN_LANE[lane] || !token) return null;
  return { lane: TOKEN_LANE[lane], token };
}

/** A placement checked: a known lane, a non-empty tenant, a positive finite cost. */
export function checkedPlacement(p: FairPlacement): Required<FairPlacement> {
  const lane = p.lane ?? "interactive";
  const tenant = p.tenant ?? DEFAULT_TENANT;
  const cost = p.cost ?? 1;
  if (!LANES.includes(lane)) throw new FarmError(`lane must be "interactive" or "backfill", got ${JSON.stringify(lane)}`, ErrorCodes.InvalidInput);
  if (typeof tenant !== "string" || tenant === "") throw new FarmError("tenant must be a non-empty string", ErrorCodes.InvalidInput);
  if (!(typeof cost === "number" && Number.isFinite(cost) && cost > 0))
    throw new FarmError(`cost must be a positive number, got ${String(cost)}`, ErrorCodes.InvalidInput);
  return { lane, tenant, cost };
}
