/**
 * A command's config: the environment with the connection's flags over it.
 * Light (no NATS client): a command reads it before it loads its own modules.
 */
import { loadConfig, type FarmConfig } from "../shared/runtime/config.js";
import { UsageError } from "./errors.js";

export interface ConnectionFlags {
  nats?: string;
  creds?: string;
  user?: string;
  password?: string;
  inboxPrefix?: string;
  logLevel?: string;
}

/**
 * Quiet by default on the command line: progress and results go to the
 * terminal, logs only when asked (`logLevel`: the command's own default,
 * "warn" unless given). A bad setting is a UsageError.
 */
export function commandConfig(flags: ConnectionFlags, defaults: { logLevel?: string } = {}): FarmConfig {
  try {
    const overrides = {
      natsUrl: flags.nats || undefined,
      creds: flags.creds || undefined,
      user: flags.user || undefined,
      password: flags.password || undefined,
      inboxPrefix: flags.inboxPrefix || undefined,
      logLevel: flags.logLevel || undefined,
    };
    return loadConfig(process.env, overrides, { logLevel: defaults.logLevel ?? "warn" });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
