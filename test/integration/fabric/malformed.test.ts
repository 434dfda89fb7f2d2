import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { decode, HeaderNames, type Farm, type Worker } from "../../../shared/fabric/index.js";
import { useFarms } from "../../harness/farms.js";
import { waitFor } from "../../harness/wait.js";

const env = useFarms(["client", "box"]);
let client: Farm;
let box: Farm;
let bare: NatsConnection;
let worker: Worker<{ n: number }, number>;
const handled: unknown[] = [];

beforeAll(async () => {
  ({ client, box } = env);
  // Not a farm client: no headers, no codec, just bytes.
  bare = await connect({ servers: env.server.url, name: "bare" });
  worker = await box.worker<{ n: number }, number>(
    "jobs.x",
    (t) => {
      handled.push(t);
      return t.n + 1;
    },
    { ackWait: 60_000, maxDeliver: 5 },
  );
});
afterAll(async () => {
  await bare?.close();
});

const garbage = Uint8Array.from([0xc1, 0xff, 0x00, 0x13, 0x37]);

describe("malformed input", () => {
  test("raw garbage on the queued subject: dead-lettered at once as permanent, never handled, worker keeps serving", async () => {
    bare.publish("q.jobs.x", garbage); // captured by the JOBS stream like any task
    await bare.flush();

    const [d] = await waitFor("the dead-letter entry", async () => {
      const l = await client.dlq.list({ subject: "q.jobs.x" });
      return l.length ? l : undefined;
    });
    expect(d).toMatchObject({ subject: "q.jobs.x", stream: "JOBS", kind: "permanent", attempts: 1 });
    expect(d.reason).toMatch(/permanent failure: DecodeError: payload is not valid msgpack/);
    expect([...d.data]).toEqual([...garbage]);
    expect(handled).toEqual([]);
    // Acknowledged for good: no retries pending.
    const info = await client.jsm.consumers.info("JOBS", "jobs_x");
    expect(info.num_pending + info.num_ack_pending).toBe(0);
    expect(info.num_redelivered).toBe(0);

    // Still alive, on both paths.
    expect(await client.jobs.send("jobs.x", { n: 1 })).toBe(2);
    const [r] = await client.jobs.distribute<number>("jobs.x", [{ n: 41 }]);
    expect(r).toMatchObject({ ok: true, value: 42 });
  });

  test("a malformed request gets an error reply in the format it came in; the worker keeps serving", async () => {
    const before = worker.stats().failed;

    const bin = await bare.request("jobs.x", garbage, { timeout: 5000 });
    expect(bin.headers?.get(HeaderNames.status)).toBe("error");
    expect(decode(bin.data, bin.headers)).toMatchObject({ code: "E_DECODE", name: "DecodeError", permanent: true });

    const text = await bare.request("jobs.x", new TextEncoder().encode('{"n": '), { timeout: 5000 });
    expect(text.headers?.get(HeaderNames.status)).toBe("error");
    expect(text.string()[0]).toBe("{"); // JSON in, JSON out
    const body = JSON.parse(text.string());
    expect(body).toMatchObject({ code: "E_DECODE", permanent: true });
    expect(body.error).toMatch(/not valid JSON/);

    expect(worker.stats().failed - before).toBe(2);
    // A well-formed JSON request from the same bare client works.
    const ok = await bare.request("jobs.x", new TextEncoder().encode('{"n": 9}'), { timeout: 5000 });
    expect(ok.headers?.get(HeaderNames.status)).not.toBe("error");
    expect(JSON.parse(ok.string())).toBe(10);
  });
});
