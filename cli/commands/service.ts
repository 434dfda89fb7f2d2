/** `farm service <name>`: run one service until SIGTERM (the container entrypoint). */
import { setFlagsFromString } from "node:v8";
import { connectOptionsFrom } from "../../shared/runtime/config.js";
import { connectPipeline } from "../../shared/pipeline/topology.js";
import { ALL_SERVICE_NAMES, isServiceName, startServices, stopServices } from "../../services/index.js";
import { startOperations } from "../../services/operations.js";
import { prewarmLintThreads } from "../../services/linter-runner/threads.js";
import { commandContext } from "../context.js";
import { UsageError } from "../errors.js";
import type { ConnectionFlags } from "../config.js";
import { untilSignal } from "../signals.js";

/**
 * Old-space growth after a full GC, in percent of what survived it. When GC
 * looks cheap V8 lets a heap grow to 4× what was live: on mocha's whole
 * history the aggregator's heap reached 400 MB holding 60 MB. Services that
 * keep little run with 1.5× (aggregator peak 384 → 239 MB, its CPU within the
 * run-to-run noise). Not the linter-runner: its lint threads' heaps are bounded
 * by their resource limits and were not measured with it.
 */
const HEAP_GROWING_PERCENT = 50;

export async function serviceCommand(name: string, flags: ConnectionFlags) {
  if (!isServiceName(name)) throw new UsageError(`unknown service "${name}": expected one of ${ALL_SERVICE_NAMES.join(", ")}`);
  // A service logs what it does unless told otherwise.
  const ctx = commandContext(flags, { logLevel: "info" });
  if (!ctx.config.natsUrl) throw new UsageError("a service needs a cluster: pass --nats URL or set NATS_URL");
  if (name !== "linter-runner") setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  // A linter-runner's first lint thread loads ESLint while the service connects and starts.
  if (name === "linter-runner") prewarmLintThreads(ctx.config);
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
