import { afterAll, beforeAll, expect, test } from "vitest";
import { Kvm } from "@nats-io/kv";
import { Farm } from "../../shared/index.js";
import { buckets } from "../../shared/topology.js";
import { Objects, ReportStore, ResultCache } from "../../shared/stores.js";
import { ResultTracker } from "../../services/aggregator/tracker.js";
import { NatsServer } from "../harness/nats-server.js";

let server: NatsServer;
let farm: Farm;
let cache: CountingCache;
let reports: ReportStore;

/** The real result cache over NATS, counting how often each key is asked for. */
class CountingCache extends ResultCache {
  asked = new Map<string, number>();
  override async has(key: string): Promise<boolean> {
    this.asked.set(key, (this.asked.get(key) ?? 0) + 1);
    return super.has(key);
  }
}

beforeAll(async () => {
  server = await NatsServer.start();
  farm = await Farm.connect({ servers: server.url });
  const objects = await Objects.open(farm.nc);
  cache = new CountingCache(await new Kvm(farm.nc).open(buckets.results), objects);
  reports = await ReportStore.open(farm.nc, objects, cache);
});
afterAll(async () => {
  await farm?.close();
  await server?.dispose();
});

const result = { messages: [] };
const noProgress = () => {};

test("keys already in the cache settle at once; keys announced by done() settle without asking again", async () => {
  const tracker = new ResultTracker(cache, { recheckMs: 60_000 });
  await cache.put("t1.a", result);
  const wait = tracker.waitAll(["t1.a", "t1.b"], noProgress);
  await new Promise((r) => setTimeout(r, 50));
  tracker.done(["t1.b"]);
  await wait;
  expect(cache.asked.get("t1.b")).toBe(1);
});

test("a result another aggregator was told about is found by the re-check", async () => {
  const tracker = new ResultTracker(cache, { recheckMs: 100 });
  const wait = tracker.waitAll(["t2.a"], noProgress);
  await new Promise((r) => setTimeout(r, 250));
  await cache.put("t2.a", result); // no done(): the batch's message went elsewhere
  await wait;
  expect(tracker.awaited).toBe(0);
});

test("many commits waiting for one missing key ask the cache for it once per round, not once per commit", async () => {
  const tracker = new ResultTracker(cache, { recheckMs: 100, maxRecheckMs: 400 });
  const waits = Array.from({ length: 50 }, () => tracker.waitAll(["t3.shared"], noProgress));
  await new Promise((r) => setTimeout(r, 1500));
  // 1 s of rounds with gaps 100, 200, 400, 400 ms: a handful of asks, where 50 waiters
  // re-checking on their own would have asked hundreds of times.
  const asked = cache.asked.get("t3.shared")!;
  expect(asked).toBeGreaterThanOrEqual(2);
  expect(asked).toBeLessThanOrEqual(8);
  tracker.done(["t3.shared"]);
  await Promise.all(waits);
});

test("a failed key settles every waiter and is remembered for later ones; abort rejects a waiter", async () => {
  const tracker = new ResultTracker(cache, { recheckMs: 60_000 });
  const first = tracker.waitAll(["t4.a"], noProgress);
  await tracker.failed(["t4.a"], "linter crashed");
  await first;
  await tracker.waitAll(["t4.a"], noProgress);
  expect(tracker.failure("t4.a")).toBe("linter crashed");
  const ac = new AbortController();
  const stuck = tracker.waitAll(["t4.never"], noProgress, ac.signal);
  setTimeout(() => ac.abort(new Error("shutting down")), 50);
  await expect(stuck).rejects.toThrow("shutting down");
  expect(tracker.awaited).toBe(0);
});

test("commits arriving while an earlier one's answer settles its keys are never left waiting (warm history)", async () => {
  // Every key is cached: each waiter must resolve, whenever it arrives relative to the others' questions.
  const keys = Array.from({ length: 40 }, (_, i) => `t5.${i}`);
  await Promise.all(keys.map((k) => cache.put(k, result)));
  // A cache that has not seen these keys yet (as after a restart): every question goes to NATS.
  const tracker = new ResultTracker(new ResultCache(await new Kvm(farm.nc).open(buckets.results), await Objects.open(farm.nc)), { recheckMs: 60_000 });
  const waits: Promise<void>[] = [];
  for (let i = 0; i < 200; i++) {
    waits.push(tracker.waitAll(keys.slice(i % 20, (i % 20) + 20), noProgress));
    // Stagger the arrivals across the earlier waiters' round trips and microtask turns.
    if (i % 3 === 0) await new Promise((r) => setImmediate(r));
    else await Promise.resolve();
  }
  const outcome = await Promise.race([Promise.all(waits).then(() => "all settled"), new Promise((r) => setTimeout(() => r("hung"), 10_000))]);
  expect({ outcome, awaited: tracker.awaited }).toEqual({ outcome: "all settled", awaited: 0 });
});

test("a batch given up on one aggregator settles a commit waiting on another, once the key has been missing a while", async () => {
  const opts = { recheckMs: 100, maxRecheckMs: 400, givenUp: reports };
  const here = new ResultTracker(cache, opts);
  const there = new ResultTracker(cache, opts);
  const wait = here.waitAll(["t6.a", "t6.b"], noProgress).then(() => "settled");
  await there.failed(["t6.a"], "linter-runner killed on every attempt");
  await cache.put("t6.b", result);
  // The failure reached `there` only; `here` finds it in the shared record on a re-check (or never settles).
  const outcome = await Promise.race([wait, new Promise((r) => setTimeout(() => r("still waiting"), 10_000))]);
  expect(outcome).toBe("settled");
  expect(here.failure("t6.a")).toBe("linter-runner killed on every attempt");
  expect(here.failure("t6.b")).toBeUndefined();
});

test("a given-up record older than givenUpForMs is not a failure: the key was queued again", async () => {
  const tracker = new ResultTracker(cache, { recheckMs: 100, maxRecheckMs: 200, givenUp: reports, givenUpForMs: 1 });
  await reports.markGivenUp(["t7.a"], "long ago");
  await new Promise((r) => setTimeout(r, 20));
  const wait = tracker.waitAll(["t7.a"], noProgress);
  await new Promise((r) => setTimeout(r, 1000));
  expect(tracker.failure("t7.a")).toBeUndefined();
  expect(tracker.awaited).toBe(1);
  await cache.put("t7.a", result);
  await wait;
  expect(tracker.failure("t7.a")).toBeUndefined();
});
