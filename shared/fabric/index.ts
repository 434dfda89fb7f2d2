/** The farm library: the four verbs (send, distribute, events, worker), queues, dead letters, codec, errors, discovery. */
export * from "./errors.js";
export * from "./codec.js";
export * from "./logger.js";
export * from "./connection.js";
export * from "./queues.js";
export * from "./names.js";
export { whenReady, type TopologyOptions } from "./topology.js";
export * from "./envelope.js";
export * from "./jobs.js";
export * from "./events.js";
export * from "./worker.js";
export type { TaskInfo, WorkerObserver } from "./worker/observers.js";
export * from "./dlq.js";
export * from "./farm.js";
export * from "./concurrency.js";
export { startDiscovery } from "./discovery.js";
export { startTracing, traceHeaders, type TracingOptions } from "./tracing.js";
