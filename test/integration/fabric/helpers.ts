/**
 * Pieces of the fabric suite beyond the harness: the fixture worker
 * (test/fixtures/worker.ts) in its own process and what it reports, and
 * "each exactly once" counts.
 */
import type { Farm } from "../../../shared/fabric/index.js";
import { spawnFixture, type Child } from "../../harness/children.js";

export interface FixtureOptions {
  /** "slow": each task takes `delay` ms; "die": the worker SIGKILLs itself mid-task. */
  mode: "slow" | "die";
  delay?: number;
  concurrency?: number;
  prefetch?: number;
  ackWait?: number;
  maxDeliver?: number;
}

/** The fixture worker on `subject`, in a process of its own, against `url`. */
export function spawnWorker(url: string, subject: string, o: FixtureOptions): Child {
  const env: Record<string, string | number> = { NATS_URL: url, FIXTURE_SUBJECT: subject, FIXTURE_MODE: o.mode };
  const options = {
    FIXTURE_DELAY: o.delay,
    FIXTURE_CONCURRENCY: o.concurrency,
    FIXTURE_PREFETCH: o.prefetch,
    FIXTURE_ACK_WAIT: o.ackWait,
    FIXTURE_MAX_DELIVER: o.maxDeliver,
  };
  for (const [k, v] of Object.entries(options)) if (v !== undefined) env[k] = v;
  return spawnFixture("worker", env);
}

/** What a fixture worker reports; `at` is the order this process received it in. */
export interface FixtureReport {
  n: number;
  attempt: number;
  pid: number;
  at: number;
}

let received = 0;

/** The next number in the order of what this process observed (fixture reports, local handler calls). */
export function observed(): number {
  return ++received;
}

/** Collects what fixture workers on `subject` report (ready, task started, task done), once `farm` is subscribed. */
export async function watchFixture(farm: Farm, subject: string) {
  const seen = { ready: [] as FixtureReport[], started: [] as FixtureReport[], done: [] as FixtureReport[] };
  for (const kind of ["ready", "started", "done"] as const) {
    farm.events.subscribe<FixtureReport>(`fixture.${subject}.${kind}`, (r) => void seen[kind].push({ ...r, at: observed() }));
  }
  await farm.nc.flush();
  return seen;
}

/** Counts occurrences per key: "each exactly once" checks. */
export function tally<K>(keys: Iterable<K>): Map<K, number> {
  const m = new Map<K, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}
