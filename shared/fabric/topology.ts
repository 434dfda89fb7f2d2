/**
 * The library's JetStream topology, created idempotently at connect: a
 * work-queue stream per declared queue, the dead-letter stream and the stream
 * that keeps max-deliveries advisories. Nothing else: a library user gets only
 * what it declared (the pipeline adds its own in shared/pipeline/topology.ts).
 */
import { DiscardPolicy, JetStreamApiError, jetstreamManager, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { nextDelay } from "./backoff.js";
import { sleep } from "./concurrency.js";
import { isNatsTimeout } from "./nats-errors.js";
import { ADVISORY_STREAM, DLQ_PREFIX, DLQ_STREAM, MAX_DELIVERIES_ADVISORY } from "./names.js";
import { streamSubjects, type Queues } from "./queues.js";

export interface TopologyOptions {
  /** Stream and bucket replicas; 3 on a 3-node cluster. Default 1. */
  replicas?: number;
  log?: Logger;
  /**
   * How long to keep retrying while the cluster cannot yet answer (API timeouts,
   * no leader, not enough peers for the replicas). Default 60000 ms.
   */
  readyTimeout?: number;
}

export type StreamSpec = Partial<StreamConfig> & { name: string };

function streamConfigs(replicas: number, queues: Queues): StreamSpec[] {
  const work = queues.list().map((q) => ({
    name: q.stream,
    subjects: streamSubjects(q),
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    num_replicas: replicas,
    discard: DiscardPolicy.Old,
  }));
  return [
    ...work,
    {
      name: DLQ_STREAM,
      subjects: [`${DLQ_PREFIX}.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: replicas,
    },
    {
      // Advisories are core messages: a stream keeps them while no worker listens.
      name: ADVISORY_STREAM,
      subjects: [`${MAX_DELIVERIES_ADVISORY}.>`],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      num_replicas: replicas,
    },
  ];
}

const STREAM_NAME_IN_USE = 10058;

/** Creates a stream, or updates one of that name; a config the server will not change is kept and logged. */
export async function ensureStream(jsm: JetStreamManager, cfg: StreamSpec, log?: Logger): Promise<void> {
  try {
    await jsm.streams.add(cfg);
  } catch (err) {
    if (!(err instanceof JetStreamApiError) || err.code !== STREAM_NAME_IN_USE) throw err;
    try {
      await jsm.streams.update(cfg.name, cfg);
    } catch (e) {
      log?.warn({ stream: cfg.name, err: (e as Error).message }, "stream exists with a different config; kept as is");
    }
  }
}

/**
 * The JetStream manager, once the cluster answers (a node of a forming cluster
 * times out until it has a quorum), with the streams of `queues`, the DLQ and
 * the advisories created when `create` is set. Safe to call from every process at start.
 */
export async function openTopology(nc: NatsConnection, queues: Queues, opts: TopologyOptions & { create?: boolean } = {}): Promise<JetStreamManager> {
  // One deadline for every step: readyTimeout bounds the whole start-up.
  const deadline = Date.now() + (opts.readyTimeout ?? 60_000);
  const step = <T>(what: string, fn: () => Promise<T>) => untilReady(what, fn, deadline, opts.log);
  const jsm = await step("JetStream account", () => jetstreamManager(nc));
  if (!opts.create) return jsm;
  for (const cfg of streamConfigs(opts.replicas ?? 1, queues)) await step(`stream ${cfg.name}`, () => ensureStream(jsm, cfg, opts.log));
  return jsm;
}

/** JSClusterNoPeersErr: fewer peers than replicas, e.g. while a node of a fresh cluster is still joining. */
const NO_SUITABLE_PEERS = 10005;

/**
 * A cluster that is starting or electing a leader answers late, with 503, or
 * without enough peers. (No responders is not that: JetStream is not enabled.)
 */
function notReadyYet(err: unknown): boolean {
  if (isNatsTimeout(err)) return true;
  return err instanceof JetStreamApiError && (err.status >= 500 || err.code === NO_SUITABLE_PEERS);
}

const NOT_READY_BACKOFF = { initialMs: 250, maxMs: 4000 };

/**
 * Runs an idempotent JetStream step (a create, an info), again while the
 * cluster cannot answer yet, for up to `readyTimeout` ms (default 60000).
 */
export function whenReady<T>(what: string, fn: () => Promise<T>, opts: { readyTimeout?: number; log?: Logger } = {}): Promise<T> {
  return untilReady(what, fn, Date.now() + (opts.readyTimeout ?? 60_000), opts.log);
}

/** whenReady with a deadline shared by several steps. Idempotent steps: a create that timed out may have happened; the retry finds it in place. */
export async function untilReady<T>(what: string, fn: () => Promise<T>, deadline: number, log?: Logger): Promise<T> {
  for (let wait = nextDelay(undefined, NOT_READY_BACKOFF); ; wait = nextDelay(wait, NOT_READY_BACKOFF)) {
    try {
      return await fn();
    } catch (err) {
      if (!notReadyYet(err) || Date.now() + wait > deadline) throw err;
      log?.warn({ step: what, err: (err as Error).message, retryInMs: wait }, "JetStream not ready yet; retrying");
      await sleep(wait);
    }
  }
}
