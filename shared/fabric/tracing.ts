/**
 * Traces: W3C trace context (`traceparent`, `tracestate`) in NATS headers on
 * every hop farm makes on behalf of a task, a span around every task a worker
 * runs, and an exporter only when the operator names one (the OTLP environment)
 * or a test brings its own span processor.
 *
 * Off is the default and costs nothing: neither OpenTelemetry's API nor the SDK
 * (shared/fabric/tracing-sdk.ts) is even loaded, and every call site checks `tracingOn` (a plain boolean)
 * before it touches OpenTelemetry, so the hot paths add no header, no object
 * and no call. There is no OpenTelemetry instrumentation of
 * NATS for Node: the headers are injected and extracted here.
 */
import type * as Otel from "@opentelemetry/api";
import type { SpanProcessor } from "@opentelemetry/sdk-trace";
import { headers as natsHeaders, Match, type MsgHdrs } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { FARM_VERSION } from "./version.js";
import type { TaskInfo, WorkerObserver } from "./worker/observers.js";

/**
 * True while this process traces (between startTracing and close). Read it
 * before any other call of this module on a hot path: when false, nothing else
 * needs to run.
 */
export let tracingOn = false;

/** OpenTelemetry's API, loaded when tracing starts (a thirtieth of a second of every start-up otherwise): set whenever `tracingOn`. */
let otel: typeof Otel;

export interface TracingOptions {
  /** Trace with this processor (a test's SimpleSpanProcessor over an InMemorySpanExporter) whatever the environment says. */
  spanProcessor?: SpanProcessor;
  /** Where the OTEL_* variables are read. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The process's service (`farm service <name>`): service.name `farm-<name>`; default "farm" (every service in one process). */
  service?: string;
  /** Which service serves a subject, for the span attribute `farm.service` (one process may run them all). */
  serviceOf?: (subject: string) => string | undefined;
  log?: Pick<Logger, "info">;
}

export interface Tracing {
  /** Register it on the farm (`farm.observe`): a span around every task. */
  observer: WorkerObserver;
  /** Flushes what is buffered, then unregisters the process-wide provider, propagator and context manager. */
  close: () => Promise<void>;
}

const getter: Otel.TextMapGetter<MsgHdrs> = {
  keys: (h) => h.keys(),
  // Any case: a client may have sent `Traceparent`. MsgHdrs answers "" for a missing key.
  get: (h, key) => h.get(key, Match.IgnoreCase) || undefined,
};

const setter: Otel.TextMapSetter<MsgHdrs> = {
  set: (h, key, value) => h.set(key, value),
};

/**
 * The parent of a queued task's outgoing result: its span's context, by the
 * task's headers (the same object from delivery to result). Results are sent
 * after the task's span has ended, outside its context.
 */
const taskContexts = new WeakMap<MsgHdrs, Otel.Context>();

/** The trace fields of `ctx` (by default the active one) as plain strings; undefined when there is no span to propagate. */
export function traceFields(ctx: Otel.Context = otel.context.active()): Record<string, string> | undefined {
  const fields: Record<string, string> = {};
  otel.propagation.inject(ctx, fields);
  return Object.keys(fields).length > 0 ? fields : undefined;
}

/** Sets fields from {@link traceFields} on `h` (one injection, copied onto many messages). */
export function setTraceFields(h: MsgHdrs, fields: Record<string, string>): MsgHdrs {
  for (const k in fields) h.set(k, fields[k]);
  return h;
}

/** Sets the trace fields of `ctx` (by default the active one) on `h`. Call only when `tracingOn`. */
export function injectTrace(h: MsgHdrs, ctx: Otel.Context = otel.context.active()): MsgHdrs {
  otel.propagation.inject(ctx, h, setter);
  return h;
}

/** Sets the trace fields of the task that owns `taskHeaders` (a queued task's result) on `h`. Call only when `tracingOn`. */
export function injectTaskTrace(h: MsgHdrs, taskHeaders: MsgHdrs | undefined): MsgHdrs {
  return injectTrace(h, (taskHeaders && taskContexts.get(taskHeaders)) || otel.context.active());
}

/**
 * Headers for a client's publish (`repo.new_sha`): the active span's trace
 * fields, or undefined (no headers at all) when tracing is off or no span is active.
 */
export function traceHeaders(): MsgHdrs | undefined {
  if (!tracingOn) return undefined;
  const fields = traceFields();
  return fields ? setTraceFields(natsHeaders(), fields) : undefined;
}

/** Runs `fn` in a child span of the active one (a step of a task: a clone, a fetch); just `fn()` when tracing is off. */
export function inSpan<X>(name: string, fn: () => Promise<X>): Promise<X> {
  if (!tracingOn) return fn();
  return tracer().startActiveSpan(name, (span) => ended(span, fn));
}

function tracer(): Otel.Tracer {
  return otel.trace.getTracer("farm", FARM_VERSION);
}

/** Awaits `fn`, records its failure on `span`, and ends the span either way. */
async function ended<X>(span: Otel.Span, fn: () => Promise<X>): Promise<X> {
  try {
    return await fn();
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    span.recordException(e);
    span.setStatus({ code: otel.SpanStatusCode.ERROR, message: e.message });
    throw err;
  } finally {
    span.end();
  }
}

/** The span of every task: its parent is the message's traceparent, else it starts a trace (a client's request without one). */
function taskObserver(serviceOf: TracingOptions["serviceOf"]): WorkerObserver {
  return {
    around: <X>(task: TaskInfo, next: () => Promise<X>): Promise<X> => {
      // A farm cannot drop an observer: once tracing is closed, tasks pass through.
      if (!tracingOn) return next();
      // From the root, not the active context: a task's parent is its message, never whatever ran before it.
      const parent = task.headers ? otel.propagation.extract(otel.ROOT_CONTEXT, task.headers, getter) : otel.ROOT_CONTEXT;
      const service = serviceOf?.(task.subject);
      const span = tracer().startSpan(
        `${task.subject} process`,
        {
          kind: task.via === "send" ? otel.SpanKind.SERVER : otel.SpanKind.CONSUMER,
          attributes: {
            "messaging.system": "nats",
            "messaging.destination.name": task.subject,
            "messaging.operation.type": "process",
            "farm.task.id": task.id,
            "farm.task.via": task.via,
            "farm.task.attempt": task.attempt,
            ...(service ? { "farm.service": service } : {}),
          },
        },
        parent,
      );
      const ctx = otel.trace.setSpan(parent, span);
      if (task.headers) taskContexts.set(task.headers, ctx);
      return otel.context.with(ctx, () => ended(span, next));
    },
  };
}

/** The exporter the environment asks for (OTLP over HTTP, or the console), or undefined: tracing stays off. */
function exporterFromEnv(env: NodeJS.ProcessEnv): "otlp" | "console" | undefined {
  if (/^true$/i.test(env.OTEL_SDK_DISABLED ?? "")) return undefined;
  const named = (env.OTEL_TRACES_EXPORTER ?? "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const otlp = named.length ? named.includes("otlp") : Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  if (otlp) return "otlp";
  if (named.includes("console")) return "console";
  return undefined;
}

/** What this process registered, shared by every startTracing until the last close. */
let current: { tracing: Promise<Tracing>; users: number } | undefined;

/**
 * Starts tracing when the environment names an exporter (OTEL_TRACES_EXPORTER
 * `otlp`/`console`, or an OTEL_EXPORTER_OTLP_ENDPOINT / _TRACES_ENDPOINT) or
 * `opts.spanProcessor` is given; undefined (and nothing loaded or registered)
 * otherwise. Process-wide, like OpenTelemetry's globals: a second call while
 * tracing shares the first's provider, and the last close unregisters it.
 */
export async function startTracing(opts: TracingOptions = {}): Promise<Tracing | undefined> {
  if (current) {
    current.users++;
    return handle(await current.tracing);
  }
  const env = opts.env ?? process.env;
  const exporter = opts.spanProcessor ? undefined : exporterFromEnv(env);
  if (!opts.spanProcessor && !exporter) return undefined;
  const start = async (): Promise<Tracing> => {
    // Loaded only now: a process that does not trace never loads the API or the SDK.
    const [{ registerSdk }, api] = await Promise.all([import("./tracing-sdk.js"), import("@opentelemetry/api")]);
    otel = api;
    const sdk = registerSdk({
      processor: opts.spanProcessor,
      exporter,
      env,
      resource: { "service.name": opts.service ? `farm-${opts.service}` : "farm", "service.version": FARM_VERSION },
    });
    tracingOn = true;
    return {
      observer: taskObserver(opts.serviceOf),
      close: async () => {
        tracingOn = false;
        try {
          await sdk.shutdown();
        } finally {
          // Unregistered so that whatever runs next in this process (another test file's farm) traces nothing.
          otel.trace.disable();
          otel.propagation.disable();
          otel.context.disable();
        }
      },
    };
  };
  const registered = { tracing: start(), users: 1 };
  current = registered;
  let tracing: Tracing;
  try {
    tracing = await registered.tracing;
  } catch (err) {
    if (current === registered) current = undefined;
    throw err;
  }
  opts.log?.info({ exporter: opts.spanProcessor ? "given" : exporter }, "tracing on");
  return handle(tracing);
}

/** One user's view of the registered tracing: its close (idempotent) lets go, and the last one shuts it down. */
function handle(tracing: Tracing): Tracing {
  let closing: Promise<void> | undefined;
  const release = async () => {
    if (!current || (await current.tracing) !== tracing || --current.users > 0) return;
    current = undefined;
    await tracing.close();
  };
  return { observer: tracing.observer, close: () => (closing ??= release()) };
}
