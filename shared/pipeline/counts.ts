/**
 * What the services count, and where it goes: the metrics a farm's operations
 * serve on /metrics (shared/pipeline/metrics.ts, prom-client), or nowhere when
 * metrics are off. Light: a process that serves no metrics never loads
 * prom-client (and the OpenTelemetry API it loads), a twentieth of a second
 * of every start-up.
 */
import type { Counter, Histogram, Registry } from "prom-client";
import type { Farm } from "../fabric/farm.js";

/** farm's metrics in one process's registry (createMetrics in metrics.ts). */
export interface FarmMetrics extends ServiceCounts {
  readonly registry: Registry;
  readonly tasks: Counter<"subject" | "via" | "outcome">;
  readonly tasksRedelivered: Counter<"subject">;
  readonly tasksDeadLettered: Counter<"subject">;
  readonly taskDuration: Histogram<"subject" | "via">;
  readonly lintFileDuration: Histogram;
  readonly resultCacheHits: Counter;
  readonly resultCacheMisses: Counter;
  readonly commitsAnalyzed: Counter;
  readonly filesLinted: Counter;
  readonly natsReconnects: Counter;
}

/** What a service's handlers count (through {@link metricsOf}). */
export interface ServiceCounts {
  readonly lintFileDuration: Pick<Histogram, "observe">;
  readonly resultCacheHits: Pick<Counter, "inc">;
  readonly resultCacheMisses: Pick<Counter, "inc">;
  readonly commitsAnalyzed: Pick<Counter, "inc">;
  readonly filesLinted: Pick<Counter, "inc">;
}

const nowhere = { inc: () => {}, observe: () => {} };
/** Metrics off: counting is a call that does nothing, and no handler needs to ask whether it should. */
const UNCOUNTED: ServiceCounts = {
  lintFileDuration: nowhere,
  resultCacheHits: nowhere,
  resultCacheMisses: nowhere,
  commitsAnalyzed: nowhere,
  filesLinted: nowhere,
};

/** The metrics a farm's operations registered (see {@link bindMetrics}). */
const byFarm = new WeakMap<Farm, FarmMetrics>();

/** Services on `farm` count into `metrics` unless their context names others. */
export function bindMetrics(farm: Farm, metrics: FarmMetrics): void {
  byFarm.set(farm, metrics);
}

export function unbindMetrics(farm: Farm, metrics: FarmMetrics): void {
  if (byFarm.get(farm) === metrics) byFarm.delete(farm);
}

/** What a service counts into: its context's metrics, else those its farm's operations serve, else nowhere. */
export function metricsOf(ctx: { farm?: Farm; metrics?: FarmMetrics }): ServiceCounts {
  return ctx.metrics ?? (ctx.farm && byFarm.get(ctx.farm)) ?? UNCOUNTED;
}
