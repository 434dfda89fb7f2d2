/**
 * What the operator of one process sees beside its services: Prometheus metrics
 * on /metrics (FARM_METRICS_PORT, off by default) and traces (only when the OTLP
 * environment names an exporter). Started once per process, before its
 * services so their first tasks are observed, and closed after them.
 */
import type { ServiceContext } from "../shared/pipeline/service.js";
import { bindMetrics, unbindMetrics, type FarmMetrics } from "../shared/pipeline/counts.js";
import { DLQ_STREAM } from "../shared/fabric/names.js";
import { EVENTS_STREAM, servedBy } from "../shared/pipeline/names.js";
import { startTracing, type TracingOptions } from "../shared/fabric/tracing.js";

export interface Operations {
  /** The metrics endpoint, when one listens (`http://host:port/metrics`). */
  metricsUrl?: string;
  /** What this process's services count into, when metrics are on (they find it through their farm). */
  metrics?: FarmMetrics;
  close(): Promise<void>;
}

export type OperationsContext = Pick<ServiceContext, "farm" | "config" | "log"> & {
  /** Tracing whatever the OTEL_* environment says (a test's in-memory exporter): see shared/fabric/tracing.ts. */
  tracing?: TracingOptions;
};

export async function startOperations(ctx: OperationsContext): Promise<Operations> {
  const closers: (() => Promise<void>)[] = [];
  const operations: Operations = {
    close: async () => {
      for (const close of closers.reverse()) await close();
    },
  };
  try {
    const metrics = await startMetrics(ctx);
    if (metrics) {
      operations.metricsUrl = metrics.url;
      operations.metrics = metrics.metrics;
      closers.push(metrics.close);
    }
    const traces = await startTraces(ctx);
    if (traces) closers.push(traces.close);
  } catch (err) {
    // What started is stopped: a failed start must not leave a port listening.
    await operations.close();
    throw err;
  }
  return operations;
}

/**
 * A span around every task of the farm's workers, and trace context on what
 * they publish: only when the OTLP environment names an exporter (or a test
 * passes its processor). Off, nothing is registered and no task is wrapped.
 */
async function startTraces(ctx: OperationsContext) {
  // `farm service <name>` logs with its service's name: a process of one service says so in its traces.
  const service = (ctx.log.bindings() as { service?: unknown }).service;
  const tracing = await startTracing({
    ...ctx.tracing,
    service: typeof service === "string" ? service : undefined,
    serviceOf: (subject) => servedBy[subject],
    log: ctx.log,
  });
  if (tracing) ctx.farm.observe(tracing.observer);
  return tracing;
}

/**
 * The process's registry (prom-client's process metrics, farm's counters, the
 * JetStream gauges), its /metrics server, and the hooks that count: none of it
 * when FARM_METRICS_PORT is unset.
 */
async function startMetrics(ctx: OperationsContext) {
  const { farm, config, log } = ctx;
  if (config.metricsPort === undefined) return undefined;
  // prom-client and an HTTP server load only here: a process that serves no metrics never loads them.
  const [{ countReconnects, createMetrics, processRegistry, registerJetStreamGauges, taskObserver }, { serveMetrics }] = await Promise.all([
    import("../shared/pipeline/metrics.js"),
    import("../shared/runtime/metrics-server.js"),
  ]);
  const registry = processRegistry();
  const metrics = createMetrics(registry);
  const streams = [...farm.queues.list().map((q) => q.stream), DLQ_STREAM, EVENTS_STREAM];
  registerJetStreamGauges(registry, { jsm: farm.jsm, streams: () => streams, consumers: () => farm.workQueues(), fair: () => farm.fairQueues() }, log);
  const server = await serveMetrics(registry, { host: config.metricsHost, port: config.metricsPort, log });
  // Observers cannot be removed from a farm: a closed one lets tasks through uncounted.
  let on = true;
  farm.observe(taskObserver(metrics, () => on));
  const stopReconnects = countReconnects(farm.nc, metrics);
  bindMetrics(farm, metrics);
  return {
    url: server.url,
    metrics,
    close: async () => {
      on = false;
      unbindMetrics(farm, metrics);
      stopReconnects();
      await server.close();
    },
  };
}
