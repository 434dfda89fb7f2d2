import { beforeAll, describe, expect, test } from "vitest";
import { PermanentError, sleep, type Farm, type TaskResult } from "../../../shared/fabric/index.js";
import { useFarms } from "../../harness/farms.js";
import { waitFor } from "../../harness/wait.js";
import { tally } from "./helpers.js";

const env = useFarms(["client", "box-1", "box-2", "box-3"]);
let client: Farm;
/** Three workers, each on its own connection, as if on three boxes. */
let boxes: Farm[] = [];

beforeAll(() => {
  client = env.client;
  boxes = [env["box-1"], env["box-2"], env["box-3"]];
});

interface Task {
  n: number;
}

describe("distribute, awaited", () => {
  test("300 tasks over 3 workers: each exactly once, correlated to its task; a permanent failure is one ok:false", async () => {
    const handled: number[] = [];
    const byBox = [0, 0, 0];
    await Promise.all(
      boxes.map((f, box) =>
        f.worker<Task, { n: number; twice: number; box: number }>(
          "jobs.spread",
          async ({ n }) => {
            handled.push(n);
            byBox[box]++;
            await sleep(2); // the task's own duration (real work takes time): lets every box get a share
            if (n === 150) throw new PermanentError(`task ${n} is malformed`, "E_BAD_TASK");
            return { n, twice: n * 2, box };
          },
          { concurrency: 4 },
        ),
      ),
    );
    const tasks: Task[] = Array.from({ length: 300 }, (_, n) => ({ n }));
    const results = await client.jobs.distribute<{ n: number; twice: number }, Task>("jobs.spread", tasks, {
      id: (t) => `spread-${t.n}`,
      timeout: 50_000,
    });

    expect(results).toHaveLength(300);
    results.forEach((r, i) => {
      expect(r.id).toBe(`spread-${i}`);
      expect(r.subject).toBe("jobs.spread");
      if (i === 150) {
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.error).toMatchObject({ code: "E_BAD_TASK", permanent: true });
      } else {
        expect(r).toMatchObject({ ok: true, value: { n: i, twice: 2 * i } });
      }
    });
    // Exactly once: no task handled twice (a permanent failure is never retried), none lost.
    const counts = tally(handled);
    expect(counts.size).toBe(300);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    expect(byBox.every((c) => c > 0)).toBe(true);
    // The failure is parked for a person, the successes are not.
    const parked = await client.dlq.list({ subject: "q.jobs.spread" });
    expect(parked.map((d) => d.kind)).toEqual(["permanent"]);
  });

  test("an empty batch resolves at once with no results", async () => {
    expect(await client.jobs.distribute("jobs.spread", [])).toEqual([]);
  });

  test("duplicate task ids in one call are refused", async () => {
    await expect(client.jobs.distribute("jobs.spread", [{ n: 1 }, { n: 2 }], { id: () => "same" })).rejects.toMatchObject({
      code: "E_DUPLICATE_TASK_IDS",
    });
  });

  test("a subject no work queue captures is refused before anything is published", async () => {
    await expect(client.jobs.distribute("nowhere.at.all", [1])).rejects.toMatchObject({ code: "E_TOPOLOGY" });
  });

  test("reused task ids: the stream drops the copies, and they come back at once as ok:false, not after the timeout", { timeout: 20_000 }, async () => {
    await boxes[0].worker<Task, number>("jobs.reuse", ({ n }) => n);
    const id = (t: Task) => `reuse-${t.n}`;
    const first = await client.jobs.distribute<number, Task>("jobs.reuse", [{ n: 1 }, { n: 2 }], { id });
    expect(first.map((r) => r.ok)).toEqual([true, true]);
    // Same ids inside the duplicate window; the default timeout (5 min) outlasts this test.
    const again = await client.jobs.distribute<number, Task>("jobs.reuse", [{ n: 2 }, { n: 3 }], { id });
    expect(again[0]).toMatchObject({ id: "reuse-2", ok: false, error: { code: "E_TASK_ID_REUSED", permanent: true } });
    expect(again[1]).toMatchObject({ id: "reuse-3", ok: true, value: 3 });
  });
});

describe("distribute, fire-and-forget", () => {
  test("results land on a durable results subject, one per task, for another worker", async () => {
    // The producer of the work and the consumer of its results are different workers.
    await boxes[0].worker<Task, number>("jobs.ff_square", ({ n }) => n * n, { concurrency: 4 });
    await boxes[1].worker<Task, number>("jobs.ff_square", ({ n }) => n * n, { concurrency: 4 });
    const sink: TaskResult<number>[] = [];
    await boxes[2].worker<TaskResult<number>, void>("jobs.results_sink", (r) => {
      sink.push(r);
    });

    const tasks = Array.from({ length: 40 }, (_, n) => ({ n }));
    const enq = await client.jobs.distribute("jobs.ff_square", tasks, { resultsTo: "jobs.results_sink" });
    expect(enq.ids).toHaveLength(40);
    expect(enq.duplicates).toBe(0);

    await waitFor("40 results in the sink", () => sink.length >= 40);
    // Nothing left anywhere: both queues drained and acknowledged.
    await waitFor("queues drained", async () => {
      const [work, results] = await Promise.all([client.jsm.consumers.info("JOBS", "jobs_ff_square"), client.jsm.consumers.info("JOBS", "jobs_results_sink")]);
      return work.num_pending + work.num_ack_pending + results.num_pending + results.num_ack_pending === 0;
    });
    expect(sink).toHaveLength(40);
    const byId = new Map(sink.map((r) => [r.id, r]));
    expect(byId.size).toBe(40);
    enq.ids.forEach((id, n) => expect(byId.get(id)).toMatchObject({ ok: true, subject: "jobs.ff_square", value: n * n }));
  });

  test("a results subject no work queue captures is refused before anything is published", async () => {
    await expect(client.jobs.distribute("jobs.ff_square", [{ n: 1 }], { resultsTo: "nowhere.results" })).rejects.toMatchObject({
      code: "E_TOPOLOGY",
    });
  });

  test("publishing the same task ids again is deduplicated by the stream", async () => {
    await boxes[0].worker<Task, number>("jobs.ff_dedup", ({ n }) => n);
    const tasks = [{ n: 1 }, { n: 2 }, { n: 3 }];
    const id = (t: Task) => `dedup-${t.n}`;
    const first = await client.jobs.distribute("jobs.ff_dedup", tasks, { id, resultsTo: "jobs.ff_dedup_results" });
    const again = await client.jobs.distribute("jobs.ff_dedup", tasks, { id, resultsTo: "jobs.ff_dedup_results" });
    expect(first.duplicates).toBe(0);
    expect(again.duplicates).toBe(3);
  });
});
