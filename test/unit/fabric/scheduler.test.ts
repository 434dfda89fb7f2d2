import { describe, expect, it } from "vitest";
import { FairScheduler, type ReadyFlow } from "../../../shared/fabric/worker/scheduler.js";

/** Serves `rounds` tasks from always-ready flows; returns the cost served per flow key. */
function serve(s: FairScheduler, flows: ReadyFlow[], rounds: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < rounds; i++) {
    const f = s.next(flows)!;
    out[f.key] = (out[f.key] ?? 0) + f.cost;
  }
  return out;
}

describe("FairScheduler", () => {
  it("gives tenants of a lane equal shares of cost, whatever their tasks cost", () => {
    const served = serve(
      new FairScheduler(),
      [
        { key: "big", lane: "backfill", cost: 50 },
        { key: "small", lane: "backfill", cost: 1 },
        { key: "mid", lane: "backfill", cost: 7 },
      ],
      3000,
    );
    const shares = Object.values(served);
    expect(Math.max(...shares) / Math.min(...shares)).toBeLessThan(1.1);
  });

  it("serves interactive work first, yet keeps backfill's share while both wait", () => {
    const s = new FairScheduler({ backfillShare: 0.2 });
    const first = s.next([
      { key: "push", lane: "interactive", cost: 1 },
      { key: "history", lane: "backfill", cost: 1 },
    ]);
    expect(first!.key).toBe("push");
    const served = serve(
      s,
      [
        { key: "push", lane: "interactive", cost: 1 },
        { key: "history", lane: "backfill", cost: 1 },
      ],
      1000,
    );
    expect(served.history / 1000).toBeGreaterThan(0.17);
    expect(served.history / 1000).toBeLessThan(0.23);
  });

  it("gives backfill everything when no interactive work waits, and interactive everything with a share of 0", () => {
    expect(serve(new FairScheduler(), [{ key: "history", lane: "backfill", cost: 3 }], 10)).toEqual({ history: 30 });
    const none = serve(
      new FairScheduler({ backfillShare: 0 }),
      [
        { key: "push", lane: "interactive", cost: 1 },
        { key: "history", lane: "backfill", cost: 1 },
      ],
      100,
    );
    expect(none).toEqual({ push: 100 });
  });

  it("forgets a dropped flow and keeps serving the others", () => {
    const s = new FairScheduler();
    const a = { key: "a", lane: "backfill" as const, cost: 1 };
    const b = { key: "b", lane: "backfill" as const, cost: 1 };
    serve(s, [a, b], 10);
    s.drop("a");
    expect(serve(s, [b], 5)).toEqual({ b: 5 });
    expect(() => new FairScheduler({ backfillShare: 2 })).toThrow(RangeError);
  });
});
