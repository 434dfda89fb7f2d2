/**
 * Where farm keeps data: blob contents, manifests and file lists in the object
 * store (anything that may exceed one message), results and reports in KV.
 * Everything is content-addressed or keyed by commit, so writes are idempotent.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { Objects } from "./objects.js";
import { ResultCache } from "./results.js";
import { ReportStore } from "./reports.js";
import { RepoIndex } from "./repos.js";

export { Objects } from "./objects.js";
export { ResultCache } from "./results.js";
export { ReportStore, type ReportBody, type StoredReport } from "./reports.js";
export { RepoIndex } from "./repos.js";

/** The stores a service works with. */
export interface Stores {
  objects: Objects;
  results: ResultCache;
  reports: ReportStore;
  /** The analysed repositories (`history.repos`). */
  repos: RepoIndex;
}

/** Opens the object store, the result cache, the report store and the repository index on one connection. */
export async function openStores(nc: NatsConnection): Promise<Stores> {
  const objects = await Objects.open(nc);
  const results = await ResultCache.open(nc, objects);
  return { objects, results, reports: await ReportStore.open(nc, objects, results), repos: await RepoIndex.open(nc) };
}
