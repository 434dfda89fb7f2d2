/**
 * Queuing a commit's files for linting: every (blob, config) that is neither
 * in the result cache nor claimed recently (by this commit's neighbours in
 * the history), packed into batches, their configs stored first.
 */
import { mapLimit } from "../../shared/fabric/concurrency.js";
import { maxPayload } from "../../shared/fabric/limits.js";
import type { FileRef, ManifestEntry } from "../../shared/pipeline/contract.js";
import { kvKeys, subjects } from "../../shared/pipeline/names.js";
import type { ServiceContext } from "../../shared/pipeline/service.js";
import type { Objects, ResultCache } from "../../shared/pipeline/stores/index.js";
import type { AnalysisPlacement } from "../../shared/pipeline/lanes.js";
import { batchId, pack, type BatchOptions } from "./batches.js";
import { Claims } from "./claims.js";
import { settingsOf } from "../../shared/pipeline/toolchain-settings.js";
import { storeConfigs, type StoredConfig } from "./lint-configs.js";

export interface LintQueueDeps extends Pick<ServiceContext, "farm">, BatchOptions {
  objects: Objects;
  results: ResultCache;
}

export class LintQueue {
  private readonly claims = new Claims();

  constructor(private readonly deps: LintQueueDeps) {}

  /**
   * Queues the files of `refs` to lint; returns how many. Claims are
   * released if anything fails before the batches are in the stream, so a
   * retry queues them.
   */
  async queue(
    refs: readonly FileRef[],
    byPath: ReadonlyMap<string, ManifestEntry>,
    configs: ReadonlyMap<string, StoredConfig>,
    placement: AnalysisPlacement,
  ): Promise<number> {
    const claimed = this.claims.take(refs.map((r) => [kvKeys.result(r.blob, r.configId), r] as const));
    let queued = false;
    try {
      const candidates = [...claimed];
      const cached = await mapLimit(candidates, 64, ([key]) => this.deps.results.has(key));
      const toLint = candidates.filter((_, i) => !cached[i]).map(([, r]) => r);
      const batches = pack(toLint, byPath, this.deps, maxPayload(this.deps.farm.nc));
      // A toolchain file's config is its settings, stored once under the settings id.
      const used = new Set(toLint.map((r) => settingsOf(r.configId) ?? r.configId));
      await storeConfigs(this.deps.objects, new Map([...used].map((id) => [id, configs.get(id)!])));
      if (batches.length > 0) {
        // A batch costs its files: a tenant's share is of files linted, however they are batched.
        await this.deps.farm.jobs.distribute(subjects.lintBatch, batches, {
          resultsTo: subjects.lintResults,
          id: batchId,
          placement: (b) => ({ ...placement, cost: b.files.length }),
        });
      }
      queued = true;
      return toLint.length;
    } finally {
      if (!queued) this.claims.release(claimed.keys());
    }
  }
}
