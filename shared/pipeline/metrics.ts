/**
 * farm's Prometheus metrics (prom-client), loaded only by a process that serves
 * them (FARM_METRICS_PORT; what services count goes through counts.ts): one registry per process that runs
 * operations (services/operations.ts), never prom-client's global one, so two
 * farms in one process (two test pipelines) count apart. Names follow
 * Prometheus conventions: `farm_` prefix, base units, `_total` on counters;
 * prom-client's default process metrics keep their standard names.
 */
import { JetStreamApiCodes, JetStreamApiError, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection, Status } from "@nats-io/transport-node";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Logger } from "pino";
import { fairDepths, OTHER_TENANTS, TOP_TENANTS, type FairState } from "./depths.js";
import type { WorkerObserver } from "../fabric/worker/observers.js";
import type { FarmMetrics } from "./counts.js";

// Tasks range from a lint batch (ms) to an aggregator holding a commit until its parent is done (minutes).
const TASK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
// One file: a few ms warm, up to the pool's 10 s time limit.
const LINT_FILE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** farm's counters and histograms, registered in `registry`. */
export function createMetrics(registry: Registry): FarmMetrics {
  const registers = [registry];
  return {
    registry,
    tasks: new Counter({
      name: "farm_tasks_total",
      help: "Tasks a worker ran, by subject, how they came (send: request-reply, distribute: a work queue) and outcome (ok, failed)",
      labelNames: ["subject", "via", "outcome"],
      registers,
    }),
    tasksRedelivered: new Counter({
      name: "farm_tasks_redelivered_total",
      help: "Tasks started on a second or later delivery, by subject",
      labelNames: ["subject"],
      registers,
    }),
    tasksDeadLettered: new Counter({
      name: "farm_tasks_dead_lettered_total",
      help: "Queued tasks given up and parked in the dead-letter stream, by subject",
      labelNames: ["subject"],
      registers,
    }),
    taskDuration: new Histogram({
      name: "farm_task_duration_seconds",
      help: "Time from a task's decode to its handler's end, by subject and via",
      labelNames: ["subject", "via"],
      buckets: TASK_BUCKETS,
      registers,
    }),
    lintFileDuration: new Histogram({
      name: "farm_lint_file_duration_seconds",
      help: "Time to lint one file on a lint thread (all its linters)",
      buckets: LINT_FILE_BUCKETS,
      registers,
    }),
    resultCacheHits: new Counter({
      name: "farm_result_cache_hits_total",
      help: "Files of split commits whose (blob, config) result was in the result cache or already on its way: not queued to lint",
      registers,
    }),
    resultCacheMisses: new Counter({
      name: "farm_result_cache_misses_total",
      help: "Files of split commits queued to lint: no result in the result cache",
      registers,
    }),
    commitsAnalyzed: new Counter({ name: "farm_commits_analyzed_total", help: "Commit reports the aggregator stored", registers }),
    filesLinted: new Counter({ name: "farm_files_linted_total", help: "Files the linter-runner linted (batches and lint.file)", registers }),
    natsReconnects: new Counter({ name: "farm_nats_reconnects_total", help: "Reconnects of this process's NATS connection", registers }),
  };
}

/** Task counts, redeliveries, durations and dead letters of every worker of a farm. */
export function taskObserver(m: FarmMetrics, isOn: () => boolean = () => true): WorkerObserver {
  return {
    around: async (task, next) => {
      if (!isOn()) return next();
      const { subject, via } = task;
      if (task.attempt > 1) m.tasksRedelivered.inc({ subject });
      const end = m.taskDuration.startTimer({ subject, via });
      try {
        const value = await next();
        m.tasks.inc({ subject, via, outcome: "ok" });
        return value;
      } catch (err) {
        m.tasks.inc({ subject, via, outcome: "failed" });
        throw err;
      } finally {
        end();
      }
    },
    deadLettered: (subject) => {
      if (isOn()) m.tasksDeadLettered.inc({ subject });
    },
  };
}

/** Counts the connection's reconnects until the returned stop is called or the connection closes. */
export function countReconnects(nc: NatsConnection, m: FarmMetrics): () => void {
  const status = nc.status() as AsyncIterable<Status> & { stop?: () => void };
  void (async () => {
    for await (const s of status) if (s.type === "reconnect") m.natsReconnects.inc();
  })().catch(() => {});
  return () => status.stop?.();
}

/** Bounds a scrape's JetStream questions: a slow or partitioned server must not hang Prometheus's scrape. */
export const JETSTREAM_SCRAPE_TIMEOUT_MS = 2_000;

interface ConsumerState {
  stream: string;
  consumer: string;
  pending: number;
  ackPending: number;
  redelivered: number;
}

interface JetStreamState {
  streams: { stream: string; messages: number }[];
  consumers: ConsumerState[];
  fair: FairState[];
}

/** What the JetStream gauges report: named streams and consumers, asked by INFO (no LIST: a service's NATS user may not list). */
export interface GaugedState {
  jsm: Pick<JetStreamManager, "streams" | "consumers">;
  /** Streams whose messages are counted (the farm's work queues, its dead letters, its events). */
  streams(): readonly string[];
  /** The durable consumers of this process's workers. */
  consumers(): readonly { stream: string; consumer: string }[];
  /** The fair subjects this process's workers take (their flows are counted by lane and tenant). Default none. */
  fair?(): readonly { stream: string; subject: string }[];
}

/**
 * Stream and durable-consumer gauges, asked of JetStream at scrape time (one
 * set of API calls per scrape, shared by the four gauges). Each process
 * reports its own workers' consumers, so a service's user needs only the INFO
 * rights it has; every process reports the same streams (dashboards take the max).
 * On an error or a timeout the gauges are empty for that scrape, not stale.
 */
export function registerJetStreamGauges(registry: Registry, source: GaugedState, log: Logger, timeoutMs = JETSTREAM_SCRAPE_TIMEOUT_MS): void {
  // A scrape starts the four gauges' collects in one tick: they share the query in flight, and the next scrape asks anew.
  let pending: Promise<JetStreamState | undefined> | undefined;
  // A scrape every few seconds would repeat the same complaint: each one is told once, then at debug level.
  const told = new Set<string>();
  const tell = (msg: string, fields: object) => {
    if (told.has(msg)) return log.debug(fields, msg);
    told.add(msg);
    log.warn(fields, msg);
  };
  const state = () => (pending ??= queryJetStream(source, timeoutMs, tell).finally(() => (pending = undefined)));
  const gauge = <L extends string>(name: string, help: string, labelNames: L[], fill: (g: Gauge<L>, s: JetStreamState) => void) =>
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const s = await state();
        this.reset();
        if (s) fill(this, s);
      },
    });
  gauge("farm_stream_messages", "Messages in each JetStream stream", ["stream"], (g, s) => {
    for (const x of s.streams) g.set({ stream: x.stream }, x.messages);
  });
  const perConsumer = (name: string, help: string, value: (c: ConsumerState) => number) =>
    gauge(name, help, ["stream", "consumer"], (g, s) => {
      for (const c of s.consumers) g.set({ stream: c.stream, consumer: c.consumer }, value(c));
    });
  perConsumer("farm_consumer_pending_messages", "Messages of a durable consumer's stream not yet delivered to it", (c) => c.pending);
  perConsumer("farm_consumer_ack_pending_messages", "Messages delivered to a durable consumer and not yet acked", (c) => c.ackPending);
  perConsumer("farm_consumer_redelivered_messages", "Messages of a durable consumer delivered more than once and not yet acked", (c) => c.redelivered);
  gauge(
    "farm_fair_messages",
    `Tasks of a fair subject in its stream (waiting or running), by lane and tenant: the ${TOP_TENANTS} tenants with the most per lane, the rest as "${OTHER_TENANTS}"`,
    ["subject", "lane", "tenant"],
    (g, s) => {
      for (const f of s.fair) g.set({ subject: f.subject, lane: f.lane, tenant: f.tenant }, f.messages);
    },
  );
}

async function queryJetStream(source: GaugedState, timeoutMs: number, tell: (msg: string, fields: object) => void): Promise<JetStreamState | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => {
      tell("JetStream did not answer within the scrape's time: stream and consumer gauges left out", { timeoutMs });
      resolve(undefined);
    }, timeoutMs);
  });
  const { jsm } = source;
  const ask = (async (): Promise<JetStreamState> => {
    // A stream not created yet has nothing to count; any other error leaves the scrape without gauges.
    const notYet = (err: unknown) => {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return null;
      throw err;
    };
    const streams = await Promise.all(source.streams().map((name) => jsm.streams.info(name).catch(notYet)));
    const consumers = await Promise.all(source.consumers().map((c) => jsm.consumers.info(c.stream, c.consumer)));
    const fair = await fairDepths(jsm, source.fair?.() ?? []);
    return {
      fair: fair.flat(),
      streams: streams.flatMap((si) => (si ? [{ stream: si.config.name, messages: si.state.messages }] : [])),
      consumers: consumers.map((ci) => ({
        stream: ci.stream_name,
        consumer: ci.name,
        pending: ci.num_pending,
        ackPending: ci.num_ack_pending,
        redelivered: ci.num_redelivered,
      })),
    };
  })().catch((err: Error) => {
    tell(
      `could not read JetStream's stream and consumer info for the metrics (needs $JS.API.STREAM.INFO and $JS.API.CONSUMER.INFO of them): ${err.message}`,
      {},
    );
    return undefined;
  });
  try {
    return await Promise.race([ask, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A fresh registry with prom-client's default process metrics (standard names, no prefix). */
export function processRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
