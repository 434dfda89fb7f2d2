/**
 * The fabric benchmark (issue 6, part 2): farm's `jobs.distribute` / `jobs.enqueue`
 * and `jobs.send` against the raw @nats-io v3 client doing the same on the same
 * nats-server in the same run, and against BullMQ on a local Redis for the queue case.
 * Absolute numbers on a shared machine are noise: the ratios are the result.
 *
 *   node --import tsx test/bench/fabric.ts [--smoke] [--json out.json]
 *        [--tasks N] [--requests N] [--concurrency N] [--inflight N] [--rounds N]
 *
 * Needs nats-server and redis-server (Debian: apt-get install -y nats-server redis-server).
 */
import { execFileSync } from "node:child_process";
import { writeOutputFile } from "../../cli/output-file.js";
import { createRequire } from "node:module";
import os from "node:os";
import { connect, createInbox, headers as natsHeaders, nuid, type NatsConnection } from "@nats-io/transport-node";
import {
  AckPolicy,
  DiscardPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
} from "@nats-io/jetstream";
import { Queue, QueueEvents, Worker as BullWorker } from "bullmq";
import { createLogger, Farm, type Worker as FarmWorker } from "../../shared/fabric/index.js";
import { NatsServer } from "../harness/nats-server.js";
import { findRedisServer, RedisServer, redisVersion } from "./fabric-redis.js";

// ---- options ---------------------------------------------------------------------------

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
function option(name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}
const num = (name: string, dflt: number) => {
  const v = option(name);
  return v === undefined ? dflt : Number(v);
};

const smoke = flag("smoke");
const P = {
  smoke,
  /** Queued no-op tasks per system. */
  tasks: num("tasks", smoke ? 500 : 100_000),
  /** Sequential `send` round trips per system. */
  requests: num("requests", smoke ? 200 : 5_000),
  /** Requests of the many-in-flight run per system. */
  flightRequests: num("flight-requests", smoke ? 200 : 20_000),
  /** Handler concurrency of each of the 2 workers (farm, raw buffer, BullMQ). */
  concurrency: num("concurrency", 64),
  /** Requests in flight at once. */
  inflight: num("inflight", 64),
  /** Publishes in flight at once (farm's distribute default). */
  window: 256,
  /** Queue rounds; each system's best is kept (the order alternates). */
  rounds: num("rounds", smoke ? 1 : 2),
};
const jsonOut = option("json");

const SUBJECT = "jobs.bench_noop";
const RAW_STREAM = "RAWBENCH";
const RAW_SUBJECT = "rawbench.noop";
const RAW_REQ = "rawbench.echo";
const REPLY_HDR = "bench-reply-to";
const BULL_QUEUE = "bench_noop";

const now = () => performance.now();

/** What each row compares; printed under the table and kept in the JSON. */
const NOTES = [
  "fire-and-forget: farm jobs.enqueue vs raw js.publish(msgID) per task + 2 consume() on one durable + ack each; BullMQ Queue.addBulk (chunks of 1000) + 2 Workers (removeOnComplete); first publish to last task handled.",
  "  farm publishes pipelined (plain publishes, the stream's acks collected on one inbox, 256 unacked); js.publish makes a request per task. 'hand-pipelined' is raw doing farm's trick by hand.",
  "awaited: farm jobs.distribute (results to the caller's inbox) vs raw the same plus a core publish of each result to an inbox named in a header vs BullMQ the same adds with a QueueEvents listener (what job.waitUntilFinished uses); first publish to last result received.",
  "send: farm jobs.send to 2 farm workers vs nc.request to 2 raw queue-group subscribers (JSON); sequential requests alternate farm/raw; in-flight: best of farm, raw, raw, farm.",
  "workers: farm.worker concurrency N each; raw consume({ max_messages: N }) each; BullMQ Worker concurrency N each. One process, one nats-server, one redis-server.",
];

// ---- the stage -------------------------------------------------------------------------

const cleanups: (() => Promise<unknown>)[] = [];
async function cleanup() {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  cleanups.length = 0;
}
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => void cleanup().finally(() => process.exit(130)));
}

/** Resolves when `count()` reaches `target` (checked by the caller through `tick`). */
function counter(target: number) {
  let n = 0;
  let t = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  return {
    finished,
    get count() {
      return n;
    },
    get at() {
      return t;
    },
    tick() {
      if (++n === target) {
        t = now();
        done();
      }
    },
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`${what}: no finish within ${ms} ms`)), ms))),
  ]);
}
const queueTimeout = () => Math.max(60_000, P.tasks * 5);

async function lanes(count: number, total: number, fn: (i: number) => Promise<void>) {
  let next = 0;
  const lane = async () => {
    while (next < total) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(count, total) }, lane));
}

async function waitEmpty(jsm: JetStreamManager, stream: string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const info = await jsm.streams.info(stream);
    if (info.state.messages === 0) return;
    if (Date.now() > deadline) throw new Error(`${stream} still holds ${info.state.messages} messages`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---- queue: farm --------------------------------------------------------------------------

interface FarmStage {
  client: Farm;
  workers: Farm[];
  handled: { tick(): void } | undefined;
}

async function farmStage(url: string): Promise<FarmStage> {
  const log = createLogger({ level: "silent" });
  const queues = [{ stream: "JOBS", subjects: ["jobs.>"] }];
  const client = await Farm.connect({ servers: url, name: "bench-client", log, queues });
  const workers = [await Farm.connect({ servers: url, name: "bench-w1", log, queues }), await Farm.connect({ servers: url, name: "bench-w2", log, queues })];
  const stage: FarmStage = { client, workers, handled: undefined };
  const started: FarmWorker[] = [];
  for (const w of workers) {
    started.push(
      await w.worker(
        SUBJECT,
        () => {
          stage.handled?.tick();
          return null;
        },
        { concurrency: P.concurrency },
      ),
    );
  }
  cleanups.push(() => Promise.all([client.close(), ...workers.map((w) => w.close())]));
  return stage;
}

/** `jobs.distribute`, awaited: first publish to the last result in the caller's hands. */
async function farmDistributeAwaited(s: FarmStage, n: number): Promise<number> {
  const tasks = Array.from({ length: n }, (_, i) => ({ i }));
  s.handled = undefined;
  const t0 = now();
  const results = await withTimeout(s.client.jobs.distribute(SUBJECT, tasks, { timeout: queueTimeout() }), queueTimeout() + 5000, "farm distribute");
  const t1 = now();
  const bad = results.filter((r) => !r.ok).length;
  if (bad) throw new Error(`farm distribute: ${bad} of ${n} tasks failed`);
  await waitEmpty(s.client.jsm, "JOBS");
  return n / ((t1 - t0) / 1000);
}

/** `jobs.enqueue` (fire and forget, no results): first publish to the last task handled. */
async function farmEnqueue(s: FarmStage, n: number): Promise<number> {
  const tasks = Array.from({ length: n }, (_, i) => ({ i }));
  const c = counter(n);
  s.handled = c;
  const t0 = now();
  await s.client.jobs.enqueue(SUBJECT, tasks);
  await withTimeout(c.finished, queueTimeout(), "farm enqueue");
  const t1 = c.at;
  await waitEmpty(s.client.jsm, "JOBS");
  s.handled = undefined;
  if (c.count !== n) throw new Error(`farm enqueue: ${c.count} handled for ${n} tasks`);
  return n / ((t1 - t0) / 1000);
}

// ---- queue: raw @nats-io ----------------------------------------------------------------

interface RawStage {
  pub: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  workers: NatsConnection[];
  handled: { tick(): void } | undefined;
}

async function rawStage(url: string): Promise<RawStage> {
  const pub = await connect({ servers: url, name: "raw-client" });
  const jsm = await jetstreamManager(pub);
  // Same stream shape as farm's JOBS, and the same ack-pending cap as a farm worker.
  await jsm.streams.add({
    name: RAW_STREAM,
    // Only the task subject: a stream capturing the request subject would answer requests itself.
    subjects: [RAW_SUBJECT],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
  });
  await jsm.consumers.add(RAW_STREAM, {
    durable_name: "raw_noop",
    filter_subject: RAW_SUBJECT,
    ack_policy: AckPolicy.Explicit,
    max_ack_pending: Math.max(1000, P.concurrency * 4),
  });
  const stage: RawStage = { pub, js: jetstream(pub), jsm, workers: [], handled: undefined };
  for (const name of ["raw-w1", "raw-w2"]) {
    const nc = await connect({ servers: url, name });
    stage.workers.push(nc);
    const consumer = await jetstream(nc).consumers.get(RAW_STREAM, "raw_noop");
    const messages = await consumer.consume({ max_messages: P.concurrency });
    void (async () => {
      for await (const m of messages) {
        m.json(); // the task, as a raw worker would read it
        m.ack();
        const reply = m.headers?.get(REPLY_HDR);
        if (reply) nc.publish(reply, rawResult);
        stage.handled?.tick();
      }
    })();
    // Request-reply: a queue-group subscriber answering each request.
    const sub = nc.subscribe(RAW_REQ, { queue: "raw" });
    void (async () => {
      for await (const m of sub) {
        m.json();
        m.respond(rawResult);
      }
    })();
  }
  cleanups.push(() => Promise.all([pub, ...stage.workers].map((nc) => nc.drain())));
  return stage;
}

const utf8 = new TextEncoder();
const rawResult = utf8.encode(JSON.stringify({ ok: true, value: null }));
const rawTask = (i: number) => utf8.encode(JSON.stringify({ i }));

/** Raw publish of n tasks with msgID, `window` publishes in flight, like farm's publishAll. */
async function rawPublish(s: RawStage, n: number, reply?: string) {
  await lanes(P.window, n, async (i) => {
    const h = natsHeaders();
    if (reply) h.set(REPLY_HDR, reply);
    const ack = await s.js.publish(RAW_SUBJECT, rawTask(i), { msgID: nuid.next(), headers: reply ? h : undefined });
    if (ack.duplicate) throw new Error("raw publish: unexpected duplicate");
  });
}

/** Raw equivalent of awaited distribute: each worker publishes a result to the caller's inbox. */
async function rawAwaited(s: RawStage, n: number): Promise<number> {
  const got = counter(n);
  const inbox = createInbox();
  const sub = s.pub.subscribe(inbox, { callback: (_e, m) => (m.json(), got.tick()) });
  s.handled = undefined;
  const t0 = now();
  await rawPublish(s, n, inbox);
  await withTimeout(got.finished, queueTimeout(), "raw awaited");
  const t1 = got.at;
  sub.unsubscribe();
  await waitEmpty(s.jsm, RAW_STREAM);
  return n / ((t1 - t0) / 1000);
}

/**
 * The best a raw user can do: what farm's publisher does by hand. Plain publishes
 * whose reply subject collects the stream's acks on one inbox, `window` unacked.
 */
async function rawPublishPipelined(s: RawStage, n: number) {
  const prefix = `${createInbox()}.`;
  let sent = 0;
  let acked = 0;
  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      while (sent < n && sent - acked < P.window) {
        const i = sent++;
        const h = natsHeaders();
        h.set("Nats-Msg-Id", nuid.next());
        s.pub.publish(RAW_SUBJECT, rawTask(i), { reply: prefix + i, headers: h });
      }
    };
    s.pub.subscribe(`${prefix}*`, {
      max: n,
      callback: (err, m) => {
        if (err) return reject(err);
        const pa = m.json<{ error?: { description: string }; duplicate?: boolean }>();
        if (pa.error || pa.duplicate) return reject(new Error(`raw pipelined publish: ${pa.error?.description ?? "duplicate"}`));
        if (++acked === n) resolve();
        else pump();
      },
    });
    pump();
  });
}

/** Raw equivalent of enqueue: publish, consume, ack. */
async function rawFireAndForget(s: RawStage, n: number, pipelined = false): Promise<number> {
  const c = counter(n);
  s.handled = c;
  const t0 = now();
  await (pipelined ? rawPublishPipelined(s, n) : rawPublish(s, n));
  await withTimeout(c.finished, queueTimeout(), "raw fire-and-forget");
  const t1 = c.at;
  await waitEmpty(s.jsm, RAW_STREAM);
  s.handled = undefined;
  if (c.count !== n) throw new Error(`raw: ${c.count} handled for ${n} tasks`);
  return n / ((t1 - t0) / 1000);
}

// ---- queue: BullMQ ------------------------------------------------------------------------

interface BullStage {
  queue: Queue;
  workers: BullWorker[];
  /** Counts completions where the workers run them (fire-and-forget). */
  handled: { tick(): void } | undefined;
  /** Counts completions as the producer hears of them (awaited results). */
  heard: { tick(): void } | undefined;
}

async function bullStage(port: number): Promise<BullStage> {
  const connection = { host: "127.0.0.1", port, maxRetriesPerRequest: null };
  // removeOnComplete: a finished job leaves Redis, as an acked task leaves a work queue.
  // The events stream holds every completion of a run, so a lagging listener misses none.
  const queue = new Queue(BULL_QUEUE, { connection, defaultJobOptions: { removeOnComplete: true }, streams: { events: { maxLen: 4 * P.tasks } } });
  await queue.waitUntilReady();
  // BullMQ's way back to the producer (what job.waitUntilFinished listens to): the queue's events stream.
  const events = new QueueEvents(BULL_QUEUE, { connection });
  await events.waitUntilReady();
  const stage: BullStage = { queue, workers: [], handled: undefined, heard: undefined };
  events.on("completed", () => stage.heard?.tick());
  for (let i = 0; i < 2; i++) {
    // Each Worker opens its own connections.
    const w = new BullWorker(BULL_QUEUE, async () => null, { connection, concurrency: P.concurrency });
    w.on("completed", () => stage.handled?.tick());
    w.on("error", (err) => console.error("bullmq worker:", err.message));
    await w.waitUntilReady();
    stage.workers.push(w);
  }
  cleanups.push(async () => {
    await events.close();
    await Promise.all(stage.workers.map((w) => w.close()));
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
  });
  return stage;
}

/**
 * Queue.addBulk in chunks of 1000 while the workers run: first add to the last
 * completion, as the workers see it or (awaited) as the producer hears of it.
 */
async function bullRun(s: BullStage, n: number, awaited = false): Promise<number> {
  const c = counter(n);
  if (awaited) s.heard = c;
  else s.handled = c;
  const t0 = now();
  for (let i = 0; i < n; i += 1000) {
    const chunk = Array.from({ length: Math.min(1000, n - i) }, (_, k) => ({ name: "noop", data: { i: i + k } }));
    await s.queue.addBulk(chunk);
  }
  await withTimeout(c.finished, queueTimeout(), "bullmq");
  const t1 = c.at;
  s.handled = undefined;
  s.heard = undefined;
  return n / ((t1 - t0) / 1000);
}

// ---- send ------------------------------------------------------------------------------

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Sequential round trips, farm and raw alternating (who goes first flips) so load drift hits both alike. */
async function sendLatency(farm: Farm, raw: NatsConnection, n: number) {
  const f: number[] = [];
  const r: number[] = [];
  const rawPayload = rawTask(1);
  const farmOnce = async (i: number) => {
    const t = now();
    await farm.jobs.send(SUBJECT, { i });
    f.push(now() - t);
  };
  const rawOnce = async () => {
    const t = now();
    const m = await raw.request(RAW_REQ, rawPayload, { timeout: 10_000 });
    m.json();
    r.push(now() - t);
  };
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) {
      await farmOnce(i);
      await rawOnce();
    } else {
      await rawOnce();
      await farmOnce(i);
    }
  }
  f.sort((a, b) => a - b);
  r.sort((a, b) => a - b);
  return {
    farm: { p50: percentile(f, 50) * 1000, p99: percentile(f, 99) * 1000 },
    raw: { p50: percentile(r, 50) * 1000, p99: percentile(r, 99) * 1000 },
  };
}

async function sendFlight(fn: () => Promise<unknown>, n: number): Promise<number> {
  const t0 = now();
  await lanes(P.inflight, n, async () => void (await fn()));
  return n / ((now() - t0) / 1000);
}

// ---- report --------------------------------------------------------------------------

interface Row {
  metric: string;
  unit: string;
  farm: number;
  raw?: number;
  bullmq?: number;
  ratio?: number;
  ratioOf?: string;
  target?: string;
  verdict?: "PASS" | "BELOW" | "info";
}

/**
 * One row: farm against one baseline (`{ raw }` or `{ bullmq }`), with a target
 * ratio when there is one (otherwise an "info" row); `also` shows another baseline's value.
 */
function compare(
  metric: string,
  unit: string,
  farm: number,
  base: { raw: number } | { bullmq: number },
  target?: { atLeast: number } | { atMost: number },
  also: { bullmq?: number } = {},
): Row {
  const [of, value] = Object.entries(base)[0] as [string, number];
  const ratio = farm / value;
  const row: Row = { metric, unit, farm, ...also, [of]: value, ratio, ratioOf: of, verdict: "info" };
  if (target && "atLeast" in target) Object.assign(row, { target: `≥ ${target.atLeast}× ${of}`, verdict: ratio >= target.atLeast ? "PASS" : "BELOW" });
  if (target && "atMost" in target) Object.assign(row, { target: `≤ ${target.atMost}× ${of}`, verdict: ratio <= target.atMost ? "PASS" : "BELOW" });
  return row;
}

function machine() {
  const natsBin = ["nats-server", "/usr/sbin/nats-server"].find((b) => {
    try {
      execFileSync(b, ["--version"]);
      return true;
    } catch {
      return false;
    }
  });
  const natsVersion = natsBin
    ? execFileSync(natsBin, ["--version"], { encoding: "utf8" })
        .trim()
        .replace(/^nats-server:\s*/, "")
    : "?";
  const require = createRequire(import.meta.url);
  const pkg = (name: string) => {
    try {
      return (require(`${name}/package.json`) as { version: string }).version;
    } catch {
      return "?";
    }
  };
  return {
    cpu: os.cpus()[0]?.model ?? "?",
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    natsServer: natsVersion,
    natsClient: pkg("@nats-io/transport-node"),
    redis: "",
    bullmq: pkg("bullmq"),
    loadAvgAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

const fmt = (v: number | undefined, unit: string) =>
  v === undefined ? "—" : unit === "µs" ? v.toFixed(0) : v >= 100 ? Math.round(v).toLocaleString("en-US") : v.toFixed(2);

function printTable(rows: Row[]) {
  const head = ["metric", "farm", "raw", "bullmq", "ratio", "target", "verdict"];
  const cells = rows.map((r) => [
    `${r.metric} (${r.unit})`,
    fmt(r.farm, r.unit),
    fmt(r.raw, r.unit),
    fmt(r.bullmq, r.unit),
    r.ratio === undefined ? "—" : `${r.ratio.toFixed(2)}× ${r.ratioOf ?? ""}`.trim(),
    r.target ?? "—",
    r.verdict ?? "—",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => "| " + c.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join(" | ") + " |";
  console.log(line(head));
  console.log("|" + widths.map((w, i) => (i === 0 ? "-".repeat(w + 1) : "-".repeat(w + 1)) + (i === 0 ? "-|" : ":|")).join(""));
  for (const c of cells) console.log(line(c));
}

// ---- main ------------------------------------------------------------------------------

async function main() {
  const started = now();
  const info = machine();
  const redisBin = findRedisServer();
  if (!redisBin) throw new Error("redis-server is not installed: apt-get install -y redis-server (the BullMQ baseline needs it)");
  info.redis = redisVersion(redisBin);
  console.log(`farm fabric benchmark${smoke ? " (SMOKE: tiny inputs, values meaningless)" : ""} — ${new Date().toISOString()}`);
  console.log(
    `machine: ${info.cpu}, ${info.cores} cores, ${info.memoryGiB} GiB; node ${info.node}; nats-server ${info.natsServer}; @nats-io ${info.natsClient}; redis ${info.redis}; bullmq ${info.bullmq}; load avg ${info.loadAvgAtStart.join(" ")}`,
  );
  console.log(
    `params: ${P.tasks} tasks, 2 workers × concurrency ${P.concurrency}, publish window ${P.window}, best of ${P.rounds} round(s); ` +
      `${P.requests} sequential requests, ${P.flightRequests} requests with ${P.inflight} in flight`,
  );

  const server = await NatsServer.start();
  cleanups.push(() => server.dispose());
  const redis = await RedisServer.start(redisBin);
  cleanups.push(() => redis.stop());

  const farm = await farmStage(server.url);
  const raw = await rawStage(server.url);
  const bull = await bullStage(redis.port);

  // Warm-up: JIT, connections, consumers; not measured.
  const warm = Math.min(2000, P.tasks);
  await farmDistributeAwaited(farm, warm);
  await farmEnqueue(farm, warm);
  await rawAwaited(raw, warm);
  await rawFireAndForget(raw, warm);
  await rawFireAndForget(raw, warm, true);
  await bullRun(bull, warm);
  await bullRun(bull, warm, true);
  for (let i = 0; i < 200; i++) {
    await farm.client.jobs.send(SUBJECT, { i });
    await raw.pub.request(RAW_REQ, rawTask(i));
  }

  const best = { farmAwaited: 0, rawAwaited: 0, farmFf: 0, rawFf: 0, rawFfPipelined: 0, bull: 0, bullAwaited: 0 };
  const runs: Record<keyof typeof best, number[]> = { farmAwaited: [], rawAwaited: [], farmFf: [], rawFf: [], rawFfPipelined: [], bull: [], bullAwaited: [] };
  const record = (k: keyof typeof best, v: number) => {
    runs[k].push(Math.round(v));
    best[k] = Math.max(best[k], v);
  };
  for (let round = 0; round < P.rounds; round++) {
    // Alternate who goes first so a load spike does not always land on one system.
    const order = round % 2 === 0 ? ["farm", "raw", "bull"] : ["bull", "raw", "farm"];
    for (const who of order) {
      const t = now();
      if (who === "farm") {
        record("farmAwaited", await farmDistributeAwaited(farm, P.tasks));
        record("farmFf", await farmEnqueue(farm, P.tasks));
      } else if (who === "raw") {
        record("rawAwaited", await rawAwaited(raw, P.tasks));
        record("rawFf", await rawFireAndForget(raw, P.tasks));
        record("rawFfPipelined", await rawFireAndForget(raw, P.tasks, true));
      } else {
        record("bull", await bullRun(bull, P.tasks));
        record("bullAwaited", await bullRun(bull, P.tasks, true));
      }
      if (!smoke) console.error(`  round ${round + 1}: ${who} done in ${((now() - t) / 1000).toFixed(1)} s`);
    }
  }

  const lat = await sendLatency(farm.client, raw.pub, P.requests);
  const payload = rawTask(1);
  const flight = {
    farm: () => sendFlight(() => farm.client.jobs.send(SUBJECT, { i: 1 }), P.flightRequests),
    raw: () => sendFlight(async () => (await raw.pub.request(RAW_REQ, payload, { timeout: 10_000 })).json(), P.flightRequests),
  };
  // farm, raw, raw, farm: best of two each.
  let flightFarm = await flight.farm();
  let flightRaw = await flight.raw();
  if (P.rounds > 1) {
    flightRaw = Math.max(flightRaw, await flight.raw());
    flightFarm = Math.max(flightFarm, await flight.farm());
  }

  const rows: Row[] = [
    compare("enqueue → handled+acked, fire-and-forget", "tasks/s", best.farmFf, { raw: best.rawFf }, { atLeast: 0.8 }, { bullmq: best.bull }),
    compare("  same, vs BullMQ", "tasks/s", best.farmFf, { bullmq: best.bull }, { atLeast: 2 }),
    compare("  same, vs raw with a hand-pipelined publish", "tasks/s", best.farmFf, { raw: best.rawFfPipelined }),
    compare("distribute, awaited results", "tasks/s", best.farmAwaited, { raw: best.rawAwaited }, { atLeast: 0.8 }, { bullmq: best.bullAwaited }),
    compare("  same, vs BullMQ awaited (QueueEvents)", "tasks/s", best.farmAwaited, { bullmq: best.bullAwaited }, { atLeast: 2 }),
    compare("  same, vs BullMQ fire-and-forget", "tasks/s", best.farmAwaited, { bullmq: best.bull }),
    compare("send sequential p50", "µs", lat.farm.p50, { raw: lat.raw.p50 }, { atMost: 1.2 }),
    compare("send sequential p99", "µs", lat.farm.p99, { raw: lat.raw.p99 }),
    compare(`send, ${P.inflight} in flight`, "req/s", flightFarm, { raw: flightRaw }),
  ];

  console.log("");
  printTable(rows);
  console.log("");
  for (const line of NOTES) console.log(line);
  if (P.rounds > 1) console.log(`runs (tasks/s): ${JSON.stringify(runs)}`);
  const seconds = (now() - started) / 1000;
  console.log(`took ${seconds.toFixed(1)} s${smoke ? " (smoke)" : ""}; shared machine: absolute numbers are noise, ratios are the result`);

  if (jsonOut) {
    const doc = { benchmark: "fabric", date: new Date().toISOString(), smoke, machine: info, params: P, rows, runs, notes: NOTES, seconds };
    await writeOutputFile(jsonOut, JSON.stringify(doc, null, 2) + "\n");
    console.log(`wrote ${jsonOut}`);
  }
}

let code = 0;
try {
  await main();
} catch (err) {
  console.error("fabric benchmark failed:", err);
  code = 1;
} finally {
  await cleanup();
}
process.exit(code);
