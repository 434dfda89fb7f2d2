/** `farm web`: the web app, on the cluster given, the `farm up` running on this data dir, or the embedded default. */
import { removeLocalFarm, writeLocalFarm } from "../../shared/runtime/local-farm.js";
import { openCluster } from "../cluster.js";
import { commandContext } from "../context.js";
import type { ConnectionFlags } from "../config.js";
import { withWebFlags } from "../options.js";
import { untilSignal } from "../signals.js";

interface WebCommandFlags extends ConnectionFlags {
  /** --port, over FARM_WEB_PORT (read into the config, not by commander). */
  port?: number;
  /** --host, over FARM_WEB_HOST. */
  host?: string;
  /** --public, or FARM_WEB_PUBLIC. */
  public?: boolean;
}

/** The line scripts and people read: always printed, whatever the log level. */
export function webReadyLine(url: string, nats: string): string {
  return JSON.stringify({ msg: "farm web ready", url, nats }) + "\n";
}

export async function webCommand(flags: WebCommandFlags) {
  const ctx = commandContext(flags);
  const config = withWebFlags(ctx.config, { webPort: flags.port, webHost: flags.host, public: flags.public });
  const cluster = await openCluster(config, ctx.log, { name: "farm-web", web: true });
  const stopped = untilSignal();
  // Started here, the embedded default is this data dir's cluster: other commands find it, as they find `farm up`.
  if (cluster.embedded) {
    writeLocalFarm(config.dataDir, cluster.url);
    process.once("exit", () => removeLocalFarm(config.dataDir));
  }
  process.stdout.write(webReadyLine(cluster.web!.url, cluster.url));
  const sig = await stopped;
  ctx.log.info({ signal: sig }, "stopping");
  if (cluster.embedded) removeLocalFarm(config.dataDir);
  await cluster.close();
}
