/**
 * The NATS services protocol (ADR-32) as an operator's tool sees it: a plain
 * NATS client (no farm code) pings, lists and reads the stats of the four
 * services of a running pipeline over `$SRV`, and the counts are the work the
 * pipeline did, measured independently (the work queues' sequence numbers).
 */
import path from "node:path";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { connect, errors, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SERVICE_NAMES } from "../../../services/index.js";
import {
  describeService,
  endpointStats,
  EndpointStats,
  responseTypes,
  type InfoResponse,
  type PingResponse,
  type StatsResponse,
  type EndpointStatsResponse,
} from "../../../shared/fabric/discovery.js";
import { ErrorCodes, FarmError, PermanentError } from "../../../shared/fabric/errors.js";
import type { TaskInfo } from "../../../shared/fabric/worker/observers.js";
import { FARM_VERSION } from "../../../shared/fabric/version.js";
import { whoIsUp } from "../../../shared/fabric/presence.js";
import { TestRepo } from "../../harness/git.js";
import { usePipeline } from "../../harness/pipeline.js";
import { waitFor } from "../../harness/wait.js";
import { PipelineErrorCodes } from "../../../shared/pipeline/errors.js";

const p = usePipeline({ prefix: "farm-discovery-" });
let nc: NatsConnection;
let jsm: JetStreamManager;

beforeAll(async () => {
  nc = await connect({ servers: p.server.url, name: "srv-client" });
  jsm = await jetstreamManager(nc);
});
afterAll(async () => {
  if (nc && !nc.isClosed()) await nc.drain();
});

/** Every answer within a second (as `nats micro ls` collects them); none when nobody listens. */
async function ask<T>(subject: string): Promise<T[]> {
  const out: T[] = [];
  try {
    for await (const m of await nc.requestMany(subject, undefined, { strategy: "timer", maxWait: 1000 })) out.push(m.json<T>());
  } catch (err) {
    if (!(err instanceof errors.NoRespondersError)) throw err;
  }
  return out;
}

async function one<T>(subject: string): Promise<T> {
  return (await nc.request(subject, undefined, { timeout: 5000 })).json<T>();
}

async function idOf(name: string): Promise<string> {
  return (await one<PingResponse>(`$SRV.PING.${name}`)).id;
}

/** One service instance's stats, by endpoint subject. */
async function statsOf(name: string): Promise<Map<string, EndpointStatsResponse>> {
  const s = await one<StatsResponse>(`$SRV.STATS.${name}.${await idOf(name)}`);
  return new Map(s.endpoints.map((e) => [e.subject, e]));
}

/** Messages ever stored in a work queue: its last sequence (acked ones are gone, their numbers stay). */
async function stored(stream: string): Promise<number> {
  return (await jsm.streams.info(stream)).state.last_seq;
}

const isNanos = (n: unknown) => Number.isInteger(n) && (n as number) >= 0;

describe("$SRV from a plain NATS client", () => {
  test("PING lists the four pipeline services, each instance with an id of its own and farm's version", async () => {
    const pings = await ask<PingResponse>("$SRV.PING");
    expect(pings.map((x) => x.name).sort()).toEqual([...SERVICE_NAMES].sort());
    expect(new Set(pings.map((x) => x.id)).size).toBe(SERVICE_NAMES.length);
    for (const x of pings) {
      expect(x).toMatchObject({ type: responseTypes.PING, version: FARM_VERSION, metadata: { pid: String(process.pid) } });
      expect(x.name).toMatch(/^[A-Za-z0-9_-]+$/);
    }
    // By name: that service alone; by name and id: that instance alone.
    const runner = await ask<PingResponse>("$SRV.PING.linter-runner");
    expect(runner.map((x) => x.name)).toEqual(["linter-runner"]);
    const byId = await ask<PingResponse>(`$SRV.PING.linter-runner.${runner[0].id}`);
    expect(byId.map((x) => x.id)).toEqual([runner[0].id]);
    expect(await ask(`$SRV.PING.splitter.${runner[0].id}`)).toEqual([]);
    // farm status (presence) names each instance by the same id.
    const present = await whoIsUp(nc, 1000);
    expect(present.map((p) => [p.service, p.id]).sort()).toEqual(pings.map((x) => [x.name, x.id]).sort());
  });

  test("INFO of linter-runner lists its endpoints: lint.batch from its work queue and requests, lint.file by requests only", async () => {
    const [info, ...more] = await ask<InfoResponse>("$SRV.INFO.linter-runner");
    expect(more).toEqual([]);
    expect(info).toMatchObject({ type: responseTypes.INFO, name: "linter-runner", version: FARM_VERSION, description: expect.any(String) as string });
    expect(info.endpoints).toEqual([
      { name: "lint_batch", subject: "lint.batch", queue_group: "farm.lint.batch", metadata: { requests: "true", stream: "LINT", consumer: "lint_batch" } },
      { name: "lint_file", subject: "lint.file", queue_group: "farm.lint.file", metadata: { requests: "true" } },
    ]);
  });

  test("INFO of every service lists only its own workers; ingest's repo.new_sha and repo.request are work queues taking no requests", async () => {
    const infos = new Map((await ask<InfoResponse>("$SRV.INFO")).map((i) => [i.name, i.endpoints.map((e) => e.subject)]));
    expect(Object.fromEntries(infos)).toEqual({
      ingest: ["repo.new_sha", "repo.request"],
      splitter: ["commit.manifest"],
      "linter-runner": ["lint.batch", "lint.file"],
      aggregator: ["results.lint", "results.commit_files", "report.get", "history.repos", "history.commits", "history.issues", "history.file"],
    });
    const [ingest] = await ask<InfoResponse>("$SRV.INFO.ingest");
    expect(ingest.endpoints).toEqual([
      { name: "repo_new_sha", subject: "repo.new_sha", metadata: { requests: "false", stream: "REPOS", consumer: "repo_new_sha" } },
      { name: "repo_request", subject: "repo.request", metadata: { requests: "false", stream: "REPOS", consumer: "repo_request" } },
    ]);
  });

  test("after one analysis of a 3-commit repository, each endpoint's num_requests is the work the pipeline did", async () => {
    const repo = new TestRepo(path.join(p.work, "three"));
    repo.commit("root", { "package.json": '{"name":"srv"}\n', "a.js": "const unused = 1;\n" });
    repo.commit("second", { "b.js": "debugger;\n", "lib/c.js": "module.exports = missing;\n" });
    repo.commit("third", { "a.js": "module.exports = 1;\n" });
    const streams = ["REPOS", "COMMITS", "LINT", "RESULTS"] as const;
    const seqBefore = Object.fromEntries(await Promise.all(streams.map(async (s) => [s, await stored(s)] as const)));
    const before = {
      ingest: await statsOf("ingest"),
      splitter: await statsOf("splitter"),
      runner: await statsOf("linter-runner"),
      aggregator: await statsOf("aggregator"),
    };

    p.client.newSha({ repo: repo.dir, sha: repo.shas[2], history: 2 });
    await p.client.completed(repo.shas, 120_000, { requested: true });
    await p.client.settled();
    await p.client.report(repo.dir, repo.shas[2]);
    await p.client.request("lint.file", { path: "x.js", content: "const unused = 1;\n" });

    const done = Object.fromEntries(await Promise.all(streams.map(async (s) => [s, (await stored(s)) - seqBefore[s]] as const)));
    // What the pipeline did, seen in its streams: one request (and its admitted copy), a manifest per commit, some batches, their results.
    expect(done.REPOS).toBe(2);
    expect(done.COMMITS).toBe(repo.shas.length);
    expect(done.LINT).toBeGreaterThan(0);

    const after = {
      ingest: await statsOf("ingest"),
      splitter: await statsOf("splitter"),
      runner: await statsOf("linter-runner"),
      aggregator: await statsOf("aggregator"),
    };
    type Which = keyof typeof after;
    const delta = (which: Which, subject: string) => {
      const a = after[which].get(subject)!;
      const b = before[which].get(subject)!;
      return { requests: a.num_requests - b.num_requests, errors: a.num_errors - b.num_errors };
    };
    expect(delta("ingest", "repo.new_sha")).toEqual({ requests: 1, errors: 0 });
    expect(delta("ingest", "repo.request")).toEqual({ requests: 1, errors: 0 });
    expect(delta("splitter", "commit.manifest")).toEqual({ requests: done.COMMITS, errors: 0 });
    expect(delta("runner", "lint.batch")).toEqual({ requests: done.LINT, errors: 0 });
    expect(delta("runner", "lint.file")).toEqual({ requests: 1, errors: 0 });
    // RESULTS holds both: each batch's results and each commit's file list (one per commit).
    expect(delta("aggregator", "results.commit_files")).toEqual({ requests: repo.shas.length, errors: 0 });
    expect(delta("aggregator", "results.lint").requests + delta("aggregator", "results.commit_files").requests).toBe(done.RESULTS);
    expect(delta("aggregator", "report.get")).toEqual({ requests: 1, errors: 0 });
    expect(delta("aggregator", "history.file")).toEqual({ requests: 0, errors: 0 });

    for (const stats of Object.values(after)) {
      for (const e of stats.values()) {
        expect(isNanos(e.processing_time) && isNanos(e.average_processing_time), e.subject).toBe(true);
        if (e.num_requests) expect(e.average_processing_time).toBe(Math.round(e.processing_time / e.num_requests));
        expect(e.data.in_flight).toBe(0);
      }
    }
    expect(after.runner.get("lint.batch")!.processing_time).toBeGreaterThan(0);
  }, 180_000);

  test("a repo.new_sha that fails for good counts as an error of ingest's endpoint, its code and message in last_error", async () => {
    const before = (await statsOf("ingest")).get("repo.new_sha")!;
    const failedBefore = p.client.of("failed").length;
    p.client.newSha({ repo: path.join(p.work, "nowhere"), sha: "not-a-sha" });
    const failed = await waitFor("the failed event", () => p.client.of("failed")[failedBefore], 30_000);
    const after = await waitFor(
      "the dead letter counted",
      async () => {
        const e = (await statsOf("ingest")).get("repo.new_sha")!;
        return e.data.dead_lettered > before.data.dead_lettered ? e : undefined;
      },
      10_000,
    );
    expect(after.num_requests - before.num_requests).toBe(1);
    expect(after.num_errors - before.num_errors).toBe(1);
    const [, code, message] = /^(E_[A-Z_]+): (.*)$/s.exec(after.last_error) ?? [];
    expect(Object.values(ErrorCodes)).toContain(code);
    expect(message).toContain(failed.reason);
    expect(after.last_error).toMatch(/must be a full/);
    // An error of one service is not another's.
    expect([...(await statsOf("splitter")).values()].map((e) => e.last_error)).toEqual([""]);
  });

  test("the services of one farm share one stats observer", () => {
    expect(endpointStats(p.cluster.farm)).toBe(endpointStats(p.cluster.farm));
  });
});

describe("the responses' shapes, without a server", () => {
  const task = (subject: string): TaskInfo => ({ id: "t", subject, via: "distribute", attempt: 1 });

  test("STATS counts each run once, a throw as an error with its farm code, in integer nanoseconds", async () => {
    const stats = new EndpointStats();
    await stats.around(task("jobs.a"), () => Promise.resolve(1));
    await expect(stats.around(task("jobs.a"), () => Promise.reject(new PermanentError("bad order", ErrorCodes.InvalidInput)))).rejects.toThrow("bad order");
    await expect(stats.around(task("jobs.b"), () => Promise.reject(new Error("plain")))).rejects.toThrow("plain");
    stats.deadLettered("jobs.a");
    const endpoints = [
      { subject: "jobs.a", queueGroup: "farm.jobs.a", requests: true, workQueue: { stream: "JOBS", consumer: "jobs_a" } },
      { subject: "jobs.b", requests: false },
      { subject: "jobs.c", requests: true, queueGroup: "farm.jobs.c" },
    ];
    const started = new Date("2026-01-02T03:04:05.678Z");
    const svc = describeService({ name: "my_svc-1", endpoints }, stats, "ID1", started);
    const s = svc.stats();
    expect(s).toMatchObject({
      type: "io.nats.micro.v1.stats_response",
      name: "my_svc-1",
      id: "ID1",
      version: FARM_VERSION,
      started: "2026-01-02T03:04:05.678Z",
    });
    expect(Object.values(s.metadata).every((v) => typeof v === "string")).toBe(true);
    const [a, b, c] = s.endpoints;
    expect(a).toMatchObject({
      name: "jobs_a",
      subject: "jobs.a",
      queue_group: "farm.jobs.a",
      num_requests: 2,
      num_errors: 1,
      last_error: `${ErrorCodes.InvalidInput}: bad order`,
      data: { in_flight: 0, dead_lettered: 1 },
    });
    expect(b).toMatchObject({ name: "jobs_b", num_requests: 1, num_errors: 1, last_error: "plain" });
    expect(b).not.toHaveProperty("queue_group");
    expect(c).toMatchObject({ num_requests: 0, num_errors: 0, last_error: "", processing_time: 0, average_processing_time: 0 });
    for (const e of s.endpoints) expect(isNanos(e.processing_time) && isNanos(e.average_processing_time)).toBe(true);
    expect(a.average_processing_time).toBe(Math.round(a.processing_time / 2));

    expect(svc.ping()).toEqual({ type: "io.nats.micro.v1.ping_response", name: "my_svc-1", id: "ID1", version: FARM_VERSION, metadata: s.metadata });
    const info = svc.info();
    expect(info).toMatchObject({ type: "io.nats.micro.v1.info_response", description: "farm my_svc-1" });
    expect(info.endpoints[1]).toEqual({ name: "jobs_b", subject: "jobs.b", metadata: { requests: "false" } });
  });

  test("last_error keeps no credentials of a clone url", async () => {
    const stats = new EndpointStats();
    const err = new FarmError("fetch https://bob:s3cret@git.example/r.git failed", PipelineErrorCodes.Git);
    await expect(stats.around(task("repo.new_sha"), () => Promise.reject(err))).rejects.toBe(err);
    expect(stats.of("repo.new_sha").lastError).toBe(`${PipelineErrorCodes.Git}: fetch https://***@git.example/r.git failed`);
  });

  test("a name ADR-32 does not allow is refused", () => {
    expect(() => describeService({ name: "lint.runner" }, new EndpointStats())).toThrow(/ADR-32/);
  });
});
