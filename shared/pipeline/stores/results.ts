/** The result cache (KV `farm-results`): (blob, config id) → result, forever. */
import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { decode, encode } from "../../fabric/codec.js";
import type { FileResult } from "../report.js";
import { buckets, objectNames } from "../names.js";
import { Lru } from "../../fabric/lru.js";
import type { Objects } from "./objects.js";

// KV values and messages are capped at 1 MB; leave room for headers.
const INLINE_LIMIT = 512 * 1024;

/**
 * The result cache: (blob, config id) → result, forever. Large results spill to
 * the object store. A key's result never changes, so recent ones are kept in
 * memory: a history reads the same unchanged files' results for every commit.
 */
export class ResultCache {
  private hits = new Lru<string, true>(500_000);
  private values = new Lru<string, FileResult>(20_000);
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
    if (r) this.remember(key, r);
    return r;
  }

  private remember(key: string, r: FileResult) {
    this.hits.set(key, true);
    this.values.set(key, r);
  }

  async put(key: string, result: FileResult): Promise<void> {
    const data = encode(result);
    if (data.length > INLINE_LIMIT) {
      const ref = await this.objects.putDocument(objectNames.result(key), result);
      await this.kv.put(key, encode({ ref }));
    } else {
      await this.kv.put(key, data);
    }
    this.remember(key, result);
  }
}
