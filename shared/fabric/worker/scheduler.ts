/**
 * Which ready flow a fair worker serves next (see ../fair.ts). Between lanes:
 * interactive first, except that while both have work backfill gets
 * `backfillShare` of the recently served cost, so it never starves. Within a
 * lane: deficit round robin over tenants, by cost, with a quantum of the
 * largest cost seen, so each tenant gets an equal share of cost per round
 * however many tasks or requests its work is split into.
 */
import type { Lane } from "../fair.js";

/** A flow with a task ready to run: one (lane, tenant) of a subject. */
export interface ReadyFlow {
  key: string;
  lane: Lane;
  /** Its ready task's cost. */
  cost: number;
}

export interface SchedulerOptions {
  /** The share of served cost backfill keeps while both lanes wait, 0–1. Default 0.2. */
  backfillShare?: number;
}

/** How much of the past each decision keeps: served cost counts over roughly the last 50 tasks. */
const DECAY = 0.98;

export class FairScheduler {
  private readonly backfillShare: number;
  private readonly served: Record<Lane, number> = { interactive: 0, backfill: 0 };
  private readonly rings: Record<Lane, string[]> = { interactive: [], backfill: [] };
  private readonly pointer: Record<Lane, number> = { interactive: 0, backfill: 0 };
  private readonly deficit = new Map<string, number>();
  private quantum = 1;

  constructor(opts: SchedulerOptions = {}) {
    const share = opts.backfillShare ?? 0.2;
    if (!(share >= 0 && share <= 1)) throw new RangeError(`backfillShare must be from 0 to 1, got ${share}`);
    this.backfillShare = share;
  }

  /** The flow to serve now among `ready` (undefined when none), its cost charged. */
  next(ready: readonly ReadyFlow[]): ReadyFlow | undefined {
    if (ready.length === 0) return undefined;
    const interactive = ready.filter((f) => f.lane === "interactive");
    const backfill = ready.filter((f) => f.lane === "backfill");
    const lane = this.laneFor(interactive.length > 0, backfill.length > 0);
    const flow = this.roundRobin(lane, lane === "interactive" ? interactive : backfill);
    this.served.interactive *= DECAY;
    this.served.backfill *= DECAY;
    this.served[lane] += flow.cost;
    return flow;
  }

  /** A flow that has gone: it leaves its ring and its deficit. */
  drop(key: string): void {
    this.deficit.delete(key);
    for (const lane of ["interactive", "backfill"] as const) {
      const ring = this.rings[lane];
      const i = ring.indexOf(key);
      if (i < 0) continue;
      ring.splice(i, 1);
      if (this.pointer[lane] > i) this.pointer[lane]--;
      if (this.pointer[lane] >= ring.length) this.pointer[lane] = 0;
    }
  }

  private laneFor(interactive: boolean, backfill: boolean): Lane {
    if (!backfill) return "interactive";
    if (!interactive) return "backfill";
    const total = this.served.interactive + this.served.backfill;
    return total > 0 && this.served.backfill / total < this.backfillShare ? "backfill" : "interactive";
  }

  /** Deficit round robin: a flow is served while its deficit covers its task; passing on, its deficit grows by the quantum. */
  private roundRobin(lane: Lane, flows: readonly ReadyFlow[]): ReadyFlow {
    const ring = this.rings[lane];
    for (const f of flows) {
      if (!this.deficit.has(f.key)) {
        this.deficit.set(f.key, 0);
        ring.push(f.key);
      }
      this.quantum = Math.max(this.quantum, f.cost);
    }
    const ready = new Map(flows.map((f) => [f.key, f]));
    // The quantum covers any ready task: within two turns of the ring some flow is served.
    for (let step = 0; step <= 2 * ring.length; step++) {
      const key = ring[this.pointer[lane]];
      const f = ready.get(key);
      if (f) {
        const d = this.deficit.get(key)!;
        if (d >= f.cost) {
          this.deficit.set(key, d - f.cost);
          return f;
        }
        this.deficit.set(key, d + this.quantum);
      }
      this.pointer[lane] = (this.pointer[lane] + 1) % ring.length;
    }
    return flows[0]; // unreachable: the loop above serves one
  }
}
