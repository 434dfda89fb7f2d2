import { beforeAll, expect, test } from "vitest";
import { Kvm } from "@nats-io/kv";
import type { Farm } from "../../../shared/fabric/index.js";
import { buckets } from "../../../shared/pipeline/names.js";
import { Objects, ReportStore, ResultCache } from "../../../shared/pipeline/stores/index.js";
import { ResultTracker } from "../../../services/aggregator/tracker.js";
import { useFarms } from "../../harness/farms.js";
import { waitFor, within } from "../../harness/wait.js";

const env = useFarms(["farm"], { pipeline: true });
let farm: Farm;
let cache: CountingCache;
let reports: ReportStore;

/** The real result cache over NATS, counting how often each key is asked for, and how often answered. */
class CountingCache extends ResultCache {
  asked = new Map<string, number>();
  answered = new Map<string, number>();
  override async has(key: string): Promise<boolean> {
    this.asked.set(key, (this.asked.get(key) ?? 0) + 1);
    const found = await super.has(key);
    this.answered.set(key, (this.answered.get(key) ?? 0) + 1);
    return found;
  }
}

/** How many questions about `key` the cache has answered. */
const answers = (key: string) => cache.answered.get(key) ?? 0;

beforeAll(async () => {
  farm = env.farm;
  const objects = await Objects.open(farm.nc);
  cache = new CountingCache(await new Kvm(farm.nc).open(buckets.results), objects);
  reports = await ReportStore.open(farm.nc, objects, cache);
});

const result = { messages: [] };
const noProgress = () => {};

test("keys already in the cache settle at once; keys announced by done() settle without asking again", async () => {
  const tracker = new ResultTracker(cache, { recheckMs: 60_000 });
  await cache.put("t1.a", result);
  const wait = tracker.waitAll(["t1.a", "t1.b"], noProgress);
  await waitFor("the cache's answer about t1.b", () => answers("t1.b") === 1, 10_000, 5);
  tracker.done(["t1.b"]);
  await wait;
  expect(cache.asked.get("t1.b")).toBe(1);
});

test("a result another aggregator was told about is found by the re-check", async () => {
  const tracker = new ResultTracker(cache, { recheckMs: 100 });
  const wait = tracker.waitAll(["t2.a"], noProgress);
  // Missing at the first question and at a re-check: only a later re-check can find it.
  await waitFor("two answers about t2.a", () => answers("t2.a") >= 2, 10_000, 5);
  await cache.put("t2.a", result); // no done(): the batch's message went elsewhere
  await wait;
  expect(tracker.awaited).toBe(0);
});

test("many commits waiting for one missing key ask the cache for it once per round, not once per commit", async () => {
  const tracker = new ResultTracker(cache, { recheckMs: 100, maxRecheckMs: 400 });
  const waits = Array.from({ length: 50 }, () => tracker.waitAll(["t3.shared"], noProgress));
  // Four rounds (the first question, then re-checks after 100, 200 and 400 ms): four asks, and
  // at most a fifth on the wire, where 50 waiters re-checking on their own would have asked 200 times.
  await waitFor("four answers about t3.shared", () => answers("t3.shared") >= 4, 20_000, 5);
  const asked = cache.asked.get("t3.shared")!;
  expect(asked).toBeGreaterThanOrEqual(4);
  expect(asked).toBeLessThanOrEqual(5);
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
  // Aborted while it waits: after the cache said it has no result.
  await waitFor("the cache's answer about t4.never", () => answers("t4.never") === 1, 10_000, 5);
  ac.abort(new Error("shutting down"));
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
  const outcome = await within(
    Promise.all(waits).then(() => "all settled"),
    10_000,
    "hung",
  );
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
  const outcome = await within(wait, 10_000, "still waiting");
  expect(outcome).toBe("settled");
  expect(here.failure("t6.a")).toBe("linter-runner killed on every attempt");
  expect(here.failure("t6.b")).toBeUndefined();
});

test("a given-up record older than givenUpForMs is not a failure: the key was queued again", async () => {
  // The record, as the tracker reads it: each lookup counted once answered.
  let lookups = 0;
  const givenUp = {
    markGivenUp: (keys: string[], reason: string) => reports.markGivenUp(keys, reason),
    givenUp: async (key: string, forMs: number) => {
      const reason = await reports.givenUp(key, forMs);
      lookups++;
      return reason;
    },
  };
  const tracker = new ResultTracker(cache, { recheckMs: 100, maxRecheckMs: 200, givenUp, givenUpForMs: 1 });
  await reports.markGivenUp(["t7.a"], "long ago");
  // Aging the record past givenUpForMs (1 ms) is what is tested: a sleep on purpose.
  await new Promise((r) => setTimeout(r, 20));
  const wait = tracker.waitAll(["t7.a"], noProgress);
  // A key missing long enough to be asked at the longest gap is looked up in the record: twice, to be sure.
  await waitFor("two lookups of t7.a's record", () => lookups >= 2, 20_000, 5);
  expect(tracker.failure("t7.a")).toBeUndefined();
  expect(tracker.awaited).toBe(1);
  await cache.put("t7.a", result);
  await wait;
  expect(tracker.failure("t7.a")).toBeUndefined();
});
