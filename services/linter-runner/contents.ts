/** Files' contents by blob, from the blob store (never a clone): a blob shared by many commits is fetched once. */
import { LRUCache } from "lru-cache";
import { objectNames } from "../../shared/pipeline/names.js";
import type { Objects } from "../../shared/pipeline/stores/index.js";

/** Bytes of contents kept (least recently used dropped first): a blob is linted once per config, mostly in a row. */
const CONTENTS_BYTES = 32 * 1024 * 1024;

export class Contents {
  private readonly contents = new LRUCache<string, Uint8Array>({ maxSize: CONTENTS_BYTES, sizeCalculation: (data) => Math.max(1, data.byteLength) });

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
