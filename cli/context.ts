/** What every command needs: config from env + flags, a logger, exit codes, a cluster. */
import { errors as natsErrors } from "@nats-io/transport-node";
import { ClusterUnreachableError } from "../shared/fabric/connection.js";
import { connectOptionsFrom, type FarmConfig } from "../shared/runtime/config.js";
import { NatsServerMissingError, PortUnavailableError, StoreInUseError } from "../shared/runtime/embedded.js";
import { isPermanent, NoRespondersError, TimeoutError } from "../shared/fabric/errors.js";
import type { Farm } from "../shared/fabric/farm.js";
import { connectPipeline } from "../shared/pipeline/topology.js";
import { createLogger, type Logger } from "../shared/fabric/logger.js";
import { findLocalFarm } from "../shared/runtime/local-farm.js";
import { commandConfig, type ConnectionFlags } from "./config.js";
import { EXIT, UsageError } from "./errors.js";

export function exitCodeOf(err: unknown): number {
  // Bad input, here or at a worker (an InvalidInputError is a PermanentError): trying again will not help.
  if (err instanceof UsageError || isPermanent(err)) return EXIT.usage;
  const unreachable = [ClusterUnreachableError, NatsServerMissingError, StoreInUseError, PortUnavailableError];
  if (unreachable.some((E) => err instanceof E)) return EXIT.unreachable;
  // The cluster is there but nobody answered (in time): like unreachable, worth another try.
  if (err instanceof natsErrors.TimeoutError || err instanceof TimeoutError || err instanceof NoRespondersError) return EXIT.unreachable;
  return EXIT.internal;
}

/** What the CLI prints for an error: its first line; the NATS client's bare "timeout" gets what it means and what to do. */
export function errorLine(err: unknown): string {
  if (err instanceof natsErrors.TimeoutError) {
    return "the cluster did not answer in time (busy, or electing a stream leader after a node left): try again; `farm status` shows the streams";
  }
  return ((err as Error)?.message ?? String(err)).split("\n")[0];
}

export interface CommandContext {
  config: FarmConfig;
  log: Logger;
}

/** The command's config (cli/config.ts) and a logger at its level. */
export function commandContext(flags: ConnectionFlags, defaults: { logLevel?: string } = {}): CommandContext {
  const config = commandConfig(flags, defaults);
  return { config, log: createLogger({ level: config.logLevel, pretty: config.logPretty, name: "farm" }) };
}

/**
 * Client commands talk to a running cluster; they never start one. Without
 * --nats / NATS_URL: the `farm up` running on this data dir, whose url then
 * becomes ctx.config.natsUrl (what the command prints names the cluster it used).
 */
export async function connectClient(ctx: CommandContext, name: string): Promise<Farm> {
  if (!ctx.config.natsUrl) {
    const running = findLocalFarm(ctx.config.dataDir);
    if (!running) {
      throw new UsageError(`no cluster given: start \`farm up\` (this data dir: ${ctx.config.dataDir}) or pass --nats URL / set NATS_URL`);
    }
    ctx.config.natsUrl = running.url;
  }
  return connectPipeline({ ...connectOptionsFrom(ctx.config, ctx.config.natsUrl, name), log: ctx.log, ensureTopology: false });
}
