/** ingest: consumes `repo.new_sha` from its stream, so a publish during an outage is not lost. */
import { Mirrors, redactUrl } from "../../shared/git/index.js";
import type { Service, ServiceContext } from "../../shared/pipeline/service.js";
import { openStores } from "../../shared/pipeline/stores/index.js";
import { subjects } from "../../shared/pipeline/names.js";
import { DEFAULT_MAX_ANALYSES, Ingest, redactNewShaPayload } from "./handlers.js";

/** Requests in flight: the analyses plus as many again joining them (a join costs nothing but a slot). */
const REQUESTS_IN_FLIGHT = 2 * DEFAULT_MAX_ANALYSES;

export async function startIngest(ctx: ServiceContext): Promise<Service> {
  const { farm, config } = ctx;
  const { objects, reports } = ctx.stores ?? (await openStores(farm.nc));
  const mirrors = new Mirrors({ dataDir: config.dataDir, allowLocal: config.allowLocalRepos });
  const ingest = new Ingest({ ...ctx, objects, reports, mirrors, maxAnalyses: DEFAULT_MAX_ANALYSES });
  const worker = await farm.worker(subjects.newSha, ingest.onNewSha, {
    // More requests than analyses: identical requests published together join the one in flight
    // instead of waiting for it to finish and then running again.
    concurrency: REQUESTS_IN_FLIGHT,
    // Clones of big repos take a while; heartbeats keep the task ours meanwhile. A delivery
    // lost with a NATS node comes again after the ack wait: keep it short.
    ackWait: 20_000,
    maxDeliver: 5,
    backoff: [2000, 10_000, 30_000, 60_000],
    decode: (data: Uint8Array) => data,
    // The request is the client's, credentials and all; the copy parked for operators is not.
    deadLetter: (t) => ({ ...t, data: redactNewShaPayload(t.data), reason: redactUrl(t.reason) }),
  });
  return {
    name: "ingest",
    close: () => worker.close(),
    endpoints: [worker.endpoint],
    stats: () => ({ ...ingest.stats(), mirrors: mirrors.stats(), worker: worker.stats() }),
  };
}
