/** The result cache (KV `farm-results`): (blob, config id) → result, forever. */
import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { decode, encode } from "../../fabric/codec.js";
import type { FileResult } from "../report.js";
import { buckets, objectNames } from "../names.js";
import { LRUCache } from "lru-cache";
import { InFlight } from "../../fabric/concurrency.js";
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
  /**
   * The last result read from the object store (too big for `values`): a
   * commit's tally and its delta read it one after the other, and the next
   * commit that changes the file reads it again as its baseline. One, so what
   * is kept stays one file's messages however long the history.
   */
  private spilled: { key: string; result: FileResult } | undefined;
  /** Reads in flight by key: the commits of a history tallied at once read an unchanged file's result once, not once each. */
  private readonly reading = new InFlight<FileResult | null>();
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
    const hit = this.values.get(key) ?? (this.spilled?.key === key ? this.spilled.result : undefined);
    if (hit) return hit;
    return this.reading.run(key, () => this.read(key));
  }

  private async read(key: string): Promise<FileResult | null> {
    const e = await this.kv.get(key);
    if (!e || e.operation !== "PUT") return null;
    const v = decode<FileResult | { ref: string }>(e.value);
    if (!("ref" in v)) {
      this.remember(key, v, e.value.length);
      return v;
    }
    const r = await this.objects.getValue<FileResult>(v.ref);
    if (r) {
      this.remember(key, r, undefined);
      this.spilled = { key, result: r };
    }
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
