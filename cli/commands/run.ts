/** Long-running commands: `farm up` (the whole cluster) and `farm service <name>` (one service). */
import { connectOptionsFrom } from "../../shared/connection.js";
import { Farm } from "../../shared/farm.js";
import { isServiceName, SERVICE_NAMES, startServices, stopServices } from "../../services/index.js";
import { openCluster } from "../cluster.js";
import { commandContext, UsageError, type ConnectionFlags } from "../context.js";
import { untilSignal } from "../signals.js";

export async function upCommand(flags: ConnectionFlags) {
  const ctx = commandContext(flags);
  const cluster = await openCluster(ctx.config, ctx.log, { services: true, name: "farm-up" });
  const stopped = untilSignal();
  // The ready line is what scripts wait for: always printed, whatever the log level.
  process.stdout.write(JSON.stringify({ msg: "farm ready", nats: cluster.url, embedded: cluster.embedded, services: SERVICE_NAMES }) + "\n");
  const sig = await stopped;
  ctx.log.info({ signal: sig }, "stopping");
  await cluster.close();
}

export async function serviceCommand(name: string, flags: ConnectionFlags) {
  if (!isServiceName(name)) throw new UsageError(`unknown service "${name}": expected one of ${SERVICE_NAMES.join(", ")}`);
  const ctx = commandContext({ ...flags, logLevel: flags.logLevel ?? "info" });
  if (!ctx.config.natsUrl) throw new UsageError("a service needs a cluster: pass --nats URL or set NATS_URL");
  const farm = await Farm.connect({
    ...connectOptionsFrom(ctx.config, ctx.config.natsUrl, `farm-${name}`),
    replicas: ctx.config.replicas,
    log: ctx.log.child({ service: name }),
  });
  const services = await startServices([name], { farm, config: ctx.config, log: farm.log });
  const stopped = untilSignal();
  farm.log.info({ service: name, nats: ctx.config.natsUrl }, "service ready");
  const sig = await stopped;
  farm.log.info({ signal: sig }, "stopping");
  await stopServices(services);
  await farm.close();
}
