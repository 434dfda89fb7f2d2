import { beforeAll, describe, expect, test, vi } from "vitest";
import { NoRespondersError, PermanentError, RemoteError, TimeoutError, sleep, type Farm } from "../../../shared/fabric/index.js";
import { useFarms } from "../../harness/farms.js";
import { waitFor } from "../../harness/wait.js";

// Caller and workers on separate connections, as in production.
const env = useFarms(["client", "workers"]);
let client: Farm;
let workers: Farm;

beforeAll(() => {
  ({ client, workers } = env);
});

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

describe("send", () => {
  test("round trip returns the worker's value, with the task as sent", async () => {
    const seen: unknown[] = [];
    await workers.worker<{ a: number; b: number; tags: string[] }, object>("jobs.add", (t, ctx) => {
      seen.push({ t, via: ctx.via, attempt: ctx.attempt });
      return { sum: t.a + t.b, tags: t.tags };
    });
    expect(await client.jobs.send("jobs.add", { a: 2, b: 40, tags: ["x", "ü"] })).toEqual({ sum: 42, tags: ["x", "ü"] });
    expect(seen).toEqual([{ t: { a: 2, b: 40, tags: ["x", "ü"] }, via: "send", attempt: 1 }]);
  });

  test("sendForJson: the task arrives as sent and the answer is its JSON bytes; a failure is a RemoteError", async () => {
    await workers.worker<{ a: number; text: string }, object>("jobs.json", (t) => {
      if (t.a < 0) throw new PermanentError("a must be ≥ 0", "E_BAD_INPUT");
      return { twice: t.a * 2, text: t.text, none: undefined };
    });
    const bytes = await client.jobs.sendForJson("jobs.json", { a: 21, text: 'ü"' });
    expect(Buffer.from(bytes).toString("utf8")).toBe('{"twice":42,"text":"ü\\""}');
    const err = await caught(client.jobs.sendForJson("jobs.json", { a: -1, text: "" }));
    expect(err).toBeInstanceOf(RemoteError);
    expect(err).toMatchObject({ message: "a must be ≥ 0", code: "E_BAD_INPUT", permanent: true });
  });

  test("a worker that never answers: TimeoutError after the timeout", async () => {
    let calls = 0;
    // Hangs until the worker gives up on it at close.
    await workers.worker(
      "jobs.silent",
      (_t, ctx) => {
        calls++;
        return new Promise((resolve) => ctx.signal.addEventListener("abort", () => resolve(null)));
      },
      { shutdownGrace: 100 },
    );
    const err = await caught(client.jobs.send("jobs.silent", { x: 1 }, { timeout: 500 }));
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).code).toBe("E_TIMEOUT");
    expect(calls).toBe(1); // it did reach the worker: a timeout, not "no responders"
  });

  test("no responders yet: send retries until a worker starts", async () => {
    const requests = vi.spyOn(client.nc, "request");
    try {
      const pending = client.jobs.send<string>("jobs.late", "ping", { timeout: 5000 });
      // A second request: the first found no responders. The worker genuinely starts after it.
      await waitFor("a request refused for want of responders", () => requests.mock.calls.filter(([subject]) => subject === "jobs.late").length >= 2, 5000, 5);
      await workers.worker<string, string>("jobs.late", (t) => `${t}-pong`);
      expect(await pending).toBe("ping-pong");
    } finally {
      requests.mockRestore();
    }
  });

  test("nobody ever serves the subject: NoRespondersError once noRespondersWait is over", async () => {
    const err = await caught(client.jobs.send("jobs.nobody", 1, { timeout: 2000, noRespondersWait: 300 }));
    expect(err).toBeInstanceOf(NoRespondersError);
    expect((err as NoRespondersError).code).toBe("E_NO_RESPONDERS");
  });

  test("a handler that throws: RemoteError with the worker's message and code", async () => {
    await workers.worker<{ kind: string }, never>("jobs.fails", ({ kind }) => {
      if (kind === "permanent") throw new PermanentError("bad input: no path", "E_BAD_INPUT");
      throw new Error("disk on fire");
    });

    const plain = await caught(client.jobs.send("jobs.fails", { kind: "plain" }));
    expect(plain).toBeInstanceOf(RemoteError);
    expect(plain).toMatchObject({ message: "disk on fire", code: "E_TASK", remoteName: "Error", permanent: false });

    const perm = await caught(client.jobs.send("jobs.fails", { kind: "permanent" }));
    expect(perm).toBeInstanceOf(RemoteError);
    expect(perm).toMatchObject({ message: "bad input: no path", code: "E_BAD_INPUT", remoteName: "PermanentError", permanent: true });

    // The worker survived both and still serves.
    await workers.worker<number, number>("jobs.after_fail", (n) => n + 1);
    expect(await client.jobs.send("jobs.after_fail", 1)).toBe(2);
  });

  test("concurrent sends are each answered with their own result", async () => {
    await workers.worker<number, number>(
      "jobs.double",
      async (n) => {
        await sleep(5); // the task's own duration: answers overlap
        return n * 2;
      },
      { concurrency: 4 },
    );
    const ns = Array.from({ length: 50 }, (_, i) => i);
    expect(await Promise.all(ns.map((n) => client.jobs.send("jobs.double", n)))).toEqual(ns.map((n) => n * 2));
  });
});

test("an answer too big for one message comes back as an error, not a timeout", async () => {
  await workers.worker("jobs.huge_answer", () => "x".repeat(2 * 1024 * 1024));
  const err = await caught(client.jobs.send("jobs.huge_answer", {}, { timeout: 20_000 }));
  expect(err).toBeInstanceOf(RemoteError);
  expect(err).toMatchObject({ code: "E_TOO_LARGE", permanent: true });
});
