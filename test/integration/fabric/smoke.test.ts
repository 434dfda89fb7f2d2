import { beforeAll, expect, test } from "vitest";
import type { Farm } from "../../../shared/fabric/index.js";
import { useFarms } from "../../harness/farms.js";

const env = useFarms(["farm"]);
let farm: Farm;

beforeAll(() => {
  farm = env.farm;
});

test("send round trip returns the worker's value", async () => {
  await farm.worker<{ a: number; b: number }, number>("jobs.add", ({ a, b }) => a + b);
  expect(await farm.jobs.send("jobs.add", { a: 2, b: 3 })).toBe(5);
});

test("distribute returns one result per task", async () => {
  await farm.worker<number, number>("jobs.square", (n) => n * n, { concurrency: 4 });
  const results = await farm.jobs.distribute<number>("jobs.square", [1, 2, 3, 4]);
  expect(results.map((r) => (r.ok ? r.value : null))).toEqual([1, 4, 9, 16]);
});
