import { beforeAll, describe, expect, test } from "vitest";
import type { Farm } from "../../../shared/fabric/index.js";
import { useFarms } from "../../harness/farms.js";
import { waitFor } from "../../harness/wait.js";

const env = useFarms(["pub", "a", "b"], { ensureTopology: false });
let publisher: Farm;
let a: Farm;
let b: Farm;

beforeAll(() => {
  ({ pub: publisher, a, b } = env);
});

type Seen = { subject: string; payload: unknown };

describe("events", () => {
  test("fan out: two subscribers each get every event; wildcards match", async () => {
    const gotA: Seen[] = [];
    const gotB: Seen[] = [];
    const gotStar: Seen[] = [];
    a.events.subscribe("repo.analysis.>", (payload, subject) => void gotA.push({ subject, payload }));
    b.events.subscribe("repo.analysis.>", (payload, subject) => void gotB.push({ subject, payload }));
    b.events.subscribe("repo.analysis.*", (payload, subject) => void gotStar.push({ subject, payload }));
    await Promise.all([a.nc.flush(), b.nc.flush()]); // the server knows the interest

    const sent: { subject: string; payload: object }[] = [
      { subject: "repo.analysis.started", payload: { repo: "r", sha: "1" } },
      { subject: "repo.analysis.progress", payload: { repo: "r", sha: "1", done: 3, of: 9 } },
      { subject: "repo.analysis.completed", payload: { repo: "r", sha: "1" } },
      { subject: "repo.analysis.x.deep", payload: { deep: true } },
      { subject: "repo.other", payload: { nope: true } },
    ];
    const ids = sent.map((e) => publisher.events.publish(e.subject, e.payload));
    await publisher.nc.flush();

    const matching = sent.map((e, i) => ({ subject: e.subject, payload: { ...e.payload, id: ids[i] } })).filter((e) => e.subject.startsWith("repo.analysis."));
    await waitFor("both subscribers to get every event", () => gotA.length >= 4 && gotB.length >= 4 && gotStar.length >= 3);
    expect(gotA).toEqual(matching);
    expect(gotB).toEqual(matching);
    // `*` is one token: the deeper subject is not matched.
    expect(gotStar).toEqual(matching.filter((e) => e.subject.split(".").length === 3));
  });

  test("events are JSON on the wire, readable by any client", async () => {
    const raw: string[] = [];
    const sub = a.nc.subscribe("farm.test.json", { callback: (_e, m) => void raw.push(m.string()) });
    await a.nc.flush();
    const id = publisher.events.publish("farm.test.json", { repo: "r", n: 1 });
    await waitFor("the raw event", () => raw.length === 1);
    expect(JSON.parse(raw[0])).toEqual({ repo: "r", n: 1, id });
    sub.unsubscribe();
  });

  test("a queue group shares events instead of fanning out; a failing handler does not end the subscription", async () => {
    const got: string[] = [];
    let threw = 0;
    const handler = (tag: string) => (p: { n: number }) => {
      if (p.n === 0) {
        threw++;
        throw new Error("handler bug");
      }
      got.push(`${tag}:${p.n}`);
    };
    a.events.subscribe("work.shared", handler("a"), { queue: "q" });
    b.events.subscribe("work.shared", handler("b"), { queue: "q" });
    await Promise.all([a.nc.flush(), b.nc.flush()]);
    for (let n = 0; n <= 20; n++) publisher.events.publish("work.shared", { n });
    await publisher.nc.flush();
    await waitFor("20 shared events", () => got.length >= 20);
    expect(threw).toBe(1); // event 0 reached exactly one member, which threw
    expect(got.map((g) => Number(g.split(":")[1])).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });
});
