/** Long-running commands: `farm up` (the whole cluster) and `farm service <name>` (one service). */
import { connectOptionsFrom } from "../../shared/runtime/config.js";
import { connectPipeline } from "../../shared/pipeline/topology.js";
import { removeLocalFarm, writeLocalFarm } from "../../shared/runtime/local-farm.js";
import { ALL_SERVICE_NAMES, isServiceName, SERVICE_NAMES, startServices, stopServices } from "../../services/index.js";
import { startOperations } from "../../services/operations.js";
import { openCluster } from "../cluster.js";
import { commandContext, UsageError, type ConnectionFlags } from "../context.js";
import { untilSignal } from "../signals.js";
import { withWebFlags, type WebFlags } from "./web.js";

interface UpFlags extends ConnectionFlags, WebFlags {
  /** --web: serve the web app too. */
  web?: boolean;
  /** Client port of the embedded nats-server. Default "4222" (farm.ts); ignored with --nats. */
  port: string;
}

/** A TCP port, 1-65535. */
export function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < 1 || n > 65535)
    throw new UsageError(`--port must be an integer from 1 to 65535, got "${value}"`);
  return n;
}

export async function upCommand(flags: UpFlags) {
  const ctx = commandContext(flags);
  const port = parsePort(flags.port);
  // attach: false: this is the farm up the others attach to; a second one on the data dir fails (store in use).
  const config = flags.web ? withWebFlags(ctx.config, flags) : ctx.config;
  const cluster = await openCluster(config, ctx.log, { services: true, name: "farm-up", port, attach: false, web: flags.web });
  const stopped = untilSignal();
  const dataDir = ctx.config.dataDir;
  if (cluster.embedded) {
    // Only now, server and services ready: a client that finds the record finds a working cluster.
    writeLocalFarm(dataDir, cluster.url);
    // Also on a forced exit (a second signal); only SIGKILL leaves it, and readers see its pid is gone.
    process.once("exit", () => removeLocalFarm(dataDir));
  }
  // The ready line is what scripts wait for: always printed, whatever the log level.
  process.stdout.write(
    JSON.stringify({ msg: "farm ready", nats: cluster.url, embedded: cluster.embedded, services: SERVICE_NAMES, web: cluster.web?.url }) + "\n",
  );
  const sig = await stopped;
  ctx.log.info({ signal: sig }, "stopping");
  // Gone before the cluster is: no new client attaches to a stopping farm.
  if (cluster.embedded) removeLocalFarm(dataDir);
  await cluster.close();
}

export async function serviceCommand(name: string, flags: ConnectionFlags) {
  if (!isServiceName(name)) throw new UsageError(`unknown service "${name}": expected one of ${ALL_SERVICE_NAMES.join(", ")}`);
  const ctx = commandContext({ ...flags, logLevel: flags.logLevel ?? "info" });
  if (!ctx.config.natsUrl) throw new UsageError("a service needs a cluster: pass --nats URL or set NATS_URL");
  const farm = await connectPipeline({
    ...connectOptionsFrom(ctx.config, ctx.config.natsUrl, `farm-${name}`),
    replicas: ctx.config.replicas,
    // The web app only reads (and queues requests): it creates no stream, so its NATS user needs no create rights.
    ensureTopology: name !== "web",
    log: ctx.log.child({ service: name }),
  });
  // A service that cannot start (the web app's bad address or port) must not leave the connection holding the process open.
  const operations = await startOperations({ farm, config: ctx.config, log: farm.log }).catch(async (err: unknown) => {
    await farm.close();
    throw err;
  });
  const services = await startServices([name], { farm, config: ctx.config, log: farm.log }).catch(async (err: unknown) => {
    await operations.close();
    await farm.close();
    throw err;
  });
  const stopped = untilSignal();
  farm.log.info({ service: name, nats: ctx.config.natsUrl }, "service ready");
  const sig = await stopped;
  farm.log.info({ signal: sig }, "stopping");
  await stopServices(services);
  await operations.close();
  await farm.close();
}
