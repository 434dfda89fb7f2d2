/**
 * Where the CLI's NATS comes from: the given cluster; else a `farm up` running
 * on this data dir; else the embedded default (a local nats-server child
 * process plus all four services in this process). With `web`, the web app
 * too, in this process, on whichever of the three.
 */
import path from "node:path";
import type { FarmConfig } from "../shared/runtime/config.js";
import { NatsServer } from "../shared/runtime/embedded.js";
import { connectOptionsFrom } from "../shared/runtime/config.js";
import type { Farm } from "../shared/fabric/farm.js";
import { connectPipeline } from "../shared/pipeline/topology.js";
import { findLocalFarm } from "../shared/runtime/local-farm.js";
import type { Logger } from "../shared/fabric/logger.js";
import type { Service } from "../shared/pipeline/service.js";
import { SERVICE_NAMES, startConfiguredWeb, startServices, stopServices } from "../services/index.js";
import type { WebService } from "../services/web/index.js";
import { startOperations, type Operations } from "../services/operations.js";
import { prefetchMirror, prestartLintThread, type Prefetch, type WhereServicesRun } from "./prestart.js";

export interface Cluster {
  farm: Farm;
  /** The url other processes can use. */
  url: string;
  /** True when this process started the nats-server (and the services with it). */
  embedded: boolean;
  /** The web app, when asked for (`web`). */
  web?: WebService;
  close(): Promise<void>;
}

export interface OpenOptions extends WhereServicesRun {
  name?: string;
  /** Client port of the embedded nats-server. Default: a free one (a transient `farm analyze`); `farm up` passes its --port. */
  port?: number;
  /** Also serve the web app (FARM_WEB_PORT, FARM_WEB_HOST, FARM_WEB_TOKEN) from this process. */
  web?: boolean;
  /** With the services, run the reporter too (FARM_GITHUB_*: checks on the git host). */
  reporter?: boolean;
  /** The embedded default only: the repository and commit the command will ask for, cloned while the cluster starts. */
  prefetch?: Prefetch;
}

/** The web app on `cluster`, closed before it. */
async function withWeb(cluster: Cluster, config: FarmConfig, log: Logger): Promise<Cluster> {
  const web = await startConfiguredWeb({ farm: cluster.farm, config, log }).catch(async (err: unknown) => {
    await cluster.close();
    throw err;
  });
  return { ...cluster, web, close: async () => (await web.close(), await cluster.close()) };
}

export async function openCluster(config: FarmConfig, log: Logger, opts: OpenOptions = {}): Promise<Cluster> {
  const cluster = await openBare(config, log, opts);
  return opts.web ? withWeb(cluster, config, log) : cluster;
}

async function openBare(config: FarmConfig, log: Logger, opts: OpenOptions): Promise<Cluster> {
  const name = opts.name ?? "farm-cli";
  if (!config.natsUrl && opts.attach !== false) {
    const running = findLocalFarm(config.dataDir);
    if (running) {
      log.debug({ url: running.url, pid: running.pid }, "using the farm up running on this data dir");
      const farm = await connectPipeline({ ...connectOptionsFrom(config, running.url, name), log, ensureTopology: false });
      return { farm, url: running.url, embedded: false, close: () => farm.close() };
    }
  }
  let server: NatsServer | undefined;
  // Its first lint thread loads ESLint while the rest starts (already started when the command called it first).
  prestartLintThread(config, opts);
  // Its services are this process's: a clone for its ingest can start now. Not awaited at close, as
  // ingest's own clone is not: Ctrl-C never waits for a clone.
  if (!config.natsUrl && opts.prefetch) void prefetchMirror(config, opts.prefetch, log);
  if (!config.natsUrl) {
    // The pid file lets the next run stop a server left behind by a killed one.
    server = await NatsServer.start({
      storeDir: path.join(config.dataDir, "nats"),
      pidFile: path.join(config.dataDir, "nats.pid"),
      port: opts.port,
      bin: config.natsServer,
    });
    log.debug({ url: server.url, store: server.storeDir }, "embedded nats-server started");
  }
  const url = config.natsUrl ?? server!.url;
  let farm: Farm | undefined;
  let services: Service[] = [];
  let operations: Operations | undefined;
  const close = async () => {
    await stopServices(services);
    await operations?.close();
    await farm?.close();
    await server?.stop();
  };
  try {
    farm = await connectPipeline({ ...connectOptionsFrom(config, url, name), replicas: config.replicas, log });
    // The embedded default is the whole cluster: it must run the services itself.
    const embeddedConfig = server ? { ...config, allowLocalRepos: true } : config;
    if (server || opts.services) {
      operations = await startOperations({ farm, config: embeddedConfig, log });
      services = await startServices(opts.reporter ? [...SERVICE_NAMES, "reporter"] : SERVICE_NAMES, { farm, config: embeddedConfig, log });
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { farm, url, embedded: Boolean(server), close };
}
