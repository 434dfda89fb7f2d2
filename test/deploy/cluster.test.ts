/**
 * The distributed engine on a real 3-node JetStream cluster: streams and
 * buckets with 3 replicas, an analysis of many commits running, one node
 * SIGKILLed mid-run (the leader of the LINT stream). The analysis completes,
 * with reports identical to a fault-free run; the node then restarts and
 * catches up.
 */
import path from "node:path";
import { rmSync } from "node:fs";
import { afterAll, beforeAll, expect, test } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { NatsServer, freePort } from "../harness/nats-server.js";
import { Farm, subjects } from "../../shared/index.js";
import type { Report } from "../../shared/report.js";
import { SERVICE_NAMES } from "../../services/index.js";
import { makeRepo, quietLog, startService, tempDir, waitFor, type RunningService } from "./helpers.js";

/** Commits analyzed: enough that the kill lands mid-run. */
const COMMITS = Number(process.env.FARM_CLUSTER_TEST_COMMITS || 40);

let tmp: string;
let repo: string;
let shas: string[];
const servers: NatsServer[] = [];
const running: RunningService[] = [];
const conns: NatsConnection[] = [];

beforeAll(() => {
  tmp = tempDir("farm-deploy-cluster-");
  repo = path.join(tmp, "repo");
  shas = makeRepo(repo, COMMITS);
});

afterAll(async () => {
  for (const s of running.splice(0).reverse()) await s.close().catch(() => {});
  for (const nc of conns.splice(0)) await nc.close().catch(() => {});
  for (const s of servers.splice(0)) await s.dispose().catch(() => {});
  rmSync(tmp, { recursive: true, force: true });
});

/** Three nodes: each its own server_name, store dir, client and cluster port; one cluster name; routes to all. */
async function startCluster(dir: string): Promise<NatsServer[]> {
  const clusterPorts = [await freePort(), await freePort(), await freePort()];
  const routes = clusterPorts.map((p) => `nats://127.0.0.1:${p}`).join(",");
  const nodes = clusterPorts.map(
    (cport, i) =>
      new NatsServer({
        storeDir: path.join(dir, `n${i + 1}`),
        args: ["--server_name", `n${i + 1}`, "--cluster_name", "farm-test", "--cluster", `nats://127.0.0.1:${cport}`, "--routes", routes],
      }),
  );
  await Promise.all(nodes.map((n) => n.start()));
  servers.push(...nodes);
  return nodes;
}

async function admin(url: string): Promise<{ nc: NatsConnection; jsm: JetStreamManager }> {
  const nc = await connect({ servers: url.split(","), maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  conns.push(nc);
  // JetStream answers once the meta group has a leader.
  const jsm = await waitFor("JetStream on the cluster", async () => {
    const m = await jetstreamManager(nc);
    await m.getAccountInfo();
    return m;
  }, 30_000, 250);
  return { nc, jsm };
}

interface Run {
  reports: Map<string, Report>;
  completedBeforeFault?: number;
}

/**
 * Starts the four services (each its own connection, as its own process would
 * have), publishes the whole history, waits for every report. `fault` runs once
 * `faultAfter` commits have completed.
 */
async function analyze(url: string, replicas: number, dataDir: string, fault?: () => Promise<void>, faultAfter = 0): Promise<Run> {
  const services: RunningService[] = [];
  for (const name of SERVICE_NAMES) {
    const s = await startService(name, url, {}, { dataDir, replicas, concurrency: 2 });
    services.push(s);
    running.push(s);
  }
  const client = await Farm.connect({ servers: url, ensureTopology: false, log: quietLog("client") });
  const completed = new Set<string>();
  const failed: unknown[] = [];
  client.events.subscribe<{ sha: string; requested?: boolean }>("repo.analysis.>", (e, subject) => {
    if (subject === subjects.completed && e.requested) completed.add(e.sha);
    if (subject === subjects.failed) failed.push(e);
  });
  const run: Run = { reports: new Map() };
  try {
    await client.nc.flush();
    await client.js.publish(subjects.newSha, JSON.stringify({ repo, sha: shas.at(-1), history: shas.length - 1 }));
    if (fault) {
      await waitFor(`${faultAfter} completed commits`, () => completed.size >= faultAfter || failed.length > 0, 120_000, 50);
      run.completedBeforeFault = completed.size;
      await fault();
    }
    // Events are core messages (one can be lost in a failover): the reports are the truth.
    const missing = new Set(shas);
    await waitFor(
      "every report",
      async () => {
        if (failed.length) throw new Error(`analysis failed: ${JSON.stringify(failed)}`);
        for (const sha of [...missing]) {
          try {
            run.reports.set(sha, await client.jobs.send<Report>(subjects.reportGet, { repo, sha }, { timeout: 10_000 }));
            missing.delete(sha);
          } catch {
            break; // not there yet (or the aggregator is reconnecting): ask again
          }
        }
        return missing.size === 0;
      },
      240_000,
      500,
    );
    expect(failed).toEqual([]);
    expect(await client.dlq.list()).toEqual([]);
    return run;
  } finally {
    await client.close();
    for (const s of services) {
      await s.close();
      running.splice(running.indexOf(s), 1);
    }
  }
}

test(`${COMMITS} commits on 3 nodes with R3 streams survive a SIGKILLed node; reports identical to a fault-free run`, async () => {
  // Fault-free reference: one node, replicas 1.
  const t0 = Date.now();
  const single = await NatsServer.start({ storeDir: path.join(tmp, "single") });
  servers.push(single);
  const reference = await analyze(single.url, 1, path.join(tmp, "data-ref"));
  await single.dispose();
  servers.splice(servers.indexOf(single), 1);
  const refMs = Date.now() - t0;
  expect(reference.reports.size).toBe(COMMITS);

  // The cluster.
  const nodes = await startCluster(path.join(tmp, "cluster"));
  const url = nodes.map((n) => n.url).join(",");
  const { jsm } = await admin(url);

  let killed: NatsServer | undefined;
  const t1 = Date.now();
  const faulted = await analyze(url, 3, path.join(tmp, "data-cluster"), async () => {
    const lint = await jsm.streams.info("LINT");
    expect(lint.config.num_replicas).toBe(3);
    expect(lint.cluster?.replicas?.length).toBe(2);
    const leader = lint.cluster!.leader!;
    killed = nodes[Number(leader.slice(1)) - 1];
    await killed.stop("SIGKILL");
  }, Math.max(2, Math.floor(COMMITS / 5)));
  const faultMs = Date.now() - t1;
  expect(killed).toBeDefined();
  // The kill landed mid-run, not after the end.
  expect(faulted.completedBeforeFault!).toBeLessThan(COMMITS);

  // Same reports, commit for commit.
  for (const sha of shas) expect({ sha, report: faulted.reports.get(sha) }).toEqual({ sha, report: reference.reports.get(sha) });

  // The node comes back and catches up: every stream and bucket has 3 current replicas again.
  await killed!.start();
  await waitFor(
    "every stream with 3 current replicas",
    async () => {
      for await (const si of jsm.streams.list()) {
        if (si.config.num_replicas !== 3) throw new Error(`${si.config.name} has ${si.config.num_replicas} replicas`);
        const peers = si.cluster?.replicas ?? [];
        if (!si.cluster?.leader || peers.length !== 2 || peers.some((p) => !p.current || p.offline)) return false;
      }
      return true;
    },
    60_000,
    500,
  );
  console.log(
    `cluster test: ${COMMITS} commits; fault-free (1 node) ${refMs} ms; 3 nodes with ${killed!.url} killed after ` +
      `${faulted.completedBeforeFault} commits: ${faultMs} ms`,
  );
}, 600_000);
