/** The result cache (KV `farm-results`): (blob, config id) → result, forever. */
import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { decode, encode } from "../../fabric/codec.js";
import type { FileResult } from "../report.js";
import { buckets, objectNames } from "../names.js";
import { LRUCache } from "lru-cache";
import { knownKeys } from "./known-keys.js";
import type { Objects } from "./objects.js";

// KV values and messages are capped at 1 MB; leave room for headers.
const INLINE_LIMIT = 512 * 1024;
/** Encoded bytes of results kept in memory. */
const RESULT_BYTES_KEPT = 4 * 1024 * 1024;

/**
 * The result cache: (blob, config id) → result, forever. Large results spill to
 * the object store. A key's result never changes, so recent ones are kept in
 * memory: a history reads the same unchanged files' results for every commit.
 */
export class ResultCache {
  /** Keys known to have a result. */
  private hits = knownKeys();
  /**
   * Results, bounded by their encoded size (decoded they take several times
   * that): what a long history keeps is what a short one does, not every
   * message it ever read.
   */
  private values = new LRUCache<string, FileResult>({ maxSize: RESULT_BYTES_KEPT });
  constructor(
    private readonly kv: KV,
    private readonly objects: Objects,
  ) {}

  static async open(nc: NatsConnection, objects: Objects): Promise<ResultCache> {
    return new ResultCache(await new Kvm(nc).open(buckets.results), objects);
  }

  /** True when this instance has seen a result for `key` (a result never goes away); false says nothing. */
  known(key: string): boolean {
    return this.hits.has(key);
  }

  async has(key: string): Promise<boolean> {
    if (this.hits.has(key)) return true;
    const e = await this.kv.get(key);
    const found = Boolean(e && e.operation === "PUT");
    if (found) this.hits.set(key, true);
    return found;
  }

  async get(key: string): Promise<FileResult | null> {
    const hit = this.values.get(key);
    if (hit) return hit;
    const e = await this.kv.get(key);
    if (!e || e.operation !== "PUT") return null;
    const v = decode<FileResult | { ref: string }>(e.value);
    const r = "ref" in v ? await this.objects.getValue<FileResult>(v.ref) : v;
    if (r) this.remember(key, r, "ref" in v ? undefined : e.value.length);
    return r;
  }

  /** `bytes`: its encoded size; a result spilled to the object store (no size) is too big to keep. */
  private remember(key: string, r: FileResult, bytes: number | undefined) {
    this.hits.set(key, true);
    if (bytes !== undefined) this.values.set(key, r, { size: Math.max(1, bytes) });
  }

  async put(key: string, result: FileResult): Promise<void> {
    const data = encode(result);
    const inline = data.length <= INLINE_LIMIT;
    if (inline) {
      await this.kv.put(key, data);
    } else {
      const ref = await this.objects.putDocument(objectNames.result(key), result);
      await this.kv.put(key, encode({ ref }));
    }
    this.remember(key, result, inline ? data.length : undefined);
  }
}
