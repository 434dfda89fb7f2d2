import { describe, expect, test } from "vitest";
import { decode, sleep, type TaskResult } from "../../../shared/fabric/index.js";
import { useFarms } from "../../harness/farms.js";
import { waitFor } from "../../harness/wait.js";
import { tally } from "./helpers.js";

const env = useFarms(["client", "box"]);

interface Task {
  n: number;
}
interface Call {
  n: number;
  attempt: number;
  at: number;
}

describe("slow tasks and ack waits", () => {
  test("a 5 s task with a 1.5 s ack wait is kept alive by heartbeats and delivered exactly once", async () => {
    const calls: Call[] = [];
    const slow = async ({ n }: Task, ctx: { attempt: number }) => {
      calls.push({ n, attempt: ctx.attempt, at: Date.now() });
      await sleep(5000); // the task's own duration, longer than its ack wait: what is tested
      return ctx.attempt;
    };
    // A second idle worker stands ready: a redelivery would have reached it.
    await env.box.worker("jobs.slow", slow, { ackWait: 1500 });
    await env.box.worker("jobs.slow", slow, { ackWait: 1500 });

    const [r] = await env.client.jobs.distribute<number, Task>("jobs.slow", [{ n: 1 }], { timeout: 30_000 });
    expect(r).toMatchObject({ ok: true, value: 1 });
    expect(calls.map((c) => c.attempt)).toEqual([1]);
    const info = await env.client.jsm.consumers.info("JOBS", "jobs_slow");
    expect(info.num_redelivered).toBe(0);
  });

  test("tasks waiting behind a busy worker do not burn their ack wait: each runs once", async () => {
    // Two single-slot workers, tasks longer than the ack wait (heartbeats keep the
    // running one alive): a task held in a local buffer meanwhile would time out
    // and be delivered a second time.
    const calls: Call[] = [];
    const handler = async ({ n }: Task, ctx: { attempt: number }) => {
      calls.push({ n, attempt: ctx.attempt, at: Date.now() });
      await sleep(2000); // the task's own duration, longer than its ack wait: what is tested
      return n;
    };
    await env.box.worker("jobs.queued", handler, { ackWait: 1500 });
    await env.client.worker("jobs.queued", handler, { ackWait: 1500 });

    const tasks = Array.from({ length: 4 }, (_, n) => ({ n }));
    const results = await env.client.jobs.distribute<number, Task>("jobs.queued", tasks, { timeout: 30_000 });
    expect(results.every((r, i) => r.ok && r.value === i)).toBe(true);
    expect(calls.map((c) => c.attempt)).toEqual([1, 1, 1, 1]);
    expect([...tally(calls.map((c) => c.n)).values()]).toEqual([1, 1, 1, 1]);
    const info = await env.client.jsm.consumers.info("JOBS", "jobs_queued");
    expect(info.num_redelivered).toBe(0);
  });
});

describe("retries and dead letters", () => {
  test("fails twice, then succeeds on attempt 3, with the backoff delays between attempts", async () => {
    const backoff = [400, 800];
    const calls: Call[] = [];
    await env.box.worker<Task, string>(
      "jobs.flaky",
      ({ n }, ctx) => {
        calls.push({ n, attempt: ctx.attempt, at: Date.now() });
        if (ctx.attempt < 3) throw new Error(`transient failure ${ctx.attempt}`);
        return `ok after ${ctx.attempt}`;
      },
      { backoff, maxDeliver: 5, ackWait: 10_000 },
    );
    const [r] = await env.client.jobs.distribute<string, Task>("jobs.flaky", [{ n: 7 }], { timeout: 30_000 });
    expect(r).toMatchObject({ ok: true, value: "ok after 3" });
    expect(calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
    // nak(delay) held each retry back at least its backoff (a plain nak would redeliver at once).
    expect(calls[1].at - calls[0].at).toBeGreaterThanOrEqual(backoff[0] - 5);
    expect(calls[2].at - calls[1].at).toBeGreaterThanOrEqual(backoff[1] - 5);
  });

  test("a poison task is dead-lettered after maxDeliver with its subject, payload, attempts and last error", async () => {
    const attempts: number[] = [];
    await env.box.worker<Task, never>(
      "jobs.poison",
      (_t, ctx) => {
        attempts.push(ctx.attempt);
        throw new Error(`cannot digest (attempt ${ctx.attempt})`);
      },
      { maxDeliver: 3, backoff: [50], ackWait: 10_000 },
    );
    const [r] = await env.client.jobs.distribute<never, Task>("jobs.poison", [{ n: 666 }], { id: () => "poison-1", timeout: 30_000 });
    expect(attempts).toEqual([1, 2, 3]);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ message: "cannot digest (attempt 3)", code: "E_TASK" });

    const [d, ...rest] = await env.client.dlq.list({ subject: "q.jobs.poison" });
    expect(rest).toHaveLength(0);
    expect(d).toMatchObject({ subject: "q.jobs.poison", stream: "JOBS", attempts: 3, kind: "exhausted" });
    expect(d.reason).toContain("cannot digest (attempt 3)");
    expect(d.reason).toContain("3 times");
    expect(decode(d.data, undefined)).toEqual({ n: 666 });
    expect(d.headers["farm-task-id"]).toEqual(["poison-1"]);
    // It left the work queue: terminated, not waiting for another delivery.
    const info = await env.client.jsm.consumers.info("JOBS", "jobs_poison");
    expect(info.num_pending + info.num_ack_pending).toBe(0);
  });

  test("replay from the dead-letter stream: processed by a now-healthy worker and removed from the DLQ", async () => {
    let healthy = false;
    const runs: Call[] = [];
    await env.box.worker<Task, number>(
      "jobs.replayable",
      ({ n }, ctx) => {
        runs.push({ n, attempt: ctx.attempt, at: Date.now() });
        if (!healthy) throw new Error("dependency down");
        return n * 10;
      },
      { maxDeliver: 2, backoff: [50], ackWait: 10_000 },
    );
    const sink: TaskResult<number>[] = [];
    await env.box.worker<TaskResult<number>, void>("jobs.replay_sink", (r) => void sink.push(r));

    const enq = await env.client.jobs.distribute("jobs.replayable", [{ n: 4 }, { n: 5 }], { resultsTo: "jobs.replay_sink" });
    await waitFor("both tasks dead-lettered", async () => (await env.client.dlq.list({ subject: "q.jobs.replayable" })).length === 2);
    await waitFor("two failure results", () => sink.length === 2);
    expect(sink.every((r) => !r.ok)).toBe(true);

    healthy = true; // the operator fixed the dependency
    const parked = await env.client.dlq.list({ subject: "q.jobs.replayable" });
    const replayed = await env.client.dlq.replay({ seqs: [parked[0].seq] });
    expect(replayed.map((d) => d.seq)).toEqual([parked[0].seq]);

    // The replayed task is answered again on the results subject, now with success.
    await waitFor("the replayed task's result", () => sink.find((r) => r.ok));
    const ok = sink.filter((r) => r.ok);
    expect(ok).toHaveLength(1);
    const n = decode<Task>(parked[0].data).n;
    expect(ok[0]).toMatchObject({ id: enq.ids[n - 4], value: n * 10 });
    expect(runs.filter((r) => r.n === n).length).toBe(3); // two failures, then the replay

    // Only the entry that was not replayed is still parked.
    const left = await env.client.dlq.list({ subject: "q.jobs.replayable" });
    expect(left.map((d) => d.seq)).toEqual([parked[1].seq]);

    // Replaying the rest by subject empties it.
    await env.client.dlq.replay({ subject: "q.jobs.replayable" });
    await waitFor("both successes", () => sink.filter((r) => r.ok).length === 2);
    expect(await env.client.dlq.list({ subject: "q.jobs.replayable" })).toEqual([]);
  });
});
