/**
 * Many commits of one repo at once: one mirror, one clone; every commit's
 * report and delta as if analyzed one by one. And a publish while ingest is
 * down waits in the stream until an ingest comes back.
 */
import { readdirSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Service } from "../../../shared/pipeline/service.js";
import type { MirrorStats } from "../../../shared/git/index.js";
import { TestRepo } from "../../harness/git.js";
import { usePipeline } from "../../harness/pipeline.js";

const env = usePipeline({ prefix: "farm-concurrent-" });
let repo: TestRepo;

const mirrorStats = (s: Service) => (s.stats!() as { mirrors: MirrorStats }).mirrors;

beforeAll(() => {
  repo = new TestRepo(path.join(env.work, "repo"));
  repo.commit("c0", { "package.json": "{}\n", "src/base.js": "module.exports = 1;\n" });
  // Each commit adds one file with one issue: its delta is exactly that issue.
  for (let i = 1; i <= 6; i++) repo.commit(`c${i}`, { [`src/f${i}.js`]: `const unused${i} = ${i};\nmodule.exports = {};\n` });
});

describe("many commits of one repo at once", () => {
  it("six repo.new_sha published back to back: one clone, all complete, right deltas", async () => {
    const shas = repo.shas.slice(1);
    for (const sha of shas) env.client.newSha({ repo: repo.dir, sha });
    const done = await env.client.completed(shas, 180_000, { requested: true });

    const ingest = env.cluster.services.find((s) => s.name === "ingest")!;
    expect(mirrorStats(ingest)).toEqual({ clones: 1, fetches: 0 });
    const mirrors = readdirSync(path.join(env.work, "data", "mirrors")).filter((n) => n.endsWith(".git"));
    expect(mirrors).toHaveLength(1);

    for (const [i, sha] of shas.entries()) {
      const n = i + 1;
      expect(done.get(sha)!.parent).toBe(repo.shas[i]);
      const report = await env.client.report(repo.dir, sha);
      expect(report.files.map((f) => f.path).sort()).toEqual(["src/base.js", ...Array.from({ length: n }, (_, k) => `src/f${k + 1}.js`)].sort());
      expect(report.delta!.new).toEqual([expect.objectContaining({ path: `src/f${n}.js`, ruleId: "no-unused-vars", line: 1 })]);
      expect(report.delta!.fixed).toEqual([]);
      expect(report.summary.errors).toBe(n);
    }
    // Each blob was linted once, whichever request got to it first.
    const queued = [...done.values()].reduce((a, e) => a + e.stats!.queued, 0);
    expect(queued).toBeLessThanOrEqual(7);
  }, 240_000);

  it("a publish while ingest is down is processed when an ingest comes back: fetched, not cloned", async () => {
    const ingest = env.cluster.services.find((s) => s.name === "ingest")!;
    await ingest.close();
    const sha = repo.commit("c7", { "src/f7.js": "debugger;\n" });
    const after = env.client.events.length;
    env.client.newSha({ repo: repo.dir, sha });
    await env.client.nc.flush(); // the stream has it before we look
    // Nothing happens without an ingest: the request waits in the REPOS stream.
    const info = await env.cluster.farm.jsm.streams.info("REPOS");
    expect(info.state.messages).toBe(1);
    expect(env.client.events.slice(after)).toEqual([]);

    const lateIngest = await env.cluster.add(["ingest"]);
    const done = await env.client.completed([sha], 120_000, { after, requested: true });
    expect(done.get(sha)!.delta).toEqual({ new: 1, fixed: 0 });
    expect(mirrorStats(lateIngest[0])).toEqual({ clones: 0, fetches: 1 });
  }, 180_000);
});
