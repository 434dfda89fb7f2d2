import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { ObjectStore } from "@nats-io/obj";
import { expect, test, vi } from "vitest";
import { Objects } from "../../../shared/pipeline/stores/index.js";
import { maxPayload } from "../../../shared/fabric/limits.js";
import { useObjects } from "./helpers.js";

const s = useObjects();

const bytes = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * seed + 3) % 251);

test("an object of many chunks reads back byte for byte, its chunks interleaved with another object's", async () => {
  // Written concurrently, the two objects' chunks alternate in the stream: each read must pick only its own.
  const a = bytes(700 * 1024, 7);
  const b = bytes(900 * 1024, 13);
  await Promise.all([s.objects.putBytes("t/a", a), s.objects.putBytes("t/b", b)]);
  const [ga, gb] = await Promise.all([s.objects.getBytes("t/a"), s.objects.getBytes("t/b")]);
  expect(Buffer.compare(Buffer.from(ga!), Buffer.from(a))).toBe(0);
  expect(Buffer.compare(Buffer.from(gb!), Buffer.from(b))).toBe(0);
});

test("an empty object reads as zero bytes, a missing one as null", async () => {
  await s.objects.putBytes("t/empty", new Uint8Array(0));
  expect((await s.objects.getBytes("t/empty"))?.length).toBe(0);
  expect(await s.objects.getBytes("t/never-written")).toBeNull();
});

test("a replaced object reads as its latest content, a deleted one as null", async () => {
  await s.objects.putBytes("t/r", bytes(200 * 1024, 5));
  const latest = bytes(300 * 1024, 11);
  await s.objects.putBytes("t/r", latest);
  expect(Buffer.compare(Buffer.from((await s.objects.getBytes("t/r"))!), Buffer.from(latest))).toBe(0);
  await s.objects.store.delete("t/r");
  expect(await s.objects.getBytes("t/r")).toBeNull();
});

test("a document stored by content round-trips through msgpack under a name derived from its bytes", async () => {
  const doc = { files: ["a.js", "b.js"], n: 2 };
  const name = await s.objects.putDocument("doc", doc);
  expect(name).toMatch(/^doc\/[0-9a-f]{32}$/);
  expect(await s.objects.putDocument("doc", { ...doc })).toBe(name);
  expect(await s.objects.getValue(name)).toEqual(doc);
});

test("an object written once reads back through the NATS object store client, digest and all", async () => {
  // farm writes objects by two publishes of its own: `nats obj get` and every other client must still read them.
  const data = bytes(300 * 1024, 17);
  expect(await s.objects.putOnce("t/once", data)).toBe(true);
  const info = await s.objects.store.info("t/once");
  expect({ size: info?.size, chunks: info?.chunks, deleted: info?.deleted }).toEqual({ size: data.length, chunks: 3, deleted: false });
  const read = await s.objects.store.getBlob("t/once");
  expect(Buffer.compare(Buffer.from(read!), Buffer.from(data))).toBe(0);
  expect(await s.objects.putOnce("t/empty-once", new Uint8Array(0))).toBe(true);
  expect((await s.objects.store.getBlob("t/empty-once"))?.length).toBe(0);
});

test("of two writers of one name, one writes; the other's chunks do not stay behind", async () => {
  const data = bytes(200 * 1024, 19);
  const fresh = await Objects.open(s.farm.nc);
  const wrote = await Promise.all([s.objects.putOnce("t/race", data, { absent: true }), fresh.putOnce("t/race", data, { absent: true })]);
  expect(wrote.filter(Boolean)).toHaveLength(1);
  const jsm = await jetstreamManager(s.farm.nc);
  const chunks = await jsm.streams.getMessage("OBJ_farm-blobs", { last_by_subj: `$O.farm-blobs.C.${(await s.objects.store.info("t/race"))!.nuid}` });
  expect(chunks).not.toBeNull();
  // Every chunk in the stream belongs to a live object: the refused copy was purged.
  const si = await jsm.streams.info("OBJ_farm-blobs", { subjects_filter: "$O.farm-blobs.C.>" });
  const live = await s.objects.store.list();
  const liveChunkSubjects = new Set(live.filter((i) => !i.deleted && i.size > 0).map((i) => `$O.farm-blobs.C.${i.nuid}`));
  expect(Object.keys(si.state.subjects ?? {}).filter((s) => !liveChunkSubjects.has(s))).toEqual([]);
});

test("a write whose acks time out but which the server stored reads back whole, never as missing chunks", async () => {
  // A 1 ms publish timeout stands for an event loop stalled past the ack: the meta record lands, the
  // writer sees a timeout. Its chunks must stay, or every later read fails with "chunk … is missing".
  const js = jetstream(s.farm.nc, { timeout: 1 });
  const hasty = new Objects(s.objects.store, await jetstreamManager(s.farm.nc), js, maxPayload(s.farm.nc));
  let timedOut = 0;
  for (let i = 0; i < 20; i++) {
    const data = bytes(150 * 1024 + i, 23 + i);
    const name = `t/hasty-${i}`;
    await hasty.putOnce(name, data).catch(() => timedOut++);
    const info = await s.objects.store.info(name);
    if (!info) continue;
    const read = await s.objects.getBytes(name);
    expect(Buffer.compare(Buffer.from(read!), Buffer.from(data))).toBe(0);
  }
  // What the write reported matches what was stored: a write that threw left no object behind.
  const stored = (await Promise.all([...Array(20).keys()].map((i) => s.objects.store.info(`t/hasty-${i}`)))).filter(Boolean).length;
  expect(stored + timedOut).toBe(20);
});

/** A reader as a service opens one, with its stream message gets (answered by the leader) and direct gets (any replica) counted. */
async function countingReader() {
  const reader = await Objects.open(s.farm.nc);
  const { jsm, store } = reader as unknown as { jsm: JetStreamManager; store: ObjectStore };
  return { reader, leaderGets: vi.spyOn(jsm.streams, "getMessage"), directGets: vi.spyOn(jsm.direct, "getMessage"), leaderInfo: vi.spyOn(store, "info") };
}

test("an object is read by direct gets, its meta record and each chunk, when the stream allows them", async () => {
  const data = bytes(300 * 1024, 29);
  await s.objects.putOnce("t/direct", data);
  const { reader, leaderGets, directGets, leaderInfo } = await countingReader();
  try {
    expect(Buffer.compare(Buffer.from((await reader.getBytes("t/direct"))!), Buffer.from(data))).toBe(0);
    // The meta record and three chunks, then the meta record again; nothing asked of the leader.
    expect(directGets).toHaveBeenCalledTimes(4);
    expect(await reader.has("t/direct")).toBe(true);
    expect(directGets).toHaveBeenCalledTimes(5);
    expect(leaderGets).not.toHaveBeenCalled();
    expect(leaderInfo).not.toHaveBeenCalled();
    // A name no replica has is asked of the leader too: a replica may lag a write.
    expect(await reader.getBytes("t/direct-never-written")).toBeNull();
    expect(leaderInfo).toHaveBeenCalledTimes(1);
  } finally {
    vi.restoreAllMocks();
  }
});

test("on a stream that allows no direct gets (they would go unanswered), reads ask the leader only", async () => {
  const jsm = await jetstreamManager(s.farm.nc);
  const data = bytes(200 * 1024, 31);
  await s.objects.putOnce("t/leader", data);
  const config = (await jsm.streams.info("OBJ_farm-blobs")).config;
  await jsm.streams.update("OBJ_farm-blobs", { ...config, allow_direct: false });
  try {
    const { reader, leaderGets, directGets, leaderInfo } = await countingReader();
    expect(Buffer.compare(Buffer.from((await reader.getBytes("t/leader"))!), Buffer.from(data))).toBe(0);
    expect(directGets).not.toHaveBeenCalled();
    // Its meta record (the object store client's get) and two chunks.
    expect(leaderInfo).toHaveBeenCalledTimes(1);
    expect(leaderGets).toHaveBeenCalledTimes(2);
  } finally {
    vi.restoreAllMocks();
    await jsm.streams.update("OBJ_farm-blobs", { ...config, allow_direct: true });
  }
});
