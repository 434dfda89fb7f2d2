/**
 * Repository configuration built to hurt, through the whole pipeline on a real
 * nats-server (the splitter as its own process, as in a container, so a
 * blocked event loop shows as a stalled service and not as a frozen test):
 *
 * - an `ignores` glob built for catastrophic backtracking does not stall
 *   another repository's analysis, and the splitter still stops on SIGTERM;
 * - a malformed glob, and an unknown ESLint rule, fail their commit at once
 *   (first attempt, permanent) with the reason, never as a false report;
 * - a symlinked `.farm.json` / `.jshintrc` is not configuration: the commit
 *   completes with the defaults and says so in its notes;
 * - a `.jshintrc` with a 2 MB value (a config larger than one message) completes;
 * - a failed distribute releases the splitter's claims, so the retry queues
 *   the files; a commit over its planning budget ends `.failed` with the reason.
 */
import { createHash } from "node:crypto";
import { symlinkSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { decode, encode } from "../../../shared/fabric/codec.js";
import { repoKey } from "../../../shared/git/validate.js";
import { PlanBudgetError } from "../../../shared/lint/index.js";
import type { CommitFiles, CommitManifest, LintBatch, ManifestEntry } from "../../../shared/pipeline/contract.js";
import { Objects, ResultCache } from "../../../shared/pipeline/stores/index.js";
import { objectNames, queueSubject, subjects } from "../../../shared/pipeline/names.js";
import type { TaskContext } from "../../../shared/fabric/worker.js";
import { Splitter } from "../../../services/splitter/index.js";
import { spawnService, type Child } from "../../harness/children.js";
import { quietLog } from "../../harness/farms.js";
import { TestRepo } from "../../harness/git.js";
import { usePipeline } from "../../harness/pipeline.js";
import { waitFor, within } from "../../harness/wait.js";

const HOSTILE = "**/*a*a*a*a*a*a*a*a*a*a*b";
const UNUSED = "var unused = 1;\nmodule.exports = 2;\n";

// The splitter runs as its own process; the other services in-process.
const env = usePipeline({ prefix: "farm-hostile-config-", services: ["ingest", "linter-runner", "aggregator"] });
let splitter: Child;
/** Every CommitFiles message the splitters queued (a core subscriber sees what the stream captures). */
const commitFiles: CommitFiles[] = [];

beforeAll(async () => {
  splitter = spawnService("splitter", env.server.url);
  const filesSub = env.client.nc.subscribe(queueSubject(subjects.commitFiles), {
    callback: (_err, m) => {
      commitFiles.push(decode<CommitFiles>(m.data, m.headers));
    },
  });
  env.onClose(() => filesSub.unsubscribe());
  await env.client.nc.flush();
});

const failedOf = (sha: string) => env.client.of("failed").filter((e) => e.sha === sha);

/** The dead-letter entries of one commit's manifest. */
async function parkedManifests(sha: string) {
  const all = await env.cluster.farm.dlq.list();
  return all.filter((d) => {
    try {
      return decode<CommitManifest>(d.data).sha === sha;
    } catch {
      return false;
    }
  });
}

/** Waits for the commit's `.failed`, then checks it was given up on its first attempt, once, as permanent. */
async function expectFailedAtOnce(sha: string, reason: RegExp): Promise<string> {
  await waitFor(`repo.analysis.failed for ${sha}`, () => failedOf(sha).length > 0, 150_000);
  const [parked] = await waitFor(
    `the dead-letter entry of ${sha}`,
    async () => ((await parkedManifests(sha)).length > 0 ? parkedManifests(sha) : undefined),
    30_000,
  );
  expect(parked).toMatchObject({ attempts: 1, kind: "permanent" });
  expect(failedOf(sha)).toHaveLength(1);
  expect(failedOf(sha)[0].reason).toMatch(reason);
  return failedOf(sha)[0].reason!;
}

describe("hostile repository configuration", () => {
  it("a backtracking ignores glob does not stall the farm: the other repository and the hostile one both complete", async () => {
    const a = new TestRepo(path.join(env.work, "hostile"));
    const names: Record<string, string> = { ".farm.json": JSON.stringify({ ignores: [HOSTILE] }) };
    // 200 names of 30–200 a's: the former matcher needed hours per name.
    for (let i = 0; i < 200; i++) names[`${i < 171 ? "src" : "lib"}/${"a".repeat(30 + (i % 171))}.js`] = "module.exports = 1;\n";
    const hostile = a.commit("hostile ignores", names);

    const b = new TestRepo(path.join(env.work, "normal"));
    for (let i = 0; i < 5; i++) b.commit(`c${i}`, { [`f${i}.js`]: `module.exports = ${i};\n`, "shared.js": `var x${i} = ${i};\n` });
    const normal = b.shas.at(-1)!;

    env.client.newSha({ repo: a.dir, sha: hostile });
    env.client.newSha({ repo: b.dir, sha: normal, history: 4 });
    const done = await env.client.completed([...b.shas, hostile], 240_000);
    expect(b.shas.every((s) => done.get(s)!.repo === b.dir)).toBe(true);
    // Nothing in the hostile repo ends with "b": every file is linted, none ignored.
    expect(done.get(hostile)!.summary).toEqual({ files: 200, errors: 0, warnings: 0 });
    expect(env.client.of("failed")).toEqual([]);
  }, 300_000);

  it("a malformed ignores glob fails its commit on the first attempt, naming the pattern", async () => {
    const r = new TestRepo(path.join(env.work, "bad-glob"));
    const sha = r.commit("bad glob", { ".farm.json": JSON.stringify({ ignores: ["[z-a].js"] }), "a.js": UNUSED });
    env.client.newSha({ repo: r.dir, sha });
    const reason = await expectFailedAtOnce(sha, /invalid ignores pattern "\[z-a\]\.js"/);
    expect(reason).toBe('.farm.json: invalid ignores pattern "[z-a].js": character range "z-a" is out of order');
  }, 200_000);

  it("an unknown rule fails its commit at once; the fixed child gets no false delta", async () => {
    const r = new TestRepo(path.join(env.work, "bad-rule"));
    const good = r.commit("good", { ".farm.json": "{}", "a.js": UNUSED });
    const bad = r.commit("unknown rule", { ".farm.json": JSON.stringify({ rules: { "definitely-not-a-rule": "warn" } }) });
    const fixed = r.commit("fixed", { ".farm.json": "{}" });
    const after = env.client.events.length;
    env.client.newSha({ repo: r.dir, sha: fixed, history: 2 });
    const done = await env.client.completed([good, fixed], 200_000, { after, expectFailed: [bad] });
    await expectFailedAtOnce(bad, /^\.farm\.json: unknown ESLint rule "definitely-not-a-rule"/);
    const error = (await env.client.request<{ error?: string }>("report.get", { repo: r.dir, sha: bad })).error;
    expect(error).toMatch(/definitely-not-a-rule/);

    // The fixed commit's baseline failed: no delta at all (what the aggregator does for a failed parent), so nothing "fixed".
    expect(done.get(fixed)!.delta).toBeNull();
    const report = await env.client.report(r.dir, fixed);
    expect(report.delta).toBeNull();
    const first = await env.client.report(r.dir, good);
    expect(report.files.map((f) => f.messages.map((m) => m.ruleId))).toEqual(first.files.map((f) => f.messages.map((m) => m.ruleId)));
    expect(report.files.flatMap((f) => f.messages).some((m) => /invalid lint settings/.test(m.message))).toBe(false);
  }, 240_000);

  it("a symlinked .farm.json or .jshintrc is not configuration: defaults apply, and the notes say so", async () => {
    const r = new TestRepo(path.join(env.work, "links"));
    symlinkSync("/etc/passwd", path.join(r.dir, ".farm.json"));
    const sha = r.commit("links", { "lib/real.json": '{"undef": true}', "a.js": UNUSED, "lib/b.js": "undefinedName();\n" });
    symlinkSync("real.json", path.join(r.dir, "lib/.jshintrc"));
    const sha2 = r.commit("jshintrc link", { "lib/c.js": "module.exports = 3;\n" });
    const after = env.client.events.length;
    env.client.newSha({ repo: r.dir, sha: sha2, history: 1 });
    await env.client.completed([sha, sha2], 120_000, { after });

    const files = await waitFor("CommitFiles of the linked commit", () => commitFiles.find((c) => c.sha === sha2 && !c.failed), 10_000);
    expect(files.notes).toEqual([".farm.json is a symbolic link: not used as configuration", "lib/.jshintrc is a symbolic link: not used as configuration"]);
    const report = await env.client.report(r.dir, sha2);
    expect(report.notes).toEqual(files.notes);
    // The defaults: ESLint only, recommended rules.
    expect(Object.keys(report.linters)).not.toContain("jshint");
    expect(report.files.find((f) => f.path === "a.js")!.messages.map((m) => m.ruleId)).toEqual(["no-unused-vars"]);
    expect(report.files.find((f) => f.path === "lib/b.js")!.messages.map((m) => [m.linter, m.ruleId])).toEqual([["eslint", "no-undef"]]);
  }, 180_000);

  it("a .jshintrc with a 2 MB value (a config bigger than one message) completes", async () => {
    const r = new TestRepo(path.join(env.work, "huge-jshintrc"));
    const sha = r.commit("huge", {
      ".jshintrc": JSON.stringify({ undef: true, node: true, globals: { ["G".repeat(2 * 1024 * 1024)]: true } }),
      "a.js": "module.exports = missing;\n",
      "b.js": "module.exports = 2;\n",
    });
    const after = env.client.events.length;
    env.client.newSha({ repo: r.dir, sha });
    const done = await env.client.completed([sha], 180_000, { after });
    expect(done.get(sha)!.summary!.files).toBe(2);
    const report = await env.client.report(r.dir, sha);
    const a = report.files.find((f) => f.path === "a.js")!;
    expect(a.messages.map((m) => m.linter).sort()).toEqual(["eslint", "jshint"]);
    expect(a.messages.find((m) => m.linter === "jshint")!.message).toMatch(/'missing' is not defined/);
  }, 240_000);
});

describe("the splitter, driven directly against the real stores", () => {
  const repo = "/nonexistent/splitter-unit";
  let objects: Objects;
  let n = 0;

  const ctx = (attempt: number): TaskContext => ({
    id: `t${attempt}`,
    subject: subjects.commitManifest,
    via: "distribute",
    attempt,
    maxDeliver: 5,
    log: quietLog(),
    signal: new AbortController().signal,
    working: () => {},
  });

  /** A commit whose blobs and tree are in the object store, as ingest leaves them. */
  async function manifest(files: Record<string, string>): Promise<CommitManifest> {
    objects ??= await Objects.open(env.cluster.farm.nc);
    const tree: ManifestEntry[] = [];
    for (const [p, text] of Object.entries(files)) {
      const data = new TextEncoder().encode(text);
      const blob = createHash("sha1").update(text).digest("hex"); // content-addressed, like git's ids
      await objects.putOnce(objectNames.blob(blob), data);
      tree.push({ path: p, blob, size: data.length, mode: "100644" });
    }
    const sha = (++n).toString(16).padStart(40, "e");
    return {
      requestId: `unit-${sha}`,
      repo,
      repoKey: repoKey(repo),
      sha,
      parent: null,
      parentExpected: false,
      requested: true,
      date: new Date(0).toISOString(),
      subject: "unit",
      manifest: await objects.putDocument(objectNames.manifest(repoKey(repo), sha), tree),
    };
  }

  async function splitter(options: { planBudgetMs?: number; batchMessageBytes?: number } = {}) {
    objects ??= await Objects.open(env.cluster.farm.nc);
    const results = await ResultCache.open(env.cluster.farm.nc, objects);
    return new Splitter({ farm: env.cluster.farm, config: env.cluster.config, log: quietLog(), objects, results, ...options });
  }

  it("a distribute that fails releases the claims: the retry queues the files and the commit completes", async () => {
    const m = await manifest({ "x.js": "var unusedX = 1;\n", "y.js": "module.exports = 'y';\n" });
    const after = env.client.events.length;
    const s = await splitter();
    const jobs = env.cluster.farm.jobs;
    const real = jobs.distribute.bind(jobs);
    const calls: LintBatch[][] = [];
    (jobs as { distribute: unknown }).distribute = async (subject: string, tasks: LintBatch[], opts: never) => {
      calls.push(tasks);
      if (calls.length === 1) throw new Error("simulated: maximum payload exceeded");
      return real(subject, tasks, opts);
    };
    try {
      await expect(s.onManifest(m, ctx(1))).rejects.toThrow("simulated");
      const stats = await s.onManifest(m, ctx(2));
      expect(stats).toEqual({ files: 2, cacheHits: 0, queued: 2 });
    } finally {
      (jobs as { distribute: unknown }).distribute = real;
    }
    expect(calls).toHaveLength(2);
    expect(calls[1].flatMap((b) => b.files.map((f) => f.path)).sort()).toEqual(["x.js", "y.js"]);
    // Configs go by reference: a batch names each config's object, it does not carry it.
    for (const b of calls[1]) for (const v of Object.values(b.settings)) expect(v).toMatch(/^lint-config\/[0-9a-f]{16}$/);
    expect(Math.max(...calls[1].map((b) => encode(b).length))).toBeLessThan(4096);
    const done = await env.client.completed([m.sha], 120_000, { after });
    expect(done.get(m.sha)!.summary).toEqual({ files: 2, errors: 1, warnings: 0 });
  }, 180_000);

  it("batches are split by their encoded size too, and each still names its configs", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 24; i++) files[`deep/${"d".repeat(200)}/file${i}.js`] = `module.exports = "size-${i}";\n`;
    const m = await manifest(files);
    const s = await splitter({ batchMessageBytes: 2048 });
    const jobs = env.cluster.farm.jobs;
    const real = jobs.distribute.bind(jobs);
    const sent: LintBatch[] = [];
    (jobs as { distribute: unknown }).distribute = (subject: string, tasks: LintBatch[], opts: never) => {
      sent.push(...tasks);
      return real(subject, tasks, opts);
    };
    const after = env.client.events.length;
    try {
      await s.onManifest(m, ctx(1));
    } finally {
      (jobs as { distribute: unknown }).distribute = real;
    }
    expect(sent.length).toBeGreaterThan(1);
    for (const b of sent) {
      expect(encode(b).length).toBeLessThanOrEqual(2048);
      expect(Object.keys(b.settings).sort()).toEqual([...new Set(b.files.map((f) => f.configId))].sort());
    }
    expect(sent.flatMap((b) => b.files).length).toBe(24);
    await env.client.completed([m.sha], 120_000, { after });
  }, 180_000);

  it("a commit whose planning exceeds its budget ends .failed with the reason, and its report says why", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 3000; i++) files[`d${i % 30}/f${i}.js`] = "module.exports = 1;\n";
    const m = await manifest(files);
    const s = await splitter({ planBudgetMs: 0 });
    await expect(s.onManifest(m, ctx(1))).rejects.toBeInstanceOf(PlanBudgetError);
    await waitFor("the failed event", () => failedOf(m.sha).length > 0, 30_000);
    expect(failedOf(m.sha)[0].reason).toMatch(/^planning the commit took more than its budget of 0 ms \(\d+ of 3000 paths planned\): given up$/);
    const answer = await waitFor(
      "report.get's error",
      async () => (await env.client.request<{ error?: string }>("report.get", { repo, sha: m.sha })).error,
      30_000,
    );
    expect(answer).toMatch(/budget of 0 ms/);
  }, 120_000);
});

describe("shutdown", () => {
  it("the splitter process stops on SIGTERM", async () => {
    splitter.proc.kill("SIGTERM");
    const code = await within(splitter.exited, 60_000, "still running");
    expect(code).not.toBe("still running");
  }, 90_000);
});
