/** `farm up`: the whole cluster, locally, until Ctrl-C / SIGTERM; other commands on this data dir find it. */
import { removeLocalFarm, writeLocalFarm } from "../../shared/runtime/local-farm.js";
import { SERVICE_NAMES } from "../../services/index.js";
import { openCluster } from "../cluster.js";
import { UP_OPEN } from "../prestart.js";
import { commandContext } from "../context.js";
import type { ConnectionFlags } from "../config.js";
import { withWebFlags, type WebFlags } from "../options.js";
import { untilSignal } from "../signals.js";

interface UpFlags extends ConnectionFlags, WebFlags {
  /** --web: serve the web app too. */
  web?: boolean;
  /** --reporter: post results to the git host too (FARM_GITHUB_*). */
  reporter?: boolean;
  /** Client port of the embedded nats-server. Default 4222 (farm.ts); ignored with --nats. */
  port: number;
}

export async function upCommand(flags: UpFlags) {
  const ctx = commandContext(flags);
  const config = flags.web ? withWebFlags(ctx.config, flags) : ctx.config;
  const cluster = await openCluster(config, ctx.log, {
    ...UP_OPEN,
    name: "farm-up",
    port: flags.port,
    web: flags.web,
    reporter: flags.reporter,
  });
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
    JSON.stringify({
      msg: "farm ready",
      nats: cluster.url,
      embedded: cluster.embedded,
      services: flags.reporter ? [...SERVICE_NAMES, "reporter"] : SERVICE_NAMES,
      web: cluster.web?.url,
    }) + "\n",
  );
  const sig = await stopped;
  ctx.log.info({ signal: sig }, "stopping");
  // Gone before the cluster is: no new client attaches to a stopping farm.
  if (cluster.embedded) removeLocalFarm(dataDir);
  await cluster.close();
}
