/** Files' contents by blob, from the blob store (never a clone): a blob shared by many commits is fetched once. */
import { Lru } from "../../shared/fabric/lru.js";
import { objectNames } from "../../shared/pipeline/names.js";
import type { Objects } from "../../shared/pipeline/stores/index.js";

/** Contents kept (least recently used dropped first). */
const CONTENTS = 4096;

export class Contents {
  private readonly contents = new Lru<string, Uint8Array>(CONTENTS);

  constructor(private readonly objects: Objects) {}

  async get(blob: string): Promise<Uint8Array> {
    const hit = this.contents.get(blob);
    if (hit) return hit;
    const data = await this.objects.getBytes(objectNames.blob(blob));
    // Transient: ingest uploads before it queues; a replica may lag behind.
    if (!data) throw new Error(`blob ${blob} is not in the blob store yet`);
    this.contents.set(blob, data);
    return data;
  }
}
