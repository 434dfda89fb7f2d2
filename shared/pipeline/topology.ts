/**
 * The pipeline's JetStream topology beside the library's: its work queues
 * (declared like a library user's), the EVENTS stream, the KV buckets and the
 * blob store, created idempotently at start-up by `connectPipeline`.
 */
import { DiscardPolicy, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { Objm } from "@nats-io/obj";
import { nanos } from "@nats-io/transport-node";
import { Farm, type FarmOptions } from "../fabric/farm.js";
import { ensureStream, untilReady, type StreamSpec } from "../fabric/topology.js";
import { BLOB_STORE, buckets, EVENTS_DUPLICATE_WINDOW_MS, EVENTS_MAX_AGE_MS, EVENTS_STREAM, farmQueues, subjects } from "./names.js";

function eventsStream(replicas: number): StreamSpec {
  return {
    name: EVENTS_STREAM,
    subjects: [`${subjects.analysis}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: replicas,
    discard: DiscardPolicy.Old,
    max_age: nanos(EVENTS_MAX_AGE_MS),
    // A commit's task redelivered after a failover announces again, up to its ack waits later.
    duplicate_window: nanos(EVENTS_DUPLICATE_WINDOW_MS),
  };
}

/** The events stream, the buckets and the blob store, on a farm whose queues exist already. */
async function ensurePipelineStores(farm: Farm, opts: FarmOptions): Promise<void> {
  const deadline = Date.now() + (opts.readyTimeout ?? 60_000);
  const step = <T>(what: string, fn: () => Promise<T>) => untilReady(what, fn, deadline, farm.log);
  const replicas = opts.replicas ?? 1;
  await step(`stream ${EVENTS_STREAM}`, () => ensureStream(farm.jsm, eventsStream(replicas), farm.log));
  const kvm = new Kvm(farm.nc);
  for (const name of Object.values(buckets)) await step(`bucket ${name}`, () => kvm.create(name, { replicas, history: 1 }));
  await step(`object store ${BLOB_STORE}`, () => new Objm(farm.nc).create(BLOB_STORE, { replicas }));
}

/**
 * A farm that knows the pipeline's queues (and `opts.queues` beside them), with
 * the pipeline's streams, buckets and store created unless `ensureTopology` is false.
 */
export async function connectPipeline(opts: FarmOptions): Promise<Farm> {
  const farm = await Farm.connect({ ...opts, queues: [...farmQueues, ...(opts.queues ?? [])] });
  if (opts.ensureTopology ?? true) {
    try {
      await ensurePipelineStores(farm, opts);
    } catch (err) {
      await farm.close();
      throw err;
    }
  }
  return farm;
}
