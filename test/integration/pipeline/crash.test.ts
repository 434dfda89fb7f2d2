/**
 * A linter-runner in its own process, killed with SIGKILL in the middle of its
 * batches, then replaced by a fresh one: the reports are identical to those of
 * a fault-free run (on its own nats-server and data dir).
 */
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Report } from "../../../shared/pipeline/report.js";
import type { ServiceName } from "../../../services/index.js";
import { killChildren, spawnService, type Child } from "../../harness/children.js";
import { useTempDir } from "../../harness/files.js";
import { TestRepo, type Files } from "../../harness/git.js";
import { closePipelines, startPipeline, type RawClient } from "../../harness/pipeline.js";
import { waitFor } from "../../harness/wait.js";

const FILES = 160;

/** Varied, deterministic sources: different issues (or none) per file. */
function source(i: number, version: number): string {
  const lines = [`"use strict";`, `// file ${i}, version ${version}`, `const base${i} = require("path");`];
  switch (i % 6) {
    case 0:
      lines.push(`function unused${i}(a, b) {`, `  return a + ${version};`, `}`);
      break;
    case 1:
      lines.push(`if (base${i}) {`, `  console.log(missing${i});`, `}`);
      break;
    case 2:
      lines.push(`try {`, `  base${i}.join("a", "b");`, `} catch (e) {}`);
      break;
    case 3:
      lines.push(`debugger;`, `const x${i} = ${version};`);
      break;
    case 4:
      lines.push(`const same${i} = 1;`, `if (same${i} === same${i}) {`, `  module.exports.v = ${version};`, `}`);
      break;
    default:
      lines.push(`module.exports = (p) => base${i}.join(p, "${i}");`);
  }
  for (let k = 0; k < 20; k++) lines.push(`module.exports.k${k} = function k${k}(v) { return v * ${k + i + version}; };`);
  return lines.join("\n") + "\n";
}

function buildRepo(dir: string): TestRepo {
  const repo = new TestRepo(dir);
  const c1: Files = { "package.json": JSON.stringify({ name: "many" }) };
  for (let i = 0; i < FILES; i++) c1[`src/m${Math.floor(i / 40)}/f${i}.js`] = source(i, 1);
  repo.commit("many files", c1);
  // Edit a third, add some, delete some.
  const c2: Files = {};
  for (let i = 0; i < FILES; i += 3) c2[`src/m${Math.floor(i / 40)}/f${i}.js`] = source(i, 2);
  for (let i = FILES; i < FILES + 20; i++) c2[`src/new/f${i}.js`] = source(i, 2);
  for (let i = 1; i < FILES; i += 17) c2[`src/m${Math.floor(i / 40)}/f${i}.js`] = null;
  repo.commit("edit, add, delete", c2);
  return repo;
}

const work = useTempDir("farm-crash-");
let repo: TestRepo;

beforeAll(() => {
  repo = buildRepo(path.join(work, "repo"));
});

afterEach(killChildren);
afterAll(closePipelines);

/** Each run on a nats-server and data dir of its own. */
const freshSetup = (name: string, services: readonly ServiceName[]) => startPipeline({ work, services, config: { dataDir: path.join(work, `data-${name}`) } });

async function reportsOf(client: RawClient): Promise<Report[]> {
  return Promise.all(repo.shas.map((sha) => client.report(repo.dir, sha)));
}

describe("a linter-runner killed mid-batch", () => {
  let expected: Report[];

  it("fault-free reference run (in-process, own server)", async () => {
    const { cluster, client } = await freshSetup("reference", ["ingest", "splitter", "linter-runner", "aggregator"]);
    client.newSha({ repo: repo.dir, sha: repo.shas[1], history: 1 });
    await client.completed(repo.shas, 180_000);
    expected = await reportsOf(client);
    expect(expected[0].files).toHaveLength(FILES);
    expect(expected[1].delta!.new.length).toBeGreaterThan(0);
    expect(expected[1].delta!.fixed.length).toBeGreaterThan(0);
    await cluster.close();
  }, 240_000);

  it("SIGKILL on the runner process after its first results, a new runner finishes: identical reports", async () => {
    expect(expected).toBeDefined();
    const { server, cluster, client } = await freshSetup("crash", ["ingest", "splitter", "aggregator"]);
    const env = { FARM_CONCURRENCY: "1", FARM_DATA_DIR: path.join(work, "runner-data") };
    const first: Child = spawnService("linter-runner", server.url, env);

    client.newSha({ repo: repo.dir, sha: repo.shas[1], history: 1 });
    // The first results are in: the runner is busy with the rest of its batches.
    const progress = await waitFor("the first progress event", () => client.of("progress").find((e) => (e.done ?? 0) > 0), 120_000, 10).catch((err: Error) => {
      throw new Error(`${err.message}\nrunner output:\n${first.output()}`);
    });
    first.proc.kill("SIGKILL");
    expect(await first.exited).toBe("SIGKILL");
    expect(progress.done).toBeLessThan(progress.total!);
    expect(client.of("completed").length).toBeLessThan(repo.shas.length);
    // The dead runner held batches it never acknowledged: they wait for redelivery (on the consumer of their lane and tenant).
    let held = 0;
    for await (const c of cluster.farm.jsm.consumers.list("LINT")) held += c.num_ack_pending;
    expect(held).toBeGreaterThan(0);

    const second = spawnService("linter-runner", server.url, env);
    await client.completed(repo.shas, 180_000).catch((err: Error) => {
      throw new Error(`${err.message}\nsecond runner output:\n${second.output()}`);
    });
    const actual = await reportsOf(client);
    expect(actual).toEqual(expected);
    // Nothing was given up on the way: no dead letters, no unlintable files.
    expect(await cluster.farm.dlq.list()).toEqual([]);
    const all = actual.flatMap((r) => r.files.flatMap((f) => f.messages));
    expect(all.filter((m) => m.message.startsWith("farm could not lint"))).toEqual([]);
  }, 300_000);
});
