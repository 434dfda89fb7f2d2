/** `farm web`: the web app, on the cluster given, the `farm up` running on this data dir, or the embedded default. */
import { removeLocalFarm, writeLocalFarm } from "../../shared/runtime/local-farm.js";
import type { FarmConfig } from "../../shared/runtime/config.js";
import { openCluster } from "../cluster.js";
import { commandContext, UsageError, type ConnectionFlags } from "../context.js";
import { untilSignal } from "../signals.js";
import { parsePort } from "./run.js";

export interface WebFlags {
  /** --port / FARM_WEB_PORT (commander fills it from the environment). */
  webPort?: string;
  /** --host / FARM_WEB_HOST. */
  webHost?: string;
  /** --public / FARM_WEB_PUBLIC. */
  public?: boolean;
}

/** The config with the web flags over it: flags beat FARM_WEB_* (already in the config). */
export function withWebFlags(config: FarmConfig, flags: WebFlags): FarmConfig {
  if (flags.webHost !== undefined && flags.webHost.trim() === "") throw new UsageError("--host must not be empty");
  return {
    ...config,
    webPort: flags.webPort !== undefined ? parsePort(flags.webPort) : config.webPort,
    webHost: flags.webHost ?? config.webHost,
    webPublic: flags.public || config.webPublic,
  };
}

/** The line scripts and people read: always printed, whatever the log level. */
export function webReadyLine(url: string, nats: string): string {
  return JSON.stringify({ msg: "farm web ready", url, nats }) + "\n";
}

export async function webCommand(flags: ConnectionFlags & { port?: string; host?: string; public?: boolean }) {
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
