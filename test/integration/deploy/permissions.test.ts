/**
 * The per-service NATS users of deploy/nats/auth.conf, against a real
 * nats-server: what a user may not do is refused by the server, and every
 * service still does its whole job under its own user (a full analysis, with
 * no permission error on any service's connection).
 */
import path from "node:path";
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { Farm } from "../../../shared/fabric/index.js";
import { connectPipeline } from "../../../shared/pipeline/topology.js";
import { subjects, buckets } from "../../../shared/pipeline/names.js";
import { Objects } from "../../../shared/pipeline/stores/index.js";
import { EventLog } from "../../../shared/pipeline/event-log.js";
import { whoIsUp } from "../../../shared/fabric/presence.js";
import { fetchReport, isReportReference } from "../../../shared/pipeline/report-client.js";
import { request } from "../../../shared/pipeline/request.js";
import type { Report } from "../../../shared/pipeline/report.js";
import { SERVICE_NAMES, startServices, stopServices } from "../../../services/index.js";
import type { NatsServer } from "../../harness/nats-server.js";
import { spawnNode, type Child } from "../../harness/children.js";
import { quietLog } from "../../harness/farms.js";
import { useTempDir } from "../../harness/files.js";
import { TestRepo } from "../../harness/git.js";
import { collectErrors, testConfig } from "../../harness/pipeline.js";
import { waitFor, within } from "../../harness/wait.js";
import { connectAsClient, inboxOf, makeRepo, repoRoot, startAuthServer, startService, type RunningService, type UserName } from "../../harness/deploy.js";

const PERMISSION = /permissions? violation/i;

const tmp = useTempDir("farm-deploy-perm-");
let server: NatsServer;
let passwords: Record<UserName, string>;
const conns: NatsConnection[] = [];

async function as(user: UserName, password = passwords[user]): Promise<NatsConnection> {
  const nc = await connect({ servers: server.url, user, pass: password, name: `test-${user}`, inboxPrefix: inboxOf(user) });
  conns.push(nc);
  return nc;
}

/** What the farm CLI's client commands do (`farm publish`, `farm report`, `farm events`), as farm-client. */
function clientFarm(): Promise<Farm> {
  return connectAsClient(server.url, passwords);
}

/**
 * The four services, each on its own connection under its own user (metrics on: a scrape reads
 * JetStream under the service's own user too), for the tests of one describe block: started before
 * them, stopped after them. `dir` under the temp dir is their data dir.
 */
function useServices(dir: string): RunningService[] {
  const running: RunningService[] = [];
  beforeAll(async () => {
    for (const name of SERVICE_NAMES) {
      const auth = { user: name, password: passwords[name], inboxPrefix: inboxOf(name) };
      running.push(await startService(name, server.url, auth, { dataDir: path.join(tmp, dir), metricsPort: 0 }));
    }
  });
  afterAll(async () => {
    for (const s of running.splice(0).reverse()) await s.close().catch(() => {});
  });
  return running;
}

/** Publishes `{repo, sha}` as farm-client and waits for the commit's .completed. */
async function analyzeAsClient(client: Farm, repo: string, sha: string): Promise<void> {
  let done = false;
  const sub = client.events.subscribe<{ sha: string }>(subjects.completed, (e) => void (e.sha === sha && (done = true)));
  await client.nc.flush();
  await client.js.publish(subjects.newSha, JSON.stringify({ repo, sha }));
  await waitFor(`the analysis of ${sha}`, () => done, 90_000);
  sub.unsubscribe();
}

beforeAll(async () => {
  ({ server, passwords } = await startAuthServer(path.join(tmp, "nats")));
  // The topology exists (as it does in a running cluster): every refusal below is a permission, not a missing stream.
  const admin = await connectPipeline({ servers: server.url, user: "farm-admin", password: passwords["farm-admin"], log: quietLog() });
  await admin.close();
});

afterAll(async () => {
  for (const nc of conns) await nc.close().catch(() => {});
  await server?.dispose();
});

describe("authentication", () => {
  test("no anonymous access, no wrong password", async () => {
    await expect(connect({ servers: server.url, timeout: 3000 })).rejects.toThrow(/authorization/i);
    await expect(connect({ servers: server.url, user: "linter-runner", pass: "wrong", timeout: 3000 })).rejects.toThrow(/authorization/i);
  });
});

describe("what a user may not do", () => {
  test("linter-runner cannot publish repo.new_sha", async () => {
    const nc = await as("linter-runner");
    const errors = collectErrors(nc);
    // As a JetStream publish (what `farm publish` does): refused at once.
    await expect(jetstream(nc).publish(subjects.newSha, JSON.stringify({ repo: "/x", sha: "a".repeat(40) }))).rejects.toThrow(PERMISSION);
    // As a plain publish: the server drops it and says so; a listener sees nothing.
    const admin = await as("farm-admin");
    const seen: string[] = [];
    const sub = admin.subscribe(subjects.newSha, { callback: (_e, m) => void seen.push(m.string()) });
    await admin.flush();
    nc.publish(subjects.newSha, "from linter-runner");
    await nc.flush();
    await waitFor("the publish violation", () => errors.some((e) => PERMISSION.test(e) && e.includes(subjects.newSha)), 5000);
    await admin.flush();
    expect(seen).toEqual([]);
    sub.unsubscribe();
  });

  test("linter-runner cannot read reports", async () => {
    const nc = await as("linter-runner");
    const kv = await new Kvm(nc).open(buckets.reports);
    await expect(kv.get("any.key")).rejects.toThrow(PERMISSION);
    await expect(
      kv.keys().then(async (it) => {
        const keys: string[] = [];
        for await (const k of it) keys.push(k);
        return keys;
      }),
    ).rejects.toThrow(PERMISSION);
    // Nor ask the aggregator for one.
    await expect(nc.request(subjects.reportGet, JSON.stringify({ repo: "/x", sha: "a".repeat(40) }), { timeout: 3000 })).rejects.toThrow(PERMISSION);
    // Nor write one.
    await expect(kv.put("any.key", "forged")).rejects.toThrow(PERMISSION);
  });

  test("a service cannot change or remove the topology", async () => {
    const jsm = await jetstreamManager(await as("linter-runner"));
    await expect(jsm.streams.delete("REPOS")).rejects.toThrow(PERMISSION);
    await expect(jsm.streams.purge("LINT")).rejects.toThrow(PERMISSION);
    await expect(jsm.streams.update("LINT", { subjects: ["q.lint.>", "repo.new_sha"] })).rejects.toThrow(PERMISSION);
    // Nor consume another stage's queue.
    await expect(jsm.consumers.add("REPOS", { durable_name: "repo_new_sha", ack_policy: AckPolicy.Explicit })).rejects.toThrow(PERMISSION);
  });

  test("the client user cannot consume the LINT work queue", async () => {
    const nc = await as("farm-client");
    const errors = collectErrors(nc);
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    await expect(jsm.consumers.add("LINT", { durable_name: "thief", ack_policy: AckPolicy.Explicit })).rejects.toThrow(PERMISSION);
    await expect(js.consumers.get("LINT", "lint_batch")).rejects.toThrow(PERMISSION);
    await expect(nc.request("$JS.API.CONSUMER.MSG.NEXT.LINT.lint_batch", JSON.stringify({ batch: 1 }), { timeout: 3000 })).rejects.toThrow(PERMISSION);
    // Nor listen on the queued subject or take lint requests.
    nc.subscribe("q.lint.>");
    nc.subscribe(subjects.lintBatch);
    await nc.flush();
    await waitFor("the subscription violations", () => errors.filter((e) => PERMISSION.test(e)).length >= 2, 5000);
    // Nor put work into it.
    await expect(js.publish("q.lint.batch", "{}")).rejects.toThrow(PERMISSION);
    // Nor read the object store or the result cache.
    await expect(nc.request("$JS.API.STREAM.MSG.GET.OBJ_farm-blobs", JSON.stringify({ last_by_subj: "$O.farm-blobs.M.x" }), { timeout: 3000 })).rejects.toThrow(PERMISSION);
    await expect(nc.request("$JS.API.DIRECT.GET.OBJ_farm-blobs.$O.farm-blobs.M.x", "", { timeout: 3000 })).rejects.toThrow(PERMISSION);
    await expect(nc.request("$JS.API.DIRECT.GET.OBJ_farm-blobs", JSON.stringify({ seq: 1, next_by_subj: "$O.farm-blobs.C.x" }), { timeout: 3000 })).rejects.toThrow(PERMISSION);
    await expect((await new Kvm(nc).open(buckets.results)).get("k")).rejects.toThrow(PERMISSION);
  });
});

describe("inboxes", () => {
  test("no user can listen on another user's inbox or the shared _INBOX, nor publish into an inbox unasked", async () => {
    const runner = await as("linter-runner");
    const errors = collectErrors(runner);
    runner.subscribe("_INBOX_farm-client.>");
    runner.subscribe("_INBOX.>");
    await runner.flush();
    await waitFor("two subscription violations", () => errors.filter((e) => PERMISSION.test(e) && /subscription/i.test(e)).length >= 2, 5000);

    // A forged reply: linter-runner publishing into the client's inbox when no request reached it.
    const client = await as("farm-client");
    const seen: string[] = [];
    client.subscribe("_INBOX_farm-client.forged", { callback: (_e, m) => void seen.push(m.string()) });
    await client.flush();
    runner.publish("_INBOX_farm-client.forged", "not an answer");
    await runner.flush();
    await waitFor("the publish violation", () => errors.some((e) => PERMISSION.test(e) && e.includes("_INBOX_farm-client.forged")), 5000);
    await client.flush();
    expect(seen).toEqual([]);
  });

  test("a service user connecting with the shared inbox prefix is refused its replies: it must set NATS_INBOX_PREFIX", async () => {
    const nc = await connect({ servers: server.url, user: "aggregator", pass: passwords.aggregator, name: "test-default-inbox" });
    conns.push(nc);
    await expect(jetstreamManager(nc, { timeout: 3000 })).rejects.toThrow(PERMISSION);
  });
});

describe("every service under its own user", () => {
  const running = useServices("data");

  test("every reader of the object store reads a large object of many chunks by message gets alone", async () => {
    // No consumer and no flow control: a reader granted only STREAM.MSG.GET on the store reads it whole.
    const admin = await as("farm-admin");
    const big = new Uint8Array(4 * 1024 * 1024).map((_, i) => (i * 7) % 251);
    await (await Objects.open(admin)).putBytes("test/big", big);
    for (const user of ["splitter", "linter-runner", "aggregator"] as const) {
      const nc = await as(user);
      const errors = collectErrors(nc);
      const objects = await Objects.open(nc);
      const got = await within(objects.getBytes("test/big"), 10_000, "stalled" as const);
      expect({ user, size: got === "stalled" ? got : got?.length, errors }).toEqual({ user, size: big.length, errors: [] });
    }
  });

  test("the four services run a full analysis; a client user asks and reads", async () => {
    const client = await clientFarm();
    const clientErrors = collectErrors(client.nc);
    try {
      const completed = new Set<string>();
      const failed: unknown[] = [];
      client.events.subscribe<{ sha: string; requested?: boolean }>("repo.analysis.>", (e, subject) => {
        if (subject === subjects.completed && e.requested) completed.add(e.sha);
        if (subject === subjects.failed) failed.push(e);
      });
      await client.nc.flush();

      const repo = path.join(tmp, "repo");
      const shas = makeRepo(repo, 4);
      const head = shas.at(-1)!;
      // A request ingest must refuse: it is dead-lettered (ingest parks it in DLQ) and reported as failed.
      const bad = { repo, sha: "not-a-sha" };
      await client.js.publish(subjects.newSha, JSON.stringify(bad));
      await waitFor("the failed event", () => failed.length > 0, 30_000);
      expect(failed).toEqual([expect.objectContaining({ repo: bad.repo, sha: bad.sha })]);
      failed.length = 0;

      const ack = await client.js.publish(subjects.newSha, JSON.stringify({ repo, sha: head, history: 2 }));
      expect(ack.stream).toBe("REPOS");
      await waitFor("three completed commits", () => {
        if (failed.length) throw new Error(`analysis failed: ${JSON.stringify(failed)}`);
        return completed.size >= 3;
      }, 90_000);
      expect([...completed].sort()).toEqual(shas.slice(-3).sort());
      // What a subscriber that was not listening reads back: each commit's .completed, once.
      const logged: string[] = [];
      for await (const e of new EventLog(client.jsm).read({ pattern: subjects.completed })) {
        const p = e.payload as { repo: string; sha: string; requested: boolean };
        if (p.requested && p.repo === repo) logged.push(p.sha);
      }
      expect(logged.sort()).toEqual(shas.slice(-3).sort());

      const report = await fetchReport<Report>(client, { repo, sha: head }, 30_000);
      expect(report.sha).toBe(head);
      expect(report.parent).toBe(shas.at(-2));
      expect(report.files.map((f) => f.path).sort()).toEqual(["index.js", "lib/broken.js", "lib/m0.js", "lib/m1.js", "lib/m2.js", "lib/m3.js"]);
      expect(report.summary.errors).toBeGreaterThan(0);
      expect(report.delta).not.toBeNull();

      // Presence answers (what `farm status` and the container healthcheck ask), seen by the operator user.
      const admin = await connectPipeline({ servers: server.url, user: "farm-admin", password: passwords["farm-admin"], ensureTopology: false, log: quietLog() });
      try {
        const up = await waitFor("every service's presence", async () => {
          const p = await whoIsUp(admin.nc, 1000);
          return SERVICE_NAMES.every((n) => p.some((x) => x.service === n)) ? p : undefined;
        }, 10_000);
        expect(up.map((p) => p.service).sort()).toEqual([...SERVICE_NAMES].sort());
        // linter-runner serves lint.file under its own user.
        const linted = await request(admin, subjects.lintFile, { path: "a.js", content: "const unused = 1;\n" }, { timeout: 30_000 });
        expect(linted.messages.map((m) => m.ruleId)).toContain("no-unused-vars");
        // The aggregator, under its own user, indexed the repository (KV farm-state) and serves the history API.
        const { repos } = await request(admin, subjects.historyRepos, {}, { timeout: 30_000 });
        expect(repos.filter((r) => r.repo === repo)).toEqual([expect.objectContaining({ repo, sha: head })]);
        const page = await request(admin, subjects.historyCommits, { repo, limit: 10 }, { timeout: 30_000 });
        // The three requested commits and the baseline analysed for the oldest one's delta.
        expect(page.commits.map((c) => c.sha)).toEqual([...shas].reverse());
        expect(page.next).toBeNull();
        // The refused request is in the dead-letter stream, parked by ingest under its own user.
        const parked = await waitFor("the dead letter", async () => (await admin.dlq.list()).find((d) => d.stream === "REPOS" && d.reason.includes(bad.sha)), 10_000);
        expect(parked.kind).toBe("permanent");
      } finally {
        await admin.close();
      }

      // Each service's /metrics, read under its own user: its own consumers' depth and every farm stream's count.
      for (const s of running) {
        const text = await (await fetch(s.operations.metricsUrl!)).text();
        const own = s.farm.workQueues();
        const fair = s.farm.fairQueues();
        expect(own.length + fair.length).toBeGreaterThan(0);
        for (const q of own) expect(text).toContain(`farm_consumer_pending_messages{stream="${q.stream}",consumer="${q.consumer}"} 0`);
        // Fair subjects are counted by lane and tenant from their stream (none left once the analysis is done).
        if (fair.length > 0) expect(text).toContain("# TYPE farm_fair_messages gauge");
        expect(text).toMatch(/^farm_stream_messages\{stream="EVENTS"\} [1-9]/m);
      }
      // Not one permission error on any service's connection, nor on the client's.
      for (const s of running) expect({ service: s.name, errors: s.errors }).toEqual({ service: s.name, errors: [] });
      expect(clientErrors).toEqual([]);
    } finally {
      await client.close();
    }
  }, 180_000);
});

describe("a report bigger than one message", () => {
  useServices("data-big");

  test("farm-client reads it whole through report.get alone (no object-store permission)", async () => {
    const big = new TestRepo(path.join(tmp, "big"));
    const sha = big.commit("many issues", { "big.js": "debugger;\n".repeat(8000) });
    const repo = big.dir;

    const client = await clientFarm();
    const errors = collectErrors(client.nc);
    try {
      await analyzeAsClient(client, repo, sha);
      // More than the server's 1 MB message limit: report.get answers a reference, then its parts.
      const ref = await request(client, subjects.reportGet, { repo, sha });
      expect(isReportReference(ref) ? ref.parts : 0).toBeGreaterThan(1);
      const report = await fetchReport<Report>(client, { repo, sha });
      expect(report.summary).toEqual({ files: 1, errors: 8000, warnings: 0 });
      expect(errors).toEqual([]);
    } finally {
      await client.close();
    }
  }, 120_000);
});

describe("the services protocol ($SRV) under each service's own user", () => {
  const running = useServices("data-srv");

  test("each service answers $SRV.PING and its own $SRV.STATS to the operator, with no permission error", async () => {
    // Work for every service: one analysis, asked as a client, of a file no other test has (no cached result spares the linter-runner).
    const client = await clientFarm();
    try {
      const repo = new TestRepo(path.join(tmp, "srv-repo"));
      await analyzeAsClient(client, repo.dir, repo.commit("one", { "srv.js": "const unusedBySrvTest = 1;\n" }));
    } finally {
      await client.close();
    }
    const admin = await as("farm-admin");
    const pings: { name: string; id: string }[] = [];
    for await (const m of await admin.requestMany("$SRV.PING", undefined, { strategy: "timer", maxWait: 1000 })) pings.push(m.json());
    expect(pings.map((p) => p.name).sort()).toEqual([...SERVICE_NAMES].sort());
    for (const { name, id } of pings) {
      const stats = (await admin.request(`$SRV.STATS.${name}.${id}`, undefined, { timeout: 5000 })).json<{ id: string; endpoints: { num_requests: number }[] }>();
      expect(stats.id).toBe(id);
      // Every service did work in that analysis, counted on its own connection's observer.
      expect(stats.endpoints.some((e) => e.num_requests > 0), name).toBe(true);
    }
    for (const s of running) expect({ service: s.name, errors: s.errors }).toEqual({ service: s.name, errors: [] });
  }, 120_000);

  test("the web service answers $SRV.INFO under the web user, with no endpoint and no permission error", async () => {
    // As `farm service web` connects: no topology of its own to create.
    const farm = await connectPipeline({ servers: server.url, user: "web", password: passwords.web, inboxPrefix: inboxOf("web"), ensureTopology: false, log: quietLog() });
    const errors = collectErrors(farm.nc);
    const config = testConfig(path.join(tmp, "data-web"), { webPort: 0 });
    const services = await startServices(["web"], { farm, config, log: quietLog() });
    try {
      const admin = await as("farm-admin");
      const info = (await admin.request("$SRV.INFO.web", undefined, { timeout: 5000 })).json<{ name: string; endpoints: unknown[] }>();
      expect(info).toMatchObject({ name: "web", endpoints: [] });
      await farm.nc.flush();
      expect(errors).toEqual([]);
    } finally {
      await stopServices(services);
      await farm.close();
    }
  });

  test("a service user may not ask another service's $SRV", async () => {
    await expect((await as("linter-runner")).request("$SRV.PING.ingest", undefined, { timeout: 3000 })).rejects.toThrow(PERMISSION);
  });
});

describe("the container healthcheck (deploy/healthcheck.mjs)", () => {
  const FARM_JS = path.join(repoRoot, "dist/cli/farm.js");
  const HEALTHCHECK = path.join(repoRoot, "deploy/healthcheck.mjs");
  let child: Child | undefined;

  afterAll(() => child?.stop("SIGKILL"));

  function healthcheck(env: Record<string, string>, ...args: string[]) {
    const r = spawnSync(process.execPath, [HEALTHCHECK, ...args], { cwd: repoRoot, env: { ...process.env, ...env }, encoding: "utf8", timeout: 30_000 });
    return { code: r.status, out: `${r.stdout}${r.stderr}`.trim() };
  }

  // The compiled CLI is what the image runs; `npm ci` builds it (prepare).
  test("healthy while `farm service splitter` runs under its own user; SIGTERM stops it cleanly", async () => {
    expect(existsSync(FARM_JS), `${FARM_JS} is missing: run npm run build`).toBe(true);
    const env = {
      NATS_URL: server.url,
      NATS_USER: "splitter",
      NATS_PASSWORD: passwords.splitter,
      NATS_INBOX_PREFIX: inboxOf("splitter")!,
      FARM_DATA_DIR: path.join(tmp, "data-hc"),
      FARM_LOG_LEVEL: "warn",
    };
    child = spawnNode([FARM_JS, "service", "splitter"], { env });
    const pid = String(child.pid);
    await waitFor("a healthy splitter", () => healthcheck({ ...env, FARM_HEALTHCHECK_PID: pid }).code === 0, 30_000, 500);
    expect(healthcheck({ ...env, FARM_HEALTHCHECK_PID: pid }, "--liveness")).toMatchObject({ code: 0 });
    // Another process is not the service: unhealthy.
    expect(healthcheck({ ...env, FARM_HEALTHCHECK_PID: String(process.pid) })).toMatchObject({ code: 1 });
    // NATS down: not ready, but still alive (it reconnects by itself).
    const dead = { ...env, NATS_URL: "nats://127.0.0.1:1", FARM_HEALTHCHECK_PID: pid };
    expect(healthcheck(dead)).toMatchObject({ code: 1 });
    expect(healthcheck(dead, "--liveness")).toMatchObject({ code: 0 });
    expect(await child.stop("SIGTERM"), child.output()).toBe(0);
  }, 90_000);
});
