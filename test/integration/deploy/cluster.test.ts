/**
 * The distributed engine on a real 3-node JetStream cluster (each node its own
 * server_name, store dir, client and cluster port; one cluster name; routes to
 * all), streams and buckets with 3 replicas, an analysis of many commits
 * running, one node SIGKILLed mid-run (the leader of the LINT stream). The
 * analysis completes with reports identical to a fault-free run, nothing is
 * dead-lettered, and the restarted node catches up.
 *
 * Twice: the node back 10 s later while the analysis still runs, and the node
 * down until the analysis has completed. (The second stalled while objects were
 * read through the client's R1 ordered consumer, which nats-server 2.9.10 may
 * place on the offline peer; shared/pipeline/stores/objects.ts reads them by message get now.)
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { NatsServer, freePort } from "../../harness/nats-server.js";
import { connectPipeline } from "../../../shared/pipeline/topology.js";
import { subjects } from "../../../shared/pipeline/names.js";
import type { Report } from "../../../shared/pipeline/report.js";
import { fetchReport } from "../../../shared/pipeline/report-client.js";
import { SERVICE_NAMES } from "../../../services/index.js";
import { createLogger } from "../../../shared/fabric/logger.js";
import { quietLog } from "../../harness/farms.js";
import { useTempDir } from "../../harness/files.js";
import { waitFor } from "../../harness/wait.js";
import { makeRepo, startService, type RunningService } from "../../harness/deploy.js";

/** Commits analyzed: enough that the kill lands mid-run. */
const COMMITS = Number(process.env.FARM_CLUSTER_TEST_COMMITS || 30);

const tmp = useTempDir("farm-deploy-cluster-");
let repo: string;
let shas: string[];
let reference: Map<string, Report>;
let serverVersion = "";
const servers = new Set<NatsServer>();
const running = new Set<RunningService>();
const conns = new Set<NatsConnection>();

beforeAll(async () => {
  repo = path.join(tmp, "repo");
  shas = makeRepo(repo, COMMITS);
  // The fault-free reference: one node, replicas 1.
  const single = await NatsServer.start({ storeDir: path.join(tmp, "single") });
  servers.add(single);
  const t0 = Date.now();
  const nc = await connect({ servers: single.url });
  serverVersion = nc.info?.version ?? "";
  await nc.close();
  reference = (await analyze(single.url, 1, path.join(tmp, "data-ref"))).reports;
  console.log(`cluster test: fault-free reference (1 node, nats-server ${serverVersion}): ${COMMITS} commits in ${Date.now() - t0} ms`);
  await single.dispose();
  servers.delete(single);
}, 180_000);

afterAll(async () => {
  for (const s of [...running].reverse()) await s.close().catch(() => {});
  for (const nc of conns) await nc.close().catch(() => {});
  for (const s of servers) await s.dispose().catch(() => {});
});

/** Three nodes of one cluster (not started), each its own server name, store and ports, routes to all. */
async function clusterNodes(dir: string, name = "farm-test"): Promise<NatsServer[]> {
  const clusterPorts = [await freePort(), await freePort(), await freePort()];
  const routes = clusterPorts.map((p) => `nats://127.0.0.1:${p}`).join(",");
  const nodes = clusterPorts.map(
    (cport, i) =>
      new NatsServer({
        storeDir: path.join(dir, `n${i + 1}`),
        args: ["--server_name", `n${i + 1}`, "--cluster_name", name, "--cluster", `nats://127.0.0.1:${cport}`, "--routes", routes],
      }),
  );
  for (const n of nodes) servers.add(n);
  return nodes;
}

async function startCluster(dir: string): Promise<NatsServer[]> {
  const nodes = await clusterNodes(dir);
  await Promise.all(nodes.map((n) => n.start()));
  return nodes;
}

/** An operator connection, once an R3 stream can be placed (all three nodes in the meta group). */
async function admin(url: string): Promise<JetStreamManager> {
  const nc = await connect({ servers: url.split(","), maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  conns.add(nc);
  return waitFor("an R3 stream placed on the cluster", async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "PROBE", subjects: ["probe.r3"], num_replicas: 3 });
    await jsm.streams.delete("PROBE");
    return jsm;
  }, 30_000, 250);
}

interface Run {
  reports: Map<string, Report>;
  completedBeforeFault?: number;
}

/**
 * The four services (each its own connection, as its own process would have),
 * the whole history published, every report waited for. `fault` runs once
 * `faultAfter` commits have completed.
 */
async function analyze(url: string, replicas: number, dataDir: string, fault?: () => Promise<void>, faultAfter = 0): Promise<Run> {
  const services: RunningService[] = [];
  for (const name of SERVICE_NAMES) {
    const s = await startService(name, url, {}, { dataDir, replicas, concurrency: 2 });
    services.push(s);
    running.add(s);
  }
  const client = await connectPipeline({ servers: url, ensureTopology: false, log: quietLog("client") });
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
      await waitFor(`${faultAfter} completed commits`, () => completed.size >= faultAfter || failed.length > 0, 120_000, 20);
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
            run.reports.set(sha, await fetchReport<Report>(client, { repo, sha }, 10_000));
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
    // Nothing given up on the way. (Asked again on a timeout: the node's return may be moving
    // stream leaders right now, and a JetStream API request can time out meanwhile.)
    expect(await waitFor("the DLQ listed", () => client.dlq.list(), 60_000, 500)).toEqual([]);
    return run;
  } finally {
    await client.close();
    for (const s of services) {
      await s.close();
      running.delete(s);
    }
  }
}

/** Every stream and bucket has 3 replicas with a leader and two current followers. */
async function allReplicasCurrent(jsm: JetStreamManager): Promise<boolean> {
  for await (const si of jsm.streams.list()) {
    expect(si.config.num_replicas, si.config.name).toBe(3);
    const peers = si.cluster?.replicas ?? [];
    if (!si.cluster?.leader || peers.length !== 2 || peers.some((p) => !p.current || p.offline)) return false;
  }
  return true;
}

async function killMidRun(name: string, restartAfterMs: number | "after the analysis") {
  const nodes = await startCluster(path.join(tmp, name));
  const url = nodes.map((n) => n.url).join(",");
  const jsm = await admin(url);
  let killed: NatsServer | undefined;
  let restarted: Promise<void> | undefined;
  const t0 = Date.now();
  const run = await analyze(
    url,
    3,
    path.join(tmp, `data-${name}`),
    async () => {
      const lint = await waitFor("the LINT stream's info", () => jsm.streams.info("LINT"), 30_000, 250);
      expect(lint.config.num_replicas).toBe(3);
      killed = nodes[Number(lint.cluster!.leader!.slice(1)) - 1];
      await killed.stop("SIGKILL");
      // How long the node stays down is part of the fault under test: a sleep on purpose.
      if (typeof restartAfterMs === "number") restarted = new Promise((r) => setTimeout(r, restartAfterMs)).then(() => killed!.start());
    },
    Math.max(2, Math.floor(COMMITS / 5)),
  );
  const ms = Date.now() - t0;
  // The kill landed mid-run, not after the end.
  expect(run.completedBeforeFault!).toBeLessThan(COMMITS);
  // Same reports, commit for commit.
  expect(run.reports.size).toBe(COMMITS);
  for (const sha of shas) expect({ sha, report: run.reports.get(sha) }).toEqual({ sha, report: reference.get(sha) });
  // The node (back) in the cluster catches up.
  if (restarted) await restarted;
  else await killed!.start();
  await waitFor("every stream with 3 current replicas", () => allReplicasCurrent(jsm), 60_000, 500);
  console.log(
    `cluster test (${name}): ${COMMITS} commits on 3 nodes, node killed after ${run.completedBeforeFault} commits, ` +
      `back ${typeof restartAfterMs === "number" ? `${restartAfterMs} ms later` : restartAfterMs}: ${ms} ms`,
  );
  for (const n of nodes) {
    await n.dispose();
    servers.delete(n);
  }
}

test("a service started before the cluster has formed waits for it, then creates its R3 streams", async () => {
  const nodes = await clusterNodes(path.join(tmp, "forming"), "farm-forming");
  // One node of three: no JetStream quorum, stream creation cannot succeed yet.
  await nodes[0].start();
  let connected = false;
  const logged: string[] = [];
  const log = createLogger({ level: "warn", name: "early", destination: { write: (line: string) => void logged.push(line) } });
  const farm = connectPipeline({ servers: nodes[0].url, replicas: 3, log, readyTimeout: 120_000 }).then((f) => {
    connected = true;
    return f;
  });
  // It tried, was told JetStream is not ready, and tried again: waiting, not failed.
  await waitFor("two retries of the topology", () => logged.filter((l) => l.includes("JetStream not ready yet; retrying")).length >= 2, 60_000);
  expect(connected).toBe(false);
  await Promise.all(nodes.slice(1).map((n) => n.start()));
  const f = await farm;
  const lint = await f.jsm.streams.info("LINT");
  expect(lint.config.num_replicas).toBe(3);
  await f.close();
  for (const n of nodes) {
    await n.dispose();
    servers.delete(n);
  }
}, 180_000);

describe(`${COMMITS} commits on 3 nodes, R3 streams, one node SIGKILLed mid-run`, () => {
  test("node back after 10 s: the analysis completes, reports identical to a fault-free run", async () => {
    await killMidRun("back-after-10s", 10_000);
  }, 420_000);

  test("node down until the end: the analysis completes on the other two, then the node catches up", async () => {
    await killMidRun("down-until-the-end", "after the analysis");
  }, 420_000);
});
