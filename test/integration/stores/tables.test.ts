import { expect, test, vi } from "vitest";
import { Objects } from "../../../shared/pipeline/stores/index.js";
import { useObjects } from "./helpers.js";

const s = useObjects();

interface Entry {
  path: string;
  blob: string;
}

const tree = (n: number, edit = -1): Entry[] =>
  Array.from({ length: n }, (_, i) => ({ path: `src/dir${i % 7}/file${i}.js`, blob: (i === edit ? "e" : "b").repeat(8) + String(i) }));

async function chunkNames(prefix: string): Promise<Set<string>> {
  const names = new Set<string>();
  for (const info of await s.objects.store.list()) if (info.name.startsWith(`${prefix}/`)) names.add(info.name);
  return names;
}

test("a table reads back item for item, in order, by a reader that never saw it written", async () => {
  const items = tree(1000);
  const name = await s.objects.tables.put("t1/table", "t1/chunks", items, (e) => e.path);
  const fresh = await Objects.open(s.farm.nc);
  expect(await fresh.tables.get<Entry>(name)).toEqual(items);
  expect((await chunkNames("t1/chunks")).size).toBeGreaterThan(10);
});

test("a table that differs from another in one item writes one new chunk and shares the rest", async () => {
  const before = await s.objects.tables.put("t2/table", "t2/chunks", tree(2000), (e) => e.path);
  const chunksBefore = await chunkNames("t2/chunks");
  const after = await s.objects.tables.put("t2/table", "t2/chunks", tree(2000, 1234), (e) => e.path);
  const chunksAfter = await chunkNames("t2/chunks");
  expect(after).not.toBe(before);
  expect(chunksAfter.size - chunksBefore.size).toBe(1);
  const fresh = await Objects.open(s.farm.nc);
  expect((await fresh.tables.get<Entry>(after))![1234].blob).toBe("eeeeeeee1234");
  expect((await fresh.tables.get<Entry>(before))![1234].blob).toBe("bbbbbbbb1234");
});

test("inserting an item moves no chunk boundary but the one it lands in", async () => {
  const base = tree(2000);
  await s.objects.tables.put("t3/table", "t3/chunks", base, (e) => e.path);
  const chunksBefore = await chunkNames("t3/chunks");
  const inserted = [...base.slice(0, 700), { path: "src/dir0/file699a.js", blob: "new" }, ...base.slice(700)];
  await s.objects.tables.put("t3/table", "t3/chunks", inserted, (e) => e.path);
  const added = [...(await chunkNames("t3/chunks"))].filter((n) => !chunksBefore.has(n));
  // The inserted item's chunk, or two when its own key is a boundary.
  expect(added.length).toBeGreaterThanOrEqual(1);
  expect(added.length).toBeLessThanOrEqual(2);
});

test("an empty table reads as an empty list, a missing one as null", async () => {
  const name = await s.objects.tables.put("t4/table", "t4/chunks", [], (e: Entry) => e.path);
  expect(await (await Objects.open(s.farm.nc)).tables.get(name)).toEqual([]);
  expect(await s.objects.tables.get("t4/table/never-written")).toBeNull();
});

test("a list stored whole, as before tables, reads as itself", async () => {
  const items = tree(50);
  const name = await s.objects.putDocument("t5/manifest", items);
  expect(await (await Objects.open(s.farm.nc)).tables.get<Entry>(name)).toEqual(items);
});

test("a table whose chunk is gone is an error that names the chunk, not a shorter list", async () => {
  const name = await s.objects.tables.put("t6/table", "t6/chunks", tree(300), (e) => e.path);
  const [victim] = await chunkNames("t6/chunks");
  await s.objects.store.delete(victim);
  await expect((await Objects.open(s.farm.nc)).tables.get(name)).rejects.toThrow(victim);
});

test("a table of the same item objects as one written or read before is stored without encoding its chunks again", async () => {
  const items = tree(1000);
  const name = await s.objects.tables.put("t9/table", "t9/chunks", items, (e) => e.path);
  const reader = await Objects.open(s.farm.nc);
  const read = (await reader.tables.get<Entry>(name))!;
  for (const [who, list] of [
    [s.objects, items],
    [reader, read],
  ] as const) {
    const writes = vi.spyOn(who, "putContent");
    // One item changed (a new object): one chunk written, and the table's short list of chunks.
    const next = [...list.slice(0, 500), { ...list[500], blob: "changed" }, ...list.slice(501)];
    const again = await who.tables.put("t9/table", "t9/chunks", next, (e) => e.path);
    expect(writes.mock.calls.map(([prefix]) => prefix)).toEqual(["t9/chunks", "t9/table"]);
    writes.mockRestore();
    expect(await (await Objects.open(s.farm.nc)).tables.get<Entry>(again)).toEqual(next);
  }
});
