/**
 * Lanes and tenants through the real pipeline: another team's one-commit
 * push, published after a 40-commit backfill has queued up in front of a
 * stage that is down, overtakes it there once the stage comes up — at the
 * splitter (commit.manifest), the linter-runner (lint.batch) and the
 * aggregator (results.commit_files). Without fair queues (every request in
 * one lane and tenant) the push comes after all 40 at the splitter and the
 * linter-runner; the aggregator takes every commit at once, so there it only
 * shows that the push is not held behind the backfill's chain of parents.
 * At ingest, many backfill requests queued ahead of the push: it is cloned
 * among the first, as backfill may hold only some of ingest's turns.
 */
import path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { SERVICE_NAMES, type ServiceName } from "../../../services/index.js";
import { TestRepo } from "../../harness/git.js";
import { closePipelines, startPipeline, type Pipeline } from "../../harness/pipeline.js";
import { waitFor } from "../../harness/wait.js";

const BACKFILL = 40;

afterEach(() => closePipelines());

/** The stream's message count, once it has stopped growing for a moment (what was queued is in). */
async function settledCount(p: Pipeline, stream: string, atLeast: number): Promise<number> {
  let last = -1;
  return waitFor(
    `${stream} to hold at least ${atLeast} tasks and stop growing`,
    async () => {
      const n = (await p.cluster.farm.jsm.streams.info(stream)).state.messages;
      const settled = n >= atLeast && n === last;
      last = n;
      return settled ? n : undefined;
    },
    60_000,
    500,
  );
}

async function overtake(stage: ServiceName, stream: string): Promise<{ before: number; completedA: number }> {
  const p = await startPipeline({ prefix: `farm-lanes-${stage}-`, services: SERVICE_NAMES.filter((n) => n !== stage), config: { concurrency: 1 } });
  const a = new TestRepo(path.join(p.work, "team-a", "history"));
  for (let i = 0; i < BACKFILL; i++) a.commit(`a${i}`, { [`src/f${i}.js`]: `const unused${i} = ${i};\n` });
  const b = new TestRepo(path.join(p.work, "team-b", "app"));
  b.commit("b: one push", { "index.js": "debugger;\n" });

  p.client.newSha({ repo: a.dir, sha: a.head(), history: BACKFILL - 1 });
  const queued = await settledCount(p, stream, BACKFILL / 2);
  p.client.newSha({ repo: b.dir, sha: b.head() });
  await settledCount(p, stream, queued + 1);

  await p.cluster.add([stage]);
  await p.client.completed([...a.shas, ...b.shas], 180_000);
  const order = p.client.of("completed").map((e) => e.sha);
  const before = order.slice(0, order.indexOf(b.shas[0])).filter((s) => a.shas.includes(s!)).length;
  return { before, completedA: a.shas.filter((s) => order.includes(s)).length };
}

describe("a push overtakes a queued backfill", () => {
  test("at ingest: admitted by lane and tenant, it is cloned before the backfill requests queued ahead of it", async () => {
    const p = await startPipeline({ prefix: "farm-lanes-ingest-", services: SERVICE_NAMES.filter((n) => n !== "ingest") });
    const requests = 12;
    const as = Array.from({ length: requests }, (_, i) => {
      const a = new TestRepo(path.join(p.work, "team-a", `repo${i}`));
      a.commit(`a${i}`, { "index.js": `const unused${i} = ${i};\n` });
      a.commit(`a${i}'`, { "lib.js": `debugger;\n` });
      return a;
    });
    const b = new TestRepo(path.join(p.work, "team-b", "app"));
    b.commit("b: one push", { "index.js": "debugger;\n" });
    for (const a of as) p.client.newSha({ repo: a.dir, sha: a.head(), history: 1, lane: "backfill" });
    await settledCount(p, "REPOS", requests);
    p.client.newSha({ repo: b.dir, sha: b.head() });
    await settledCount(p, "REPOS", requests + 1);

    await p.cluster.add(["ingest"]);
    await p.client.completed([...as.flatMap((a) => a.shas), ...b.shas], 180_000);
    // An analysis' `.started` (the one with its commits, not a commit's) is announced once the clone
    // and the history are done: the order ingest took the requests in.
    const started = p.client
      .of("started")
      .filter((e) => Array.isArray(e.commits))
      .map((e) => e.repo);
    expect(started).toHaveLength(requests + 1);
    // First in, first out, it would start last; backfill may hold only some of ingest's turns.
    expect(started.indexOf(b.dir)).toBeLessThanOrEqual(4);
  }, 240_000);

  for (const [stage, stream] of [
    ["splitter", "COMMITS"],
    ["linter-runner", "LINT"],
    ["aggregator", "RESULTS"],
  ] as const) {
    test(`at the ${stage}`, async () => {
      const { before, completedA } = await overtake(stage, stream);
      expect(completedA).toBe(BACKFILL);
      // First in, first out, it would come after all 40; interactive first, within the first few.
      expect(before).toBeLessThanOrEqual(10);
    }, 240_000);
  }
});
