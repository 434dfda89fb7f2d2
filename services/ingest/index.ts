/** ingest: consumes `repo.new_sha` from its stream, so a publish during an outage is not lost. */
import { Mirrors } from "../../shared/git.js";
import type { Service, ServiceContext } from "../../shared/pipeline.js";
import { Objects, ReportStore, ResultCache } from "../../shared/stores.js";
import { subjects } from "../../shared/topology.js";
import { Ingest } from "./handlers.js";

export async function startIngest(ctx: ServiceContext): Promise<Service> {
  const { farm, config } = ctx;
  const objects = await Objects.open(farm.nc);
  const reports = await ReportStore.open(farm.nc, objects, await ResultCache.open(farm.nc, objects));
  const mirrors = new Mirrors({ dataDir: config.dataDir, allowLocal: config.allowLocalRepos });
  const ingest = new Ingest({ ...ctx, objects, reports, mirrors });
  const worker = await farm.worker(subjects.newSha, ingest.onNewSha, {
    concurrency: 4,
    // Clones of big repos take a while; heartbeats keep the task ours meanwhile. A delivery
    // lost with a NATS node comes again after the ack wait: keep it short.
    ackWait: 20_000,
    maxDeliver: 5,
    backoff: [2000, 10_000, 30_000, 60_000],
    decode: (data: Uint8Array) => data,
  });
  return { name: "ingest", close: () => worker.close(), stats: () => ({ mirrors: mirrors.stats(), worker: worker.stats() }) };
}
