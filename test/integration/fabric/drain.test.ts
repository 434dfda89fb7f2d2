import { afterEach, describe, expect, test } from "vitest";
import { ShutdownError } from "../../../shared/fabric/index.js";
import { killChildren } from "../../harness/children.js";
import { connectFarm, useFarms } from "../../harness/farms.js";
import { waitFor } from "../../harness/wait.js";
import { observed, spawnWorker, tally, watchFixture, type FixtureReport } from "./helpers.js";

const env = useFarms(["client", "box"]);
afterEach(killChildren);

describe("graceful shutdown", () => {
  // The ack wait is longer than this test may run: a task that was not handed
  // back, but left to time out, fails the test by its timeout.
  const ackWait = 60_000;

  test(
    "SIGTERM: in-flight tasks finish, buffered ones are handed back at once and finished by another worker, each exactly once",
    { timeout: 40_000 },
    async () => {
      const subject = "jobs.drain";
      const seen = await watchFixture(env.client, subject);
      // Tasks of 4 s: still running when SIGTERM comes.
      const child = spawnWorker(env.server.url, subject, { mode: "slow", delay: 4000, concurrency: 3, prefetch: 3, ackWait });
      await waitFor(`the child worker to be ready\n${child.output()}`, () => seen.ready.length === 1);

      const tasks = Array.from({ length: 9 }, (_, n) => ({ n }));
      const pending = env.client.jobs.distribute<{ n: number; pid?: number }>(subject, tasks, { timeout: 35_000 });

      // The child runs 3 and holds 3 more (prefetch); 3 stay in the stream.
      await waitFor("3 running and 3 buffered in the child", async () => {
        const info = await env.client.jsm.consumers.info("JOBS", "jobs_drain");
        return seen.started.length === 3 && info.num_ack_pending === 6 && info.num_pending === 3;
      });

      const local: FixtureReport[] = [];
      await env.box.worker<{ n: number }, { n: number }>(
        subject,
        ({ n }, ctx) => {
          local.push({ n, attempt: ctx.attempt, pid: process.pid, at: observed() });
          return { n };
        },
        { concurrency: 3, ackWait },
      );
      await waitFor("the 3 never-delivered tasks done locally", () => local.length === 3);

      child.proc.kill("SIGTERM");
      const results = await pending;
      expect(await child.exited).toBe(0);

      expect(results.every((r) => r.ok)).toBe(true);
      // In flight at SIGTERM: finished by the child itself, not abandoned.
      const childRan = seen.started.map((r) => r.n).sort();
      expect(seen.done.map((r) => r.n).sort()).toEqual(childRan);
      expect(seen.done.every((r) => r.pid === child.pid && r.attempt === 1)).toBe(true);
      // Buffered at SIGTERM: handed back (a second delivery) and finished here,
      // before the child was even done with its running tasks (`at`: the order this process saw each).
      const handedBack = local.filter((r) => r.attempt === 2);
      expect(handedBack).toHaveLength(3);
      const childFirstDone = Math.min(...seen.done.map((r) => r.at));
      expect(handedBack.every((r) => r.at < childFirstDone)).toBe(true);
      // Every task exactly once.
      const once = tally([...seen.done, ...local].map((r) => r.n));
      expect([...once.keys()].sort((a, b) => a - b)).toEqual(tasks.map((t) => t.n));
      expect([...once.values()].every((c) => c === 1)).toBe(true);
    },
  );

  test("close() past the grace: a stuck task is handed back, its handler aborted, and another worker finishes it", { timeout: 30_000 }, async () => {
    const subject = "jobs.stuck";
    const a = await connectFarm(env.server.url, { name: "a" });
    const started: number[] = [];
    let abortedWith: unknown;
    await a.worker<{ n: number }, string>(
      subject,
      (_t, ctx) =>
        new Promise((_resolve, reject) => {
          started.push(ctx.attempt);
          ctx.signal.addEventListener("abort", () => reject((abortedWith = ctx.signal.reason)));
        }),
      { ackWait, shutdownGrace: 300 },
    );
    const pending = env.client.jobs.distribute<string>(subject, [{ n: 1 }], { timeout: 25_000 });
    await waitFor("the stuck task to start", () => started.length === 1);

    await Promise.all([a.close(), a.close()]); // idempotent, even when concurrent
    await a.close();
    expect(abortedWith).toBeInstanceOf(ShutdownError);

    await env.box.worker<{ n: number }, string>(subject, (_t, ctx) => `done on attempt ${ctx.attempt}`, { ackWait });
    const [r] = await pending;
    // The abandoned attempt reported nothing: the first answer is the real one.
    expect(r).toMatchObject({ ok: true, value: "done on attempt 2" });
    expect(started).toEqual([1]);
    expect(await env.client.dlq.list({ subject: "q.jobs.stuck" })).toEqual([]);
  });
});
