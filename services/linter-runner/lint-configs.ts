/**
 * A batch's lint configs, by reference: the splitter stores each under
 * objectNames.lintConfig(id). By id they are content addressed, never stale:
 * cached, and concurrent batches fetch one once.
 */
import { InFlight } from "../../shared/fabric/concurrency.js";
import { LRUCache } from "lru-cache";
import type { FileLintConfig } from "../../shared/lint/index.js";
import { objectNames } from "../../shared/pipeline/names.js";
import type { Objects } from "../../shared/pipeline/stores/index.js";
import { settingsOf, type ToolchainSettings } from "../../shared/pipeline/toolchain-settings.js";

/** A file's config: farm's own, or its commit's toolchain settings (stored once under the settings id). */
export type RunnerConfig = FileLintConfig | ToolchainSettings;

/** Configs kept (least recently used dropped first). */
const CONFIGS = 1024;

export class LintConfigs {
  private readonly configs = new LRUCache<string, RunnerConfig>({ max: CONFIGS });
  private readonly fetching = new InFlight<RunnerConfig>();

  constructor(private readonly objects: Objects) {}

  /** The config of id `id`. */
  async get(configId: string): Promise<RunnerConfig> {
    // A toolchain file's config id names its settings, shared by many files.
    const id = settingsOf(configId) ?? configId;
    const hit = this.configs.get(id);
    if (hit) return hit;
    return this.fetching.run(id, async () => {
      // Named from the id, whatever the batch says: a batch cannot point the runner at another object.
      const name = objectNames.lintConfig(id);
      const config = await this.objects.getValue<RunnerConfig>(name);
      // Transient: the splitter stores configs before it queues; a replica may lag behind.
      if (!config) throw new Error(`lint config ${id} (${name}) is not in the object store yet`);
      this.configs.set(id, config);
      return config;
    });
  }
}
