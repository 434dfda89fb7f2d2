/**
 * What a pipeline service is and what it is given: apart from the wire types
 * (contract.ts), so that the stores can use those without a cycle.
 */
import type { ServiceEndpoint } from "../fabric/discovery.js";
import type { Farm } from "../fabric/farm.js";
import type { Logger } from "../fabric/logger.js";
import type { FarmConfig } from "../runtime/config.js";
import type { FarmMetrics } from "./counts.js";
import type { Stores } from "./stores/index.js";

/** A running service: stops cleanly. */
export interface Service {
  name: string;
  close(): Promise<void>;
  /** Counters of this instance, for operators and tests (e.g. ingest's clones and fetches). */
  stats?(): Record<string, unknown>;
  /**
   * What this instance serves, as the services protocol lists it (`$SRV.INFO`,
   * shared/fabric/discovery.ts): each worker's subject, its queue group when it takes
   * requests, its stream and durable when it consumes a work queue (Worker.endpoint).
   */
  endpoints?: readonly ServiceEndpoint[];
}

export interface ServiceContext {
  farm: Farm;
  config: FarmConfig;
  log: Logger;
  /**
   * Stores shared by the services of one process (the embedded default), so
   * that what one stage writes the next reads from memory. Default: each
   * service opens its own.
   */
  stores?: Stores;
  /**
   * What the services count (shared/pipeline/metrics.ts). Default: what the farm's
   * operations serve on /metrics, or nothing read when metrics are off.
   */
  metrics?: FarmMetrics;
}
