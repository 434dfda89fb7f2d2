/**
 * Where the CLI's NATS comes from: the given cluster, or the embedded default
 * (a local nats-server child process plus all four services in this process).
 */
import path from "node:path";
import type { FarmConfig } from "../shared/config.js";
import { NatsServer } from "../shared/embedded.js";
import { connectOptionsFrom } from "../shared/connection.js";
import { Farm } from "../shared/farm.js";
import type { Logger } from "../shared/logger.js";
import type { Service } from "../shared/pipeline.js";
import { SERVICE_NAMES, startServices, stopServices } from "../services/index.js";

export interface Cluster {
  farm: Farm;
  /** The url other processes can use. */
  url: string;
  embedded: boolean;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Start the four services in-process (the embedded default always does). */
  services?: boolean;
  name?: string;
}

export async function openCluster(config: FarmConfig, log: Logger, opts: OpenOptions = {}): Promise<Cluster> {
  let server: NatsServer | undefined;
  if (!config.natsUrl) {
    // The pid file lets the next run stop a server left behind by a killed one.
    server = await NatsServer.start({ storeDir: path.join(config.dataDir, "nats"), pidFile: path.join(config.dataDir, "nats.pid") });
    log.debug({ url: server.url, store: server.storeDir }, "embedded nats-server started");
  }
  const url = config.natsUrl ?? server!.url;
  let farm: Farm | undefined;
  let services: Service[] = [];
  const close = async () => {
    await stopServices(services);
    await farm?.close();
    await server?.stop();
  };
  try {
    farm = await Farm.connect({ ...connectOptionsFrom(config, url, opts.name ?? "farm-cli"), replicas: config.replicas, log });
    // The embedded default is the whole cluster: it must run the services itself.
    const embeddedConfig = server ? { ...config, allowLocalRepos: true } : config;
    if (server || opts.services) services = await startServices(SERVICE_NAMES, { farm, config: embeddedConfig, log });
  } catch (err) {
    await close();
    throw err;
  }
  return { farm, url, embedded: Boolean(server), close };
}
