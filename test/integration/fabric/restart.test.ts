import { describe, expect, test } from "vitest";
import { useFarms } from "../../harness/farms.js";
import { waitFor } from "../../harness/wait.js";

const env = useFarms(["client", "box"]);

describe("server restart", () => {
  test("workers reconnect and keep serving both verbs; queued work survives", { timeout: 40_000 }, async () => {
    const handled: number[] = [];
    await env.box.worker<{ n: number }, number>("jobs.survive", ({ n }) => {
      handled.push(n);
      return n * 3;
    });
    expect(await env.client.jobs.send("jobs.survive", { n: 1 })).toBe(3);

    // Queued while nobody consumes them: they must outlive the restart.
    const parked = await env.client.jobs.distribute("jobs.survive_later", [{ n: 5 }, { n: 6 }], { resultsTo: "jobs.survive_sink" });
    expect(parked.duplicates).toBe(0);

    await env.server.restart(); // same port, same store: the streams come back
    await waitFor("both connections back", async () => {
      await Promise.all([env.client.nc.flush(), env.box.nc.flush()]);
      return true;
    });
    expect(await env.client.jobs.send("jobs.survive", { n: 2 }, { timeout: 15_000 })).toBe(6);
    const results = await env.client.jobs.distribute<number>("jobs.survive", [{ n: 3 }, { n: 4 }], { timeout: 30_000 });
    expect(results.map((r) => (r.ok ? r.value : r.error.message))).toEqual([9, 12]);

    const later: number[] = [];
    await env.box.worker<{ n: number }, void>("jobs.survive_later", ({ n }) => void later.push(n));
    await waitFor("the tasks queued before the restart", () => later.length === 2);
    expect(later.sort()).toEqual([5, 6]);
    expect([...handled].sort()).toEqual([1, 2, 3, 4]);
  });
});
