/**
 * The result cache against a real nats-server: the commits of a history,
 * tallied at once, read an unchanged file's result once; the last result too
 * big for the KV value is kept for the reads that follow it.
 */
import { Kvm } from "@nats-io/kv";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { CachedMessage, FileResult } from "../../../../shared/pipeline/report.js";
import { buckets } from "../../../../shared/pipeline/names.js";
import { Objects, ResultCache } from "../../../../shared/pipeline/stores/index.js";
import { useFarms } from "../../../harness/farms.js";

const env = useFarms(["farm"], { pipeline: true });
let writer: ResultCache;

beforeAll(async () => {
  writer = await ResultCache.open(env.farm.nc, await Objects.open(env.farm.nc));
});

/** A result of `n` messages: 2,000 make it spill to the object store (over 512 KiB encoded). */
function result(n: number, tag: string): FileResult {
  const messages: CachedMessage[] = Array.from({ length: n }, (_, i) => ({
    linter: "eslint",
    ruleId: "no-undef",
    severity: 2,
    message: `'${tag}${i}' is not defined, and this text makes the message long enough to matter in size: ${"x".repeat(200)}`,
    line: i + 1,
    column: 1,
    context: `c${i}`,
    lineHash: `h${i}`,
  }));
  return { messages };
}

/** A reader as a service opens one, with its KV and object-store reads counted. */
async function reader() {
  const objects = await Objects.open(env.farm.nc);
  const kv = await new Kvm(env.farm.nc).open(buckets.results);
  const kvGets = vi.spyOn(kv, "get");
  const objectReads = vi.spyOn(objects, "getValue");
  return { cache: new ResultCache(kv, objects), kvGets, objectReads };
}

describe("ResultCache.get", () => {
  it("ten concurrent reads of one key read the store once", async () => {
    await writer.put("small.c1", result(3, "s"));
    await writer.put("big.c1", result(2000, "b"));
    const { cache, kvGets, objectReads } = await reader();

    const small = await Promise.all(Array.from({ length: 10 }, () => cache.get("small.c1")));
    expect(new Set(small).size).toBe(1);
    expect(small[0]!.messages).toHaveLength(3);
    expect(kvGets).toHaveBeenCalledTimes(1);

    const big = await Promise.all(Array.from({ length: 10 }, () => cache.get("big.c1")));
    expect(new Set(big).size).toBe(1);
    expect(big[0]!.messages).toHaveLength(2000);
    expect(kvGets).toHaveBeenCalledTimes(2);
    expect(objectReads).toHaveBeenCalledTimes(1);
  });

  it("keeps the last result read from the object store, until another replaces it", async () => {
    await writer.put("big.c2", result(2000, "p"));
    await writer.put("big.c3", result(2000, "q"));
    const { cache, objectReads } = await reader();

    const first = await cache.get("big.c2");
    expect(await cache.get("big.c2")).toBe(first);
    expect(objectReads).toHaveBeenCalledTimes(1);

    expect((await cache.get("big.c3"))!.messages[0].message).toMatch(/^'q0'/);
    expect(objectReads).toHaveBeenCalledTimes(2);
    // One kept: the first is read again, and equals what was stored.
    expect(await cache.get("big.c2")).toEqual(first);
    expect(objectReads).toHaveBeenCalledTimes(3);
  });

  it("a key with no result is null for every concurrent reader, and is read again later", async () => {
    const { cache, kvGets } = await reader();
    expect(await Promise.all([cache.get("none.c1"), cache.get("none.c1")])).toEqual([null, null]);
    expect(kvGets).toHaveBeenCalledTimes(1);
    await writer.put("none.c1", result(1, "n"));
    expect((await cache.get("none.c1"))!.messages).toHaveLength(1);
  });
});
