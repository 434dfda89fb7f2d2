/**
 * A batch's lint configs, by reference: the splitter stores each under
 * objectNames.lintConfig(id). By id they are content addressed, never stale:
 * cached, and concurrent batches fetch one once.
 */
import { Lru } from "../../shared/fabric/lru.js";
import type { FileLintConfig } from "../../shared/lint/index.js";
import { objectNames } from "../../shared/pipeline/names.js";
import type { Objects } from "../../shared/pipeline/stores/index.js";

/** Configs kept (least recently used dropped first). */
const CONFIGS = 1024;

export class LintConfigs {
  private readonly configs = new Lru<string, FileLintConfig>(CONFIGS);
  private readonly fetching = new Map<string, Promise<FileLintConfig>>();

  constructor(private readonly objects: Objects) {}

  /** The config of id `id`. */
  async get(id: string): Promise<FileLintConfig> {
    const hit = this.configs.get(id);
    if (hit) return hit;
    let fetch = this.fetching.get(id);
    if (!fetch) {
      // Named from the id, whatever the batch says: a batch cannot point the runner at another object.
      const name = objectNames.lintConfig(id);
      fetch = this.objects
        .getValue<FileLintConfig>(name)
        .then((config) => {
          // Transient: the splitter stores configs before it queues; a replica may lag behind.
          if (!config) throw new Error(`lint config ${id} (${name}) is not in the object store yet`);
          this.configs.set(id, config);
          return config;
        })
        .finally(() => this.fetching.delete(id));
      this.fetching.set(id, fetch);
    }
    return fetch;
  }
}
