/** splitter: commit manifests in, lint batches and commit file lists out. */
import type { Service, ServiceContext } from "../../shared/pipeline/service.js";
import { openStores } from "../../shared/pipeline/stores/index.js";
import { subjects } from "../../shared/pipeline/names.js";
import { Splitter } from "./handlers.js";

export async function startSplitter(ctx: ServiceContext): Promise<Service> {
  const { farm } = ctx;
  const { objects, results } = ctx.stores ?? (await openStores(farm.nc));
  const splitter = new Splitter({ ...ctx, objects, results });
  const worker = await farm.worker(subjects.commitManifest, splitter.onManifest, { concurrency: 8, ackWait: 15_000 });
  return { name: "splitter", close: () => worker.close(), endpoints: [worker.endpoint] };
}
