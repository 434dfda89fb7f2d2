/**
 * Repositories that farm must take as they come, end to end on a real
 * nats-server with all four services:
 * - issue 3: a secret in a repo url appears in no event, log line, report,
 *   SARIF, KV key, object name, mirror (name or content) or dead-letter copy;
 * - issue 4: paths with "..", a space, unicode, "*" and ">" are analyzed;
 * - issue 5: files named by bytes that are not UTF-8 are linted each on its own;
 * - issue 9: identical requests while one is in flight are one analysis,
 *   within one ingest and across two.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Kvm } from "@nats-io/kv";
import { pack } from "msgpackr";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Ingest, type IngestStats } from "../../../services/ingest/index.js";
import { Mirrors } from "../../../shared/git/index.js";
import { createLogger } from "../../../shared/fabric/logger.js";
import { Objects, ReportStore, ResultCache } from "../../../shared/pipeline/stores/index.js";
import { buckets } from "../../../shared/pipeline/names.js";
import type { TaskContext } from "../../../shared/fabric/worker.js";
import { startGitHttpServer, type GitHttpServer } from "../../harness/git-http-server.js";
import { LEAK, SECRET, TOKEN } from "../../harness/credentials.js";
import { filesMatching } from "../../harness/files.js";
import { git, TestRepo, trustCertificate } from "../../harness/git.js";
import { closePipelines, startPipeline, testConfig, usePipeline, type AnalysisEvent, type Pipeline } from "../../harness/pipeline.js";
import { waitFor } from "../../harness/wait.js";

const env = usePipeline({ prefix: "farm-hostile-" });

const ingestStats = () => env.cluster.services.find((s) => s.name === "ingest")!.stats!() as unknown as IngestStats;
/** The `.completed` events of `sha` since event number `after`. */
const completedOf = (sha: string, after: number) => env.client.events.slice(after).filter((e) => e.subject === "repo.analysis.completed" && e.data.sha === sha);
/** Messages the COMMITS stream ever stored: one per queued manifest. */
const manifestsQueued = async () => (await env.cluster.farm.jsm.streams.info("COMMITS")).state.last_seq;

/** Every key of a pipeline's KV buckets and every object name of its store. */
async function storedNames(p: Pipeline): Promise<string[]> {
  const names: string[] = [];
  for (const bucket of Object.values(buckets)) {
    const kv = await new Kvm(p.cluster.farm.nc).open(bucket);
    for await (const k of await kv.keys()) names.push(k);
  }
  const objects = await Objects.open(p.cluster.farm.nc);
  for (const info of await objects.store.list()) names.push(info.name);
  return names;
}

/** `repo` with `user:<SECRET>@` in it. */
const withSecret = (repo: string) => repo.replace("://", `://user:${SECRET}@`);

/**
 * Requests with secrets that farm refuses or fails, sent to `p`: http:// (refused at once), the same
 * as msgpack (as a non-JavaScript client may send it), not JSON at all (the parser's message quotes
 * the payload), and the right credentials for `repo` with an unknown commit (permanent, after a real
 * fetch). Returns their four .failed events.
 */
async function failingWithSecrets(p: Pipeline, repo: string, sha: string): Promise<AnalysisEvent[]> {
  const before = p.client.of("failed").length;
  p.client.newSha({ repo: `http://user:${SECRET}@example.com/x.git?access_token=${TOKEN}`, sha });
  p.client.publish("repo.new_sha", pack({ repo: `http://user:${SECRET}@example.com/y.git`, sha }));
  p.client.publish("repo.new_sha", `{"repo": "https://user:${SECRET}@example.com/x.git?access_token=${TOKEN}", "sha": `);
  p.client.newSha({ repo: withSecret(repo), sha: "0".repeat(40) });
  await waitFor("four .failed events", () => p.client.of("failed").length >= before + 4, 60_000);
  return p.client.of("failed").slice(before);
}

describe("issue 3: credentials in the repo url", () => {
  let https: GitHttpServer;
  let distrust: () => void;
  let repo: TestRepo;
  let cleanUrl: string;

  beforeAll(async () => {
    repo = new TestRepo(path.join(env.work, "private"));
    repo.commit("c1", { "a.js": "module.exports = 1;\n" });
    repo.commit("c2", { "b.js": "var unused = 2;\n" });
    const root = path.join(env.work, "https-root");
    git(env.work, "clone", "--quiet", "--bare", repo.dir, path.join(root, "private.git"));
    const certDir = path.join(env.work, "tls");
    mkdirSync(certDir);
    https = await startGitHttpServer({ projectRoot: root, user: "user", password: SECRET, tls: { certDir } });
    cleanUrl = `${https.url}/private.git`;
    // The services' git children trust the throwaway certificate.
    distrust = trustCertificate(https.caFile!);
  }, 30_000);

  afterAll(async () => {
    distrust?.();
    await https?.close();
  });

  it("a private repo analyzed through https://user:secret@…: the repo everywhere is the url without them", async () => {
    const after = env.client.events.length;
    env.client.newSha({ repo: withSecret(cleanUrl), sha: repo.shas[1], history: 1 });
    const done = await env.client.completed(repo.shas, 120_000, { after });
    expect(done.get(repo.shas[1])!.delta).toEqual({ new: 1, fixed: 0 });
    for (const e of env.client.events.slice(after)) expect(e.data.repo, e.subject).toBe(cleanUrl);
    // The server got the credentials: they were used, just never shown.
    expect(https.requests.some((r) => r.includes(`Basic ${Buffer.from(`user:${SECRET}`).toString("base64")}`))).toBe(true);
    const report = await env.client.report(cleanUrl, repo.shas[1]);
    expect(report.repo).toBe(cleanUrl);
    expect(JSON.stringify(report)).not.toMatch(LEAK);
    expect(JSON.stringify(await env.client.report(cleanUrl, repo.shas[1], "sarif"))).not.toMatch(LEAK);
  }, 150_000);

  it("refused, failing and undecodable requests with secrets: none in their .failed events", async () => {
    // Each permanent: one .failed, echoing the repo without its credentials (none for the one that is not JSON).
    const failed = await failingWithSecrets(env, cleanUrl, repo.shas[1]);
    expect(failed.map((e) => e.repo).sort()).toEqual([null, "http://example.com/x.git", "http://example.com/y.git", cleanUrl].sort());
    for (const e of failed) expect(JSON.stringify(e)).not.toMatch(LEAK);
  }, 90_000);

  // A pipeline of its own, so that what is swept is what this run wrote, whatever ran before, and its
  // unreachable request, retried in the background, is gone with it.
  describe("what a run with secrets leaves behind", () => {
    /** Every line its services logged (JSON, as production writes it). */
    const logLines: string[] = [];
    let run: Pipeline;

    beforeAll(async () => {
      // The services log at debug into memory, through the production logger (and its redaction).
      const log = createLogger({ level: "debug", name: "hostile", destination: { write: (s: string) => void logLines.push(s) } });
      run = await startPipeline({ prefix: "farm-hostile-run-", log });
      run.client.newSha({ repo: withSecret(cleanUrl), sha: repo.shas[1], history: 1 });
      await run.client.completed(repo.shas, 120_000);
      await failingWithSecrets(run, cleanUrl, repo.shas[1]);
      run.client.newSha({ repo: `https://user:${SECRET}@127.0.0.1:1/x.git?access_token=${TOKEN}`, sha: "1".repeat(40) });
      // Its first attempt failed and will be retried: the worker logs it, with git's message (which names the url).
      await waitFor("the retry's log line", () => logLines.find((l) => l.includes("will retry") && l.includes("127.0.0.1:1")), 60_000);
    }, 240_000);

    afterAll(() => closePipelines(), 60_000);

    it("an unreachable one is retried, and its retries are logged without the secret", () => {
      const retries = logLines.filter((l) => l.includes("127.0.0.1:1"));
      expect(retries.some((l) => l.includes("will retry"))).toBe(true);
      expect(retries.filter((l) => LEAK.test(l))).toEqual([]);
    });

    it("no log line, event, KV key, object name or mirror holds a secret", async () => {
      expect(logLines.length).toBeGreaterThan(0);
      expect(logLines.filter((l) => LEAK.test(l))).toEqual([]);
      expect(run.client.events.filter((e) => LEAK.test(JSON.stringify(e.data)))).toEqual([]);
      const names = await storedNames(run);
      expect(names.length).toBeGreaterThan(0);
      expect(names.filter((n) => LEAK.test(n))).toEqual([]);
      // The private repo's mirror is there (with its remote url) and holds no secret.
      expect(filesMatching(path.join(run.dataDir, "mirrors"), "private.git").length).toBeGreaterThan(0);
      expect(filesMatching(path.join(run.dataDir, "mirrors"), LEAK)).toEqual([]);
    }, 30_000);

    it("the dead-letter copies of the refused requests (JSON and msgpack) do not expose the secret", async () => {
      const parked = await waitFor(
        "the four refused requests dead-lettered",
        async () => {
          const list = await run.cluster.farm.dlq.list({ all: true });
          return list.length >= 4 ? list : undefined;
        },
        30_000,
      );
      for (const d of parked) expect(Buffer.from(d.data).toString("utf8"), d.reason).not.toMatch(LEAK);
      for (const d of parked) expect(d.reason).not.toMatch(LEAK);
    }, 30_000);
  });
});

describe("issue 4: repos whose path no key mapping may break", () => {
  it("paths with '..', a space, unicode, '*' and '>' are each analyzed, each with its own report", async () => {
    const names = ["a..b", "with space", "ünïcødé ✓", "st*r", "gt>", "dots...", ".hidden"];
    const repos = names.map((n, i) => {
      const r = new TestRepo(path.join(env.work, "odd", n));
      r.commit("c1", { "index.js": `var unused${i} = ${i};\n` });
      return r;
    });
    const after = env.client.events.length;
    for (const r of repos) env.client.newSha({ repo: r.dir, sha: r.shas[0] });
    const done = await env.client.completed(
      repos.map((r) => r.shas[0]),
      60_000,
      { after },
    );
    for (const [i, r] of repos.entries()) {
      expect(done.get(r.shas[0])!.repo, names[i]).toBe(r.dir);
      const report = await env.client.report(r.dir, r.shas[0]);
      expect(
        report.files.map((f) => f.messages[0]?.message),
        names[i],
      ).toEqual([`'unused${i}' is assigned a value but never used.`]);
    }
  }, 90_000);
});

describe("issue 5: file names that are not UTF-8", () => {
  it("\\xff.js and \\xfe.js are two report entries, each with its own blob and messages", async () => {
    const r = new TestRepo(path.join(env.work, "bytes"));
    writeFileSync(Buffer.concat([Buffer.from(`${r.dir}/`), Buffer.from([0xff]), Buffer.from(".js")]), "var ff = 1;\n");
    writeFileSync(Buffer.concat([Buffer.from(`${r.dir}/`), Buffer.from([0xfe]), Buffer.from(".js")]), "debugger;\n");
    const sha = r.commit("names that are bytes");
    const after = env.client.events.length;
    env.client.newSha({ repo: r.dir, sha });
    await env.client.completed([sha], 60_000, { after });
    const files = (await env.client.report(r.dir, sha)).files;
    const lsTree = new Map(
      git(r.dir, "ls-tree", "-r", sha)
        .split("\n")
        .map((l) => [l.split("\t")[1], l.split(" ")[2].split("\t")[0]] as const),
    );
    expect(files.map((f) => f.path).sort()).toEqual(['"\\376.js"', '"\\377.js"']);
    const ff = files.find((f) => f.path === '"\\377.js"')!;
    const fe = files.find((f) => f.path === '"\\376.js"')!;
    expect(ff.blob).toBe(lsTree.get('"\\377.js"'));
    expect(fe.blob).toBe(lsTree.get('"\\376.js"'));
    expect(ff.messages.map((m) => m.ruleId)).toEqual(["no-unused-vars"]);
    expect(fe.messages.map((m) => m.ruleId)).toEqual(["no-debugger"]);
  }, 90_000);
});

describe("issue 9: identical requests are one analysis", () => {
  /** A repo of `n` commits, one file each (shas are reproducible: the name keeps repos apart). */
  function history(name: string, n: number): TestRepo {
    const r = new TestRepo(path.join(env.work, name));
    for (let i = 0; i < n; i++) r.commit(`${name} c${i}`, { [`src/f${i}.js`]: `const unused${i} = ${i};\nmodule.exports = {};\n` });
    return r;
  }

  it("five identical repo.new_sha published together: one analysis, one manifest and one .completed per commit", async () => {
    const r = history("five", 12);
    const before = ingestStats();
    const queuedBefore = await manifestsQueued();
    const after = env.client.events.length;
    for (let i = 0; i < 5; i++) env.client.newSha({ repo: r.dir, sha: r.shas.at(-1), history: 11 });
    await env.client.completed(r.shas, 120_000, { after });
    // Every request settled and nothing left in any queue: a second run would have shown by now.
    await env.client.settled();
    for (const sha of r.shas) expect(completedOf(sha, after), sha).toHaveLength(1);
    expect((await manifestsQueued()) - queuedBefore).toBe(12);
    const now = ingestStats();
    expect(now.analyses - before.analyses).toBe(1);
    expect(now.joined - before.joined).toBe(4);
  }, 180_000);

  it("when the analysis fails, every joined request fails with it (each dead-lettered), announced once", async () => {
    const r = history("five-bad", 1);
    const sha = "2".repeat(40);
    const before = ingestStats();
    const failedBefore = env.client.of("failed").length;
    for (let i = 0; i < 5; i++) env.client.newSha({ repo: r.dir, sha });
    await waitFor(
      "five dead-letter entries",
      async () => (await env.cluster.farm.dlq.list({ subject: "repo.request" })).filter((d) => d.reason.includes(sha)).length === 5,
      60_000,
    );
    // Each request announces its failure (or not) before it is dead-lettered: all five have, and the client has what they sent.
    await env.client.settled();
    expect(
      env.client
        .of("failed")
        .slice(failedBefore)
        .filter((e) => e.sha === sha),
    ).toHaveLength(1);
    expect(ingestStats().analyses - before.analyses).toBe(1);
  }, 90_000);

  it("the same request on two ingest instances at once: each commit queued once, completed once", async () => {
    const r = history("two-instances", 6);
    const payload = JSON.stringify({ repo: r.dir, sha: r.shas.at(-1), history: 5 });
    // A second ingest with its own mirrors, as on another host; it gets its copy directly.
    const objects = await Objects.open(env.cluster.farm.nc);
    const reports = await ReportStore.open(env.cluster.farm.nc, objects, await ResultCache.open(env.cluster.farm.nc, objects));
    const log = createLogger({ level: "silent" });
    const config = testConfig(path.join(env.work, "data-b"));
    const other = new Ingest({ farm: env.cluster.farm, config, log, objects, reports, mirrors: new Mirrors({ dataDir: config.dataDir, allowLocal: true }) });
    const ctx: TaskContext = {
      id: "REPOS.other",
      subject: "repo.request",
      via: "distribute",
      attempt: 1,
      maxDeliver: 5,
      log,
      signal: new AbortController().signal,
      working: () => {},
    };
    // Both in one dedupe time bucket (5 s): start early in one.
    await waitFor("the start of a time bucket", () => Date.now() % 5000 < 500, 6000, 20);
    const queuedBefore = await manifestsQueued();
    const duplicatesBefore = ingestStats().duplicateManifests;
    const after = env.client.events.length;
    env.client.newSha(JSON.parse(payload) as Record<string, unknown>);
    await other.onRequest(new TextEncoder().encode(payload), ctx);
    await env.client.completed(r.shas, 120_000, { after });
    // Both requests settled and nothing left in any queue: a second queuing of the commits would have shown by now.
    await env.client.settled();
    expect((await manifestsQueued()) - queuedBefore).toBe(6);
    for (const sha of r.shas) expect(completedOf(sha, after), sha).toHaveLength(1);
    // Both ran; between them, the stream dropped one copy of each manifest.
    expect(other.stats().analyses).toBe(1);
    expect(other.stats().duplicateManifests + ingestStats().duplicateManifests - duplicatesBefore).toBe(6);
  }, 180_000);
});
