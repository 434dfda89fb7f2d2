/** One NATS connection per process, with the farm's auth and reconnect policy. */
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { readFile } from "node:fs/promises";
import { ErrorCodes, FarmError } from "./errors.js";

export interface ConnectOptions {
  servers: string;
  /** Connection name shown by the server's monitoring. */
  name?: string;
  creds?: string;
  user?: string;
  password?: string;
  /** Give up the first connect after this many ms. Default 5000. */
  timeout?: number;
  /**
   * Prefix of this connection's reply subjects. Default `_INBOX`. A per-user
   * prefix (e.g. `_INBOX_ingest`) lets the server allow each user its own replies only.
   */
  inboxPrefix?: string;
  /**
   * Capture where each request started, for its timeout's stack trace. Default
   * false: it costs an Error per request (3.7 s of the main thread's CPU in a
   * 200-commit cold analysis), and farm's own errors name the subject anyway.
   * farm's processes set it from FARM_ASYNC_TRACES (on in the tests).
   */
  asyncTraces?: boolean;
}

/** No server of the cluster answered the connect (transient: worth another try later). */
export class ClusterUnreachableError extends FarmError {
  constructor(servers: string, cause: unknown) {
    super(`cannot reach NATS at ${servers}: ${(cause as Error)?.message ?? String(cause)}`, ErrorCodes.ClusterUnreachable, { cause });
  }
}

export async function connectNats(opts: ConnectOptions): Promise<NatsConnection> {
  const authenticator = opts.creds ? credsAuthenticator(await readFile(opts.creds)) : undefined;
  try {
    return await connect({
      servers: opts.servers.split(",").map((s) => s.trim()),
      name: opts.name,
      user: opts.user,
      pass: opts.password,
      authenticator,
      timeout: opts.timeout ?? 5000,
      inboxPrefix: opts.inboxPrefix,
      noAsyncTraces: !opts.asyncTraces,
      // Once connected, keep trying forever: a service outlives a cluster restart.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
  } catch (err) {
    throw new ClusterUnreachableError(opts.servers, err);
  }
}
