import { afterEach, describe, expect, test } from "vitest";
import { decode } from "../../../shared/fabric/index.js";
import { killChildren } from "../../harness/children.js";
import { useFarms } from "../../harness/farms.js";
import { waitFor } from "../../harness/wait.js";
import { spawnWorker, watchFixture } from "./helpers.js";

const env = useFarms(["client", "box"]);
afterEach(killChildren);

describe("workers that die", () => {
  test("a worker SIGKILLed mid-task: the task is redelivered to another worker and completes", async () => {
    const subject = "jobs.crash";
    const opts = { ackWait: 2000, maxDeliver: 5 };
    const seen = await watchFixture(env.client, subject);
    // A task of 10 minutes: it never finishes on its own.
    const child = spawnWorker(env.server.url, subject, { mode: "slow", delay: 600_000, ...opts });
    await waitFor(`the child worker to be ready\n${child.output()}`, () => seen.ready.length === 1);

    const pending = env.client.jobs.distribute<{ n: number; attempt: number; by: string }>(subject, [{ n: 1 }], { timeout: 40_000 });
    await waitFor("the child to start the task", () => seen.started.length === 1);
    expect(seen.started[0]).toMatchObject({ n: 1, attempt: 1, pid: child.pid });
    child.proc.kill("SIGKILL");
    expect(await child.exited).toBe("SIGKILL");

    const local: number[] = [];
    await env.box.worker<{ n: number }, object>(
      subject,
      ({ n }, ctx) => {
        local.push(ctx.attempt);
        return { n, attempt: ctx.attempt, by: "survivor" };
      },
      opts,
    );
    const [r] = await pending;
    expect(r).toMatchObject({ ok: true, value: { n: 1, attempt: 2, by: "survivor" } });
    expect(local).toEqual([2]);
    expect(seen.done).toEqual([]);
  });

  test("a task whose worker dies on every attempt is dead-lettered via the max-deliveries advisory", async () => {
    const subject = "jobs.doomed";
    const opts = { ackWait: 1000, maxDeliver: 2 };
    const seen = await watchFixture(env.client, subject);
    const pending = env.client.jobs.distribute(subject, [{ n: 13 }], { id: () => "doomed-1", timeout: 40_000 });

    // Each attempt kills its worker; the test plays the supervisor that restarts it.
    for (let attempt = 1; attempt <= opts.maxDeliver; attempt++) {
      const child = spawnWorker(env.server.url, subject, { mode: "die", ...opts });
      expect(await child.exited).toBe("SIGKILL");
      // Flushed before the crash, but the exit may be noticed before the event arrives.
      await waitFor(`attempt ${attempt}'s report`, () => seen.started.length === attempt);
      expect(seen.started.at(-1)).toMatchObject({ n: 13, attempt, pid: child.pid });
    }
    expect(seen.started).toHaveLength(opts.maxDeliver);

    // A healthy worker comes up. The task is out of deliveries: it must never run
    // again, but the advisory (fired when delivery max+1 would happen) reaches it.
    const local: unknown[] = [];
    await env.box.worker(subject, (t) => void local.push(t), opts);

    const [r] = await pending;
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ name: "DeadLettered", code: "E_DEAD_LETTER" });
    expect(local).toEqual([]);

    const [d, ...rest] = await env.client.dlq.list({ subject: "q.jobs.doomed" });
    expect(rest).toEqual([]);
    expect(d).toMatchObject({ kind: "exhausted", attempts: opts.maxDeliver, stream: "JOBS", subject: "q.jobs.doomed" });
    expect(d.reason).toContain(`no ack after ${opts.maxDeliver} deliveries`);
    expect(decode(d.data)).toEqual({ n: 13 });
    expect(d.headers["farm-task-id"]).toEqual(["doomed-1"]);
    // Gone from the work queue, not left there undeliverable.
    await waitFor("the message to leave the work queue", async () => {
      const last = await env.client.jsm.streams.getMessage("JOBS", { last_by_subj: "q.jobs.doomed" });
      return last === null;
    });
  });
});
