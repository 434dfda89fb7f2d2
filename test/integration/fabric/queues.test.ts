import { AckPolicy } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import { describe, expect, test } from "vitest";
import { CONTENT_TYPE } from "../../../shared/fabric/codec.js";
import { HeaderNames } from "../../../shared/fabric/envelope.js";
import { FarmError } from "../../../shared/fabric/errors.js";
import { Queues } from "../../../shared/fabric/queues.js";
import { farmQueueRegistry, farmQueues } from "../../../shared/pipeline/names.js";
import { useFarms } from "../../harness/farms.js";

const ORDERS = { stream: "ORDERS", subjects: ["orders.>"] };
const env = useFarms(["client", "box"], { queues: [ORDERS] });

describe("a library user's own work queue", () => {
  test("declared at connect: its stream exists, distribute and a worker use it", async () => {
    const info = await env.client.jsm.streams.info("ORDERS");
    expect(info.config.subjects).toEqual(["q.orders.>"]);
    await env.box.worker<{ n: number }, number>("orders.price", ({ n }) => n * 10);
    const results = await env.client.jobs.distribute<number, { n: number }>("orders.price", [{ n: 1 }, { n: 2 }], { timeout: 20_000 });
    expect(results.map((r) => (r.ok ? r.value : r.error.message))).toEqual([10, 20]);
  });

  test("connect creates only what the library needs: the declared queues' streams, the DLQ and the advisories; no bucket, no store", async () => {
    const streams: string[] = [];
    for await (const si of env.client.jsm.streams.list()) streams.push(si.config.name);
    expect(streams.sort()).toEqual(["ADVISORIES", "DLQ", "JOBS", "ORDERS"]);
  });

  test("a subject no declared queue captures is refused at once, saying how to declare one", async () => {
    const err = await env.client.jobs.distribute("invoices.send", [{}]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FarmError);
    expect(err).toMatchObject({ code: "E_TOPOLOGY" });
    expect((err as Error).message).toMatch(/no work queue captures "q\.invoices\.send".*queues:/);
    await expect(env.client.worker("invoices.send", () => 1)).rejects.toMatchObject({ code: "E_TOPOLOGY" });
  });
});

describe("the queue registry", () => {
  test("the pipeline is one user of it: ingress subjects travel as they are, the rest on q.<subject>", () => {
    const q = farmQueueRegistry();
    expect(q.list().map((s) => s.stream)).toEqual(farmQueues.map((s) => s.stream));
    expect(q.wireSubject("repo.new_sha")).toBe("repo.new_sha");
    expect(q.streamFor(q.wireSubject("repo.new_sha"))).toBe("REPOS");
    expect(q.wireSubject("lint.batch")).toBe("q.lint.batch");
    expect(q.streamFor("q.lint.batch")).toBe("LINT");
    expect(q.streamFor("lint.batch")).toBeUndefined();
  });

  test("refuses a second queue of the same name, a subject another queue has, an empty queue and a bad name", () => {
    const q = new Queues([ORDERS]);
    expect(() => q.declare({ stream: "ORDERS", subjects: ["other.>"] })).toThrow(/declared already/);
    expect(() => q.declare({ stream: "MORE", subjects: ["orders.>"] })).toThrow(/belongs to another queue/);
    expect(() => q.declare({ stream: "EMPTY" })).toThrow(/captures no subject/);
    expect(() => q.declare({ stream: "bad name", subjects: ["x"] })).toThrow(/letters, digits/);
    expect(q.list()).toHaveLength(1);
  });
});

describe("an awaited distribute", () => {
  test("a result the caller cannot decode settles its task at once as a permanent decode error, not at the timeout", async () => {
    // A worker of another make answers with a body that is not what its content-type says, naming the task in the header.
    await env.client.jsm.consumers.add("JOBS", { durable_name: "garbler", filter_subject: "q.jobs.garbled", ack_policy: AckPolicy.Explicit });
    const consumer = await env.client.js.consumers.get("JOBS", "garbler");
    const answered = (async () => {
      const m = await consumer.next({ expires: 20_000 });
      if (!m) throw new Error("no task came");
      const h = headers();
      h.set(CONTENT_TYPE, "application/json");
      h.set(HeaderNames.taskId, m.headers!.get(HeaderNames.taskId));
      env.client.nc.publish(m.headers!.get(HeaderNames.replyTo), new TextEncoder().encode("{not json"), { headers: h });
      m.ack();
    })();
    const [result] = await env.client.jobs.distribute("jobs.garbled", [{ x: 1 }], { id: () => "garbled-1", timeout: 120_000 });
    await answered;
    expect(result).toMatchObject({ id: "garbled-1", ok: false, error: { code: "E_DECODE", permanent: true } });
  });
});
