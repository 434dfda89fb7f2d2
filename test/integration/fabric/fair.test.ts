/**
 * Fair queues against a real nats-server: a subject declared fair shares its
 * workers between lanes (interactive ahead of backfill, backfill never
 * starved) and between tenants by cost, however a tenant splits its work; a
 * closed worker hands its pulled-ahead tasks back; idle per-tenant consumers
 * are removed by the server.
 */
import { describe, expect, test } from "vitest";
import { sleep, type Farm, type TaskContext } from "../../../shared/fabric/index.js";
import { HeaderNames } from "../../../shared/fabric/envelope.js";
import type { Lane } from "../../../shared/fabric/fair.js";
import { useFarms } from "../../harness/farms.js";
import { waitFor } from "../../harness/wait.js";

const FAIR_QUEUE = {
  stream: "FAIRQ",
  fair: ["fair.work", "fair.split", "fair.cost", "fair.lanes", "fair.steady", "fair.handback", "fair.idle", "fair.reserve"],
};
const env = useFarms(["client", "box", "box2"], { queues: [FAIR_QUEUE] });

interface Job {
  n: number;
}

/** What a worker ran, in order: each task's tenant, lane and number. */
interface Ran {
  tenant: string;
  lane: Lane;
  n: number;
}

/** A worker on `subject` (one task at a time, each taking `ms`) that records what it ran. */
async function recorder(farm: Farm, subject: string, ms = 5, opts: { idleConsumerMs?: number } = {}): Promise<{ ran: Ran[]; close(): Promise<void> }> {
  const ran: Ran[] = [];
  const w = await farm.worker<Job, void>(
    subject,
    async (job: Job, ctx: TaskContext) => {
      ran.push({ tenant: ctx.headers!.get(HeaderNames.tenant), lane: ctx.headers!.get(HeaderNames.lane) as Lane, n: job.n });
      await sleep(ms);
    },
    { concurrency: 1, ...opts },
  );
  return { ran, close: () => w.close() };
}

const jobs = (n: number, from = 0): Job[] => Array.from({ length: n }, (_, i) => ({ n: from + i }));
const count = (ran: readonly Ran[], pred: (r: Ran) => boolean) => ran.filter(pred).length;

describe("fair queues", () => {
  test("two tenants backfilling at once get equal shares, whoever queued first", async () => {
    // Queued before any worker runs: a plain work queue would run all of a's tasks first.
    await env.client.jobs.enqueue("fair.work", jobs(60), { placement: () => ({ lane: "backfill", tenant: "a" }) });
    await env.client.jobs.enqueue("fair.work", jobs(60), { placement: () => ({ lane: "backfill", tenant: "b" }) });
    const w = await recorder(env.box, "fair.work");
    await waitFor("the tasks to run", () => w.ran.length >= 120, 30_000);
    const first = w.ran.slice(0, 40);
    expect(count(first, (r) => r.tenant === "a")).toBeGreaterThanOrEqual(16);
    expect(count(first, (r) => r.tenant === "b")).toBeGreaterThanOrEqual(16);
    await w.close();
  });

  test("a tenant that splits its work into 10 requests gets no more than one share", async () => {
    for (let k = 0; k < 10; k++) await env.client.jobs.enqueue("fair.split", jobs(10, k * 10), { placement: () => ({ lane: "backfill", tenant: "splitter" }) });
    await env.client.jobs.enqueue("fair.split", jobs(100), { placement: () => ({ lane: "backfill", tenant: "whole" }) });
    const w = await recorder(env.box, "fair.split");
    await waitFor("the tasks to run", () => w.ran.length >= 60, 30_000);
    const first = w.ran.slice(0, 60);
    expect(count(first, (r) => r.tenant === "splitter")).toBeLessThanOrEqual(34);
    expect(count(first, (r) => r.tenant === "whole")).toBeGreaterThanOrEqual(26);
    await w.close();
  });

  test("shares are of cost: a tenant whose tasks cost 10 runs a tenth as many", async () => {
    await env.client.jobs.enqueue("fair.cost", jobs(40), { placement: () => ({ lane: "backfill", tenant: "heavy", cost: 10 }) });
    await env.client.jobs.enqueue("fair.cost", jobs(200), { placement: () => ({ lane: "backfill", tenant: "light", cost: 1 }) });
    const w = await recorder(env.box, "fair.cost", 10);
    await waitFor("the tasks to run", () => w.ran.length >= 110, 30_000);
    const first = w.ran.slice(0, 110);
    const heavy = count(first, (r) => r.tenant === "heavy");
    expect(heavy).toBeGreaterThanOrEqual(7);
    expect(heavy).toBeLessThanOrEqual(14);
    await w.close();
  });

  test("an interactive task overtakes a queued backfill", async () => {
    await env.client.jobs.enqueue("fair.lanes", jobs(100), { placement: () => ({ lane: "backfill", tenant: "history" }) });
    const w = await recorder(env.box, "fair.lanes", 20);
    await waitFor("the tasks to run", () => w.ran.length >= 5, 10_000);
    await env.client.jobs.enqueue("fair.lanes", [{ n: 1000 }], { placement: () => ({ lane: "interactive", tenant: "push" }) });
    const at = w.ran.length;
    await waitFor("the tasks to run", () => w.ran.some((r) => r.tenant === "push"), 10_000);
    // Run within the next few tasks, not after the backfill's remaining ~90.
    expect(w.ran.findIndex((r) => r.tenant === "push") - at).toBeLessThanOrEqual(3);
    await w.close();
  });

  test("a backfill keeps progressing under a steady stream of interactive tasks", async () => {
    await env.client.jobs.enqueue("fair.steady", jobs(200), { placement: () => ({ lane: "backfill", tenant: "history" }) });
    const w = await recorder(env.box, "fair.steady", 5);
    let stop = false;
    const pushes = (async () => {
      for (let i = 0; !stop; i++) {
        await env.client.jobs.enqueue("fair.steady", jobs(5, i * 5), { placement: () => ({ lane: "interactive", tenant: `team-${i % 3}` }) });
        await sleep(10);
      }
    })();
    await waitFor("the tasks to run", () => w.ran.length >= 150, 30_000);
    stop = true;
    await pushes;
    const window = w.ran.slice(20, 150);
    expect(count(window, (r) => r.lane === "interactive")).toBeGreaterThan(60);
    // The guaranteed share (0.2 by default), within noise.
    expect(count(window, (r) => r.lane === "backfill")).toBeGreaterThanOrEqual(18);
    await w.close();
  });

  test("a worker that closes hands its pulled-ahead tasks back: every task runs exactly once", async () => {
    await env.client.jobs.enqueue("fair.handback", jobs(30), { placement: (j) => ({ lane: "backfill", tenant: `t${j.n % 3}` }), id: (j) => `hb-${j.n}` });
    const first = await recorder(env.box, "fair.handback", 10);
    await waitFor("the tasks to run", () => first.ran.length >= 5, 10_000);
    await first.close();
    const second = await recorder(env.box2, "fair.handback", 1);
    await waitFor("the tasks to run", () => first.ran.length + second.ran.length >= 30, 20_000);
    await sleep(300);
    const all = [...first.ran, ...second.ran].map((r) => r.n).sort((a, b) => a - b);
    expect(all).toEqual(jobs(30).map((j) => j.n));
    await second.close();
  });

  test("a tenant's consumer is removed by the server once its work is done and it sits idle", async () => {
    const w = await recorder(env.box, "fair.idle", 1, { idleConsumerMs: 1500 });
    await env.client.jobs.enqueue("fair.idle", jobs(5), { placement: () => ({ tenant: "brief" }) });
    await waitFor("the tasks to run", () => w.ran.length >= 5, 10_000);
    const names = async () => (await env.client.jsm.consumers.list("FAIRQ").next()).map((c) => c.name).filter((n) => n.startsWith("fair_idle_"));
    expect(await names()).toHaveLength(1);
    await waitFor("the consumer to be removed", async () => (await names()).length === 0, 30_000);
    await w.close();
  });

  test("with a reserve, long backfill tasks never take every slot: an interactive task starts at once", async () => {
    const started: Ran[] = [];
    const release: (() => void)[] = [];
    const w = await env.box.worker<Job, void>(
      "fair.reserve",
      async (job: Job, ctx: TaskContext) => {
        started.push({ tenant: ctx.headers!.get(HeaderNames.tenant), lane: ctx.headers!.get(HeaderNames.lane) as Lane, n: job.n });
        // Backfill tasks run until the test lets them go; interactive ones are quick.
        if (ctx.headers!.get(HeaderNames.lane) === "backfill") await new Promise<void>((resolve) => release.push(resolve));
      },
      { concurrency: 3, interactiveReserve: 1 },
    );
    await env.client.jobs.enqueue("fair.reserve", jobs(6), { placement: () => ({ lane: "backfill", tenant: "big" }) });
    await waitFor("two backfill tasks to start", () => started.length >= 2, 10_000);
    // A third slot is free, but backfill may not take it.
    await sleep(500);
    expect(started.map((r) => r.lane)).toEqual(["backfill", "backfill"]);
    await env.client.jobs.enqueue("fair.reserve", jobs(1, 100), { placement: () => ({ lane: "interactive", tenant: "push" }) });
    await waitFor("the interactive task to start", () => started.some((r) => r.lane === "interactive"), 10_000);
    expect(started.filter((r) => r.lane === "backfill")).toHaveLength(2);
    // Backfill still gets its two slots: all six run as slots free up.
    while (started.filter((r) => r.lane === "backfill").length < 6 || release.length > 0) {
      release.shift()?.();
      await sleep(20);
    }
    expect(
      started
        .filter((r) => r.lane === "backfill")
        .map((r) => r.n)
        .sort((a, b) => a - b),
    ).toEqual([0, 1, 2, 3, 4, 5]);
    await w.close();
  });

  test("a reserve of every slot is refused: backfill would never run", async () => {
    await expect(env.box.worker("fair.reserve", async () => {}, { concurrency: 2, interactiveReserve: 2 })).rejects.toThrow(/interactiveReserve/);
  });

  test("a placement is refused on a queue that is not fair, and a bad one on a fair queue", async () => {
    await expect(env.client.jobs.enqueue("jobs.plain", jobs(1), { placement: () => ({ tenant: "x" }) })).rejects.toThrow(/not a fair queue/);
    await expect(env.client.jobs.enqueue("fair.work", jobs(1), { placement: () => ({ tenant: "" }) })).rejects.toThrow(/tenant/);
    await expect(env.client.jobs.enqueue("fair.work", jobs(1), { placement: () => ({ cost: -1 }) })).rejects.toThrow(/cost/);
  });
});
