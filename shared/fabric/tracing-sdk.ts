/**
 * The OpenTelemetry SDK, loaded by shared/fabric/tracing.ts only when tracing is on:
 * the tracer provider with farm's resource, the W3C propagator, the
 * AsyncLocalStorage context manager and the exporter, registered process-wide.
 */
import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, ConsoleSpanExporter, TracerProvider, type SpanProcessor } from "@opentelemetry/sdk-trace";

export interface SdkOptions {
  /** A processor of the caller's (a test's); else one batching to `exporter`. */
  processor?: SpanProcessor;
  exporter?: "otlp" | "console";
  /** Where OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES are read (only process.env is detected). */
  env: NodeJS.ProcessEnv;
  resource: Record<string, string>;
}

export function registerSdk(o: SdkOptions): { shutdown(): Promise<void> } {
  // The OTLP exporter reads its endpoint, headers and timeout from the OTEL_EXPORTER_OTLP_* variables.
  const processor = o.processor ?? new BatchSpanProcessor({ exporter: o.exporter === "otlp" ? new OTLPTraceExporter() : new ConsoleSpanExporter() });
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, when set, override farm's own names.
  const fromEnv = o.env === process.env ? detectResources({ detectors: [envDetector] }) : undefined;
  const provider = new TracerProvider({
    resource: defaultResource()
      .merge(resourceFromAttributes(o.resource))
      .merge(fromEnv ?? null),
    spanProcessors: [processor],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return { shutdown: () => provider.shutdown() };
}
