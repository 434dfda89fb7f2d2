/**
 * The analysis pipeline for tests: a real nats-server, farm's services
 * in-process (as `farm up` or `farm service` runs them), a bare NATS client
 * that speaks raw JSON (as any outside client would), and the cleanup of all
 * of it, temp dir included.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import path from "node:path";
import { afterAll, beforeAll } from "vitest";
import { SERVICE_NAMES, startServices, stopServices, type ServiceName } from "../../services/index.js";
import { startOperations, type Operations } from "../../services/operations.js";
import { loadConfig, type FarmConfig } from "../../shared/runtime/config.js";
import type { Farm } from "../../shared/fabric/farm.js";
import { connectPipeline } from "../../shared/pipeline/topology.js";
import type { Logger } from "../../shared/fabric/logger.js";
import type { AnalysisStartedEvent, CommitStartedEvent, CompletedEvent, FailedEvent, ProgressEvent } from "../../shared/pipeline/contract.js";
import type { Service } from "../../shared/pipeline/service.js";
import type { Report } from "../../shared/pipeline/report.js";
import { farmQueues } from "../../shared/pipeline/names.js";
import type { TracingOptions } from "../../shared/fabric/tracing.js";
import { killChildren } from "./children.js";
import { quietLog } from "./farms.js";
import { removeDir, tempDir } from "./files.js";
import { NatsServer } from "./nats-server.js";
import { waitFor } from "./wait.js";

/**
 * Only the documented defaults (the host's FARM_* variables must not leak in), local repos allowed, 2 at a time,
 * repositories' own toolchains off unless asked (they install from a registry the test runs).
 */
export function testConfig(dataDir: string, overrides: Partial<FarmConfig> = {}): FarmConfig {
  return loadConfig({}, { allowLocalRepos: true, concurrency: 2, toolchains: false, ...overrides, dataDir });
}

/** Every asynchronous error the server sent this connection (permission violations among them). */
export function collectErrors(nc: NatsConnection): string[] {
  const errors: string[] = [];
  (async () => {
    for await (const s of nc.status()) {
      if (s.type === "error") errors.push(String((s as { error?: unknown }).error));
    }
  })().catch(() => {});
  return errors;
}

export interface Cluster {
  farm: Farm;
  services: Service[];
  /** The process's metrics and traces (services/operations.ts). */
  operations: Operations;
  config: FarmConfig;
  /** The asynchronous errors the server sent the services' connection. */
  errors: string[];
  /** Starts more services on the same connection (an ingest that comes back); they are closed with the rest. */
  add(names: readonly ServiceName[]): Promise<Service[]>;
  close(): Promise<void>;
}

export interface ClusterOptions {
  /** The services' logger; default {@link quietLog}. */
  log?: Logger;
  /** The connection's name. */
  name?: string;
  /** Traces with this (a test's in-memory exporter), whatever the OTEL_* environment says (services/operations.ts). */
  tracing?: TracingOptions;
}

/**
 * One farm connection (with the config's credentials and replicas) and the
 * named services on it, as one process runs them.
 */
export async function startCluster(url: string, names: readonly ServiceName[], config: FarmConfig, opts: ClusterOptions = {}): Promise<Cluster> {
  const log = opts.log ?? quietLog(opts.name ?? "pipeline-test");
  const farm = await connectPipeline({
    servers: url,
    name: opts.name ?? "pipeline-test",
    asyncTraces: true,
    user: config.user,
    password: config.password,
    inboxPrefix: config.inboxPrefix,
    replicas: config.replicas,
    log,
  });
  const errors = collectErrors(farm.nc);
  const operations = await startOperations({ farm, config, log, tracing: opts.tracing });
  const services: Service[] = [];
  const add = async (more: readonly ServiceName[]) => {
    const started = await startServices(more, { farm, config, log });
    services.push(...started);
    return started;
  };
  try {
    await add(names);
  } catch (err) {
    await operations.close();
    await farm.close();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    farm,
    services,
    operations,
    config,
    errors,
    add,
    close: () =>
      (closing ??= (async () => {
        await stopServices(services);
        await operations.close();
        await farm.close();
      })()),
  };
}

// ---- a bare client: raw JSON over plain NATS ------------------------------------------

/** Any `repo.analysis.*` event as JSON: the contract's fields (shared/pipeline/contract.ts), each one optional but `repo` and `sha`. */
export type AnalysisEvent = Pick<FailedEvent, "repo" | "sha"> &
  Partial<Omit<AnalysisStartedEvent & CommitStartedEvent & ProgressEvent & CompletedEvent & FailedEvent, "repo" | "sha">> & { id?: string };

export interface RecordedEvent {
  subject: string;
  data: AnalysisEvent;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** The pipeline's stages' work queues (a task leaves its stream when it is acked). */
const STAGES = farmQueues.map((q) => q.stream).filter((s) => s !== "JOBS");

/** What any NATS client can do: publish JSON, subscribe to events, request JSON. No farm code. */
export class RawClient {
  readonly events: RecordedEvent[] = [];
  private sub?: Subscription;

  private constructor(readonly nc: NatsConnection) {}

  static async connect(url: string): Promise<RawClient> {
    const c = new RawClient(await connect({ servers: url, name: "raw-client" }));
    c.sub = c.nc.subscribe("repo.analysis.>", {
      callback: (_err, m) => {
        c.events.push({ subject: m.subject, data: JSON.parse(dec.decode(m.data)) as AnalysisEvent });
      },
    });
    await c.nc.flush(); // the subscription is in place before anything is published
    return c;
  }

  publish(subject: string, payload: string | Uint8Array): void {
    this.nc.publish(subject, typeof payload === "string" ? enc.encode(payload) : payload);
  }

  newSha(body: Record<string, unknown>): void {
    this.publish("repo.new_sha", JSON.stringify(body));
  }

  async request<T = unknown>(subject: string, body: unknown, timeout = 30_000): Promise<T> {
    const m = await this.nc.request(subject, enc.encode(JSON.stringify(body)), { timeout });
    return JSON.parse(dec.decode(m.data)) as T;
  }

  of(kind: "started" | "progress" | "completed" | "failed"): AnalysisEvent[] {
    return this.events.filter((e) => e.subject === `repo.analysis.${kind}`).map((e) => e.data);
  }

  /** The completed events of `shas` (the requested ones), once every sha has one. */
  async completed(
    shas: string[],
    timeout = 120_000,
    opts: { requested?: boolean; after?: number; expectFailed?: string[] } = {},
  ): Promise<Map<string, AnalysisEvent>> {
    return waitFor(
      `repo.analysis.completed for ${shas.length} commits`,
      () => {
        const failed = this.events.slice(opts.after ?? 0).filter((e) => e.subject === "repo.analysis.failed" && !opts.expectFailed?.includes(e.data.sha ?? ""));
        if (failed.length > 0) throw new Error(`analysis failed: ${JSON.stringify(failed.map((f) => f.data))}`);
        const done = new Map<string, AnalysisEvent>();
        for (const e of this.events.slice(opts.after ?? 0)) {
          if (e.subject !== "repo.analysis.completed" || !e.data.sha) continue;
          if (opts.requested !== undefined && e.data.requested !== opts.requested) continue;
          if (!done.has(e.data.sha)) done.set(e.data.sha, e.data);
        }
        return shas.every((s) => done.has(s)) ? done : undefined;
      },
      timeout,
      100,
    ).catch((err: Error) => {
      // A timeout alone says little: a failure reason says what went wrong.
      const failed = this.events.filter((e) => e.subject === "repo.analysis.failed").map((e) => e.data);
      throw failed.length && !/analysis failed/.test(err.message) ? new Error(`${err.message}; failures: ${JSON.stringify(failed)}`) : err;
    });
  }

  async report(repo: string, sha: string, format?: string): Promise<Report> {
    const r = await this.request<Report & { error?: string }>("report.get", format ? { repo, sha, format } : { repo, sha });
    if (r.error) throw new Error(`report.get ${sha}: ${r.error}`);
    return r;
  }

  /**
   * Waits until every stage's work queue is empty (nothing queued, nothing in
   * flight, no retry pending), then until this client has every event sent
   * before: nothing the requests so far cause is still to come.
   */
  async settled(timeout = 60_000): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    await waitFor(
      "every stage's work queue to be empty",
      async () => (await Promise.all(STAGES.map((s) => jsm.streams.info(s)))).every((si) => si.state.messages === 0),
      timeout,
      100,
    );
    await this.nc.flush();
  }

  async close(): Promise<void> {
    this.sub?.unsubscribe();
    if (!this.nc.isClosed()) await this.nc.drain();
  }
}

// ---- the fixture ----------------------------------------------------------------------

export interface PipelineOptions {
  /** Prefix of the fresh temp dir the pipeline owns (removed at close). Default "farm-pipeline-". */
  prefix?: string;
  /** A directory someone else owns, instead of a fresh one. */
  work?: string;
  /** The services to start in-process; default all four, none for []. */
  services?: readonly ServiceName[];
  /** Over {@link testConfig}; the data dir defaults to `<work>/data`. */
  config?: Partial<FarmConfig>;
  /** The services' logger. */
  log?: Logger;
}

const open = new Set<Pipeline>();

/**
 * A nats-server of its own, the services on one connection (`cluster`), a
 * {@link RawClient}, and a work dir for repositories and data; `close()`
 * takes down what it started (more clusters and child processes included).
 */
export class Pipeline {
  work!: string;
  server!: NatsServer;
  /** The services of the options, on one connection (unset when the options name none). */
  cluster!: Cluster;
  client!: RawClient;
  private readonly clusters: Cluster[] = [];
  private readonly cleanups: (() => unknown)[] = [];
  private ownsWork = false;

  constructor(private readonly opts: PipelineOptions = {}) {}

  /** Where the services keep their data. */
  get dataDir(): string {
    return this.opts.config?.dataDir ?? path.join(this.work, "data");
  }

  async start(): Promise<this> {
    this.ownsWork = !this.opts.work;
    this.work = this.opts.work ?? tempDir(this.opts.prefix ?? "farm-pipeline-");
    this.server = await NatsServer.start();
    const names = this.opts.services ?? SERVICE_NAMES;
    if (names.length > 0) this.cluster = await this.startCluster(names, this.opts.config);
    this.client = await RawClient.connect(this.server.url);
    return this;
  }

  /** More services on a connection of their own (data dir `<work>/data` unless `config` says), closed with the pipeline. */
  async startCluster(names: readonly ServiceName[], config: Partial<FarmConfig> = {}, opts: ClusterOptions = {}): Promise<Cluster> {
    const cluster = await startCluster(this.server.url, names, testConfig(config.dataDir ?? this.dataDir, config), { log: this.opts.log, ...opts });
    this.clusters.push(cluster);
    return cluster;
  }

  /** Runs `fn` at close, before the client, the clusters and the server go. */
  onClose(fn: () => unknown): void {
    this.cleanups.push(fn);
  }

  async close(): Promise<void> {
    open.delete(this);
    for (const fn of this.cleanups.splice(0).reverse()) await fn();
    await this.client?.close().catch(() => {});
    for (const c of this.clusters.splice(0).reverse()) await c.close().catch(() => {});
    await killChildren();
    await this.server?.dispose();
    if (this.ownsWork && this.work) removeDir(this.work);
  }
}

/** A pipeline for the file's tests: started before them, closed after them. */
export function usePipeline(opts: PipelineOptions = {}): Pipeline {
  const p = new Pipeline(opts);
  beforeAll(() => p.start(), 60_000);
  afterAll(() => p.close(), 60_000);
  return p;
}

/** A pipeline of a test's own; {@link closePipelines} closes it if the test does not. */
export function startPipeline(opts: PipelineOptions = {}): Promise<Pipeline> {
  const p = new Pipeline(opts);
  open.add(p);
  return p.start();
}

/** Closes every pipeline {@link startPipeline} started that is still open (in an afterEach or afterAll). */
export async function closePipelines(): Promise<void> {
  for (const p of [...open].reverse()) await p.close();
}
