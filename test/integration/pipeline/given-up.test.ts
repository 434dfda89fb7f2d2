/**
 * Lint work that is given up (dead-lettered) must not stall anything: the
 * commit's report completes with a "could not lint" result for those files
 * (and says so in its files, not only in its summary), a later commit sharing
 * the files completes too, and replaying the dead letters fills in the real
 * results. The runner that gives up is a real farm worker on lint.batch whose
 * every attempt fails; the rest is the real pipeline.
 */
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { PermanentError } from "../../../shared/fabric/errors.js";
import { subjects } from "../../../shared/pipeline/names.js";
import { TestRepo } from "../../harness/git.js";
import { usePipeline } from "../../harness/pipeline.js";
import { waitFor } from "../../harness/wait.js";
import { eslintOracle, reportAsOracle } from "./helpers.js";

const env = usePipeline({ prefix: "farm-given-up-", services: ["ingest", "splitter", "aggregator"] });
let repo: TestRepo;

beforeAll(() => {
  repo = new TestRepo(path.join(env.work, "repo"));
  repo.commit("c1", { "a.js": "var a = 1;\nundefinedA();\n", "b.js": "debugger;\n" });
  repo.commit("c2", { "c.js": "undefinedName();\n" });
});

const couldNotLint = (m: { message: string }) => m.message.startsWith("farm could not lint this file");

describe("lint work that was given up", () => {
  it("the commit completes with a 'could not lint' result per file, consistent with its summary", async () => {
    const broken = await env.cluster.farm.worker(
      subjects.lintBatch,
      () => {
        throw new PermanentError("simulated: no linter available", "E_TEST");
      },
      { concurrency: 1 },
    );
    const [c1] = repo.shas;
    env.client.newSha({ repo: repo.dir, sha: c1 });
    await env.client.completed([c1], 60_000);
    await broken.close();
    const r1 = await env.client.report(repo.dir, c1);
    expect(r1.files.map((f) => f.path).sort()).toEqual(["a.js", "b.js"]);
    for (const f of r1.files) {
      expect(f.messages).toHaveLength(1);
      expect(f.messages[0]).toMatchObject({ severity: 2, fatal: true });
      expect(f.messages[0].message).toMatch(/could not lint this file: .*simulated: no linter available/);
    }
    expect(r1.summary).toEqual({ files: 2, errors: 2, warnings: 0 });
    expect(await env.cluster.farm.dlq.list()).toHaveLength(1);
  }, 90_000);

  it("a later commit sharing those files completes (the files are not waited for forever)", async () => {
    await env.cluster.add(["linter-runner"]);
    const c2 = repo.shas[1];
    const after = env.client.events.length;
    env.client.newSha({ repo: repo.dir, sha: c2 });
    await env.client.completed([c2], 60_000, { after });
    const r2 = await env.client.report(repo.dir, c2);
    const byPath = new Map(r2.files.map((f) => [f.path, f.messages]));
    expect(byPath.get("a.js")!.every(couldNotLint)).toBe(true);
    expect(byPath.get("c.js")!.map((m) => m.ruleId)).toEqual(["no-undef"]);
    expect(r2.delta!.new).toEqual([expect.objectContaining({ path: "c.js", ruleId: "no-undef" })]);
  }, 90_000);

  it("replaying the dead letters fills in the real results", async () => {
    const [c1] = repo.shas;
    const replayed = await env.cluster.farm.dlq.replay({ all: true });
    expect(replayed).toHaveLength(1);
    const r1 = await waitFor(
      "the replayed batch's results in c1's report",
      async () => {
        const r = await env.client.report(repo.dir, c1);
        return r.files.some((f) => f.messages.some(couldNotLint)) ? undefined : r;
      },
      60_000,
      200,
    );
    const expected = await eslintOracle(repo.checkout(c1, path.join(env.work, "checkout-1")));
    expect(reportAsOracle(r1)).toEqual(expected);
    const all = r1.files.flatMap((f) => f.messages);
    expect(r1.summary).toEqual({ files: 2, errors: all.filter((m) => m.severity === 2).length, warnings: all.filter((m) => m.severity === 1).length });
  }, 90_000);
});
