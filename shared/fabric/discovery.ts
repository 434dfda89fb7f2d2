/**
 * The NATS services protocol (ADR-32): every farm service instance answers
 * `$SRV.PING|INFO|STATS`, bare, `.<name>` and `.<name>.<id>`, so `nats micro
 * ls|info|stats|ping` list farm's services, their endpoints and per-endpoint
 * counts like any other NATS service's.
 *
 * Hand-made, not `@nats-io/services`: that package exists only as the
 * prerelease 3.0.0-25, which pins `@nats-io/nats-core` 3.0.0-50, so npm installs
 * a second, prerelease copy of the core beside the 3.3.1 farm runs on. And its
 * endpoints are its own subscriptions, while farm's endpoints are workers
 * (queue-group requests and JetStream work queues). The three verbs are small:
 * nine plain subscriptions answering JSON whose field names are those of
 * nats.go's micro package (the JSON schemas io.nats.micro.v1.*_response).
 *
 * Counts come from one worker observer per Farm (`endpointStats`), keyed by
 * subject: the embedded default runs every service on one Farm, and each
 * service's $SRV answers only for the subjects of its own endpoints.
 */
import os from "node:os";
import { nuid, type Msg, type Subscription } from "@nats-io/transport-node";
import { ErrorCodes, FarmError } from "./errors.js";
import type { Farm } from "./farm.js";
import { redactUrl } from "./redact.js";
import { durableName } from "./names.js";
import { FARM_VERSION } from "./version.js";
import type { TaskInfo, WorkerObserver } from "./worker/observers.js";

export const SRV_PREFIX = "$SRV";
export const SRV_VERBS = ["PING", "INFO", "STATS"] as const;
export type SrvVerb = (typeof SRV_VERBS)[number];

export const responseTypes = {
  PING: "io.nats.micro.v1.ping_response",
  INFO: "io.nats.micro.v1.info_response",
  STATS: "io.nats.micro.v1.stats_response",
} as const satisfies Record<SrvVerb, string>;

/** ADR-32's service and endpoint names: what `nats micro` accepts. */
const NAME_RE = /^[A-Za-z0-9_-]+$/;

/** One endpoint of a service: a worker's subject and how it takes work (Worker.endpoint). */
export interface ServiceEndpoint {
  subject: string;
  queueGroup?: string;
  requests: boolean;
  workQueue?: { stream: string; consumer: string };
}

interface Identity {
  name: string;
  id: string;
  version: string;
  metadata: Record<string, string>;
}

export interface PingResponse extends Identity {
  type: typeof responseTypes.PING;
}

export interface EndpointInfo {
  name: string;
  subject: string;
  /** Only on endpoints that serve requests (a work queue takes none). */
  queue_group?: string;
  metadata: Record<string, string>;
}

export interface InfoResponse extends Identity {
  type: typeof responseTypes.INFO;
  description: string;
  endpoints: EndpointInfo[];
}

export interface EndpointStatsResponse {
  name: string;
  subject: string;
  queue_group?: string;
  num_requests: number;
  num_errors: number;
  last_error: string;
  /** Nanoseconds, integers (Go's time.Duration). */
  processing_time: number;
  average_processing_time: number;
  /** farm's extras: tasks running now, tasks parked in the dead-letter stream. */
  data: { in_flight: number; dead_lettered: number };
}

export interface StatsResponse extends Identity {
  type: typeof responseTypes.STATS;
  /** RFC 3339, UTC. */
  started: string;
  endpoints: EndpointStatsResponse[];
}

interface Counts {
  requests: number;
  errors: number;
  lastError: string;
  /** Summed in a double: exact to 2^53 ns (104 days of handler time), close enough beyond. */
  ns: number;
  inFlight: number;
  deadLettered: number;
}

/** What an error says in `last_error`: its farm code first, and no credentials (a clone url's). */
export function describeError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return redactUrl(err instanceof FarmError ? `${err.code}: ${message}` : message);
}

/**
 * Per-subject counts of every task a farm's workers run: each run (a request,
 * a delivery of a queued task) counts once when it ends, a throw as an error.
 */
export class EndpointStats implements WorkerObserver {
  private readonly bySubject = new Map<string, Counts>();

  around = async <X>(task: TaskInfo, next: () => Promise<X>): Promise<X> => {
    const c = this.counts(task.subject);
    const start = process.hrtime.bigint();
    c.inFlight++;
    try {
      return await next();
    } catch (err) {
      c.errors++;
      c.lastError = describeError(err);
      throw err;
    } finally {
      c.inFlight--;
      c.requests++;
      c.ns += Number(process.hrtime.bigint() - start);
    }
  };

  deadLettered = (subject: string): void => {
    this.counts(subject).deadLettered++;
  };

  /** The counts of one subject (zeros for one that ran nothing). */
  of(subject: string): Readonly<Counts> {
    return { ...this.counts(subject) };
  }

  private counts(subject: string): Counts {
    let c = this.bySubject.get(subject);
    if (!c) this.bySubject.set(subject, (c = { requests: 0, errors: 0, lastError: "", ns: 0, inFlight: 0, deadLettered: 0 }));
    return c;
  }
}

const statsOfFarm = new WeakMap<Farm, EndpointStats>();

/** The one stats observer of `farm`, registered on first use: services sharing a farm share it. */
export function endpointStats(farm: Farm): EndpointStats {
  let stats = statsOfFarm.get(farm);
  if (!stats) {
    stats = new EndpointStats();
    statsOfFarm.set(farm, stats);
    farm.observe(stats);
  }
  return stats;
}

export interface DiscoveryOptions {
  /** The service's name (ADR-32: A-Z a-z 0-9 - _), shared by its instances. */
  name: string;
  /** Default "farm <name>". */
  description?: string;
  endpoints?: readonly ServiceEndpoint[];
  /** Over the default host and pid. */
  metadata?: Record<string, string>;
}

/** One service instance as `$SRV` shows it. */
export interface Discovery {
  /** This instance's id (a nuid), in `$SRV.<verb>.<name>.<id>`. */
  readonly id: string;
  readonly name: string;
  ping(): PingResponse;
  info(): InfoResponse;
  stats(): StatsResponse;
  stop(): void;
}

function endpointName(subject: string): string {
  // lint.batch → lint_batch: ADR-32 names allow no dots; the durable's name is farm's own spelling of that.
  return durableName(subject).replace(/[^A-Za-z0-9_-]/g, "_");
}

function endpointMetadata(e: ServiceEndpoint): Record<string, string> {
  const m: Record<string, string> = { requests: String(e.requests) };
  if (e.workQueue) Object.assign(m, { stream: e.workQueue.stream, consumer: e.workQueue.consumer });
  return m;
}

/** The service's verbs on its own, no connection needed (the shapes `startDiscovery` answers). */
export function describeService(opts: DiscoveryOptions, stats: EndpointStats, id = nuid.next(), started = new Date()): Omit<Discovery, "stop"> {
  if (!NAME_RE.test(opts.name)) throw new FarmError(`service name "${opts.name}" is not an ADR-32 name (A-Z a-z 0-9 - _)`, ErrorCodes.InvalidInput);
  const endpoints = [...(opts.endpoints ?? [])];
  const identity = (): Identity => ({
    name: opts.name,
    id,
    version: FARM_VERSION,
    metadata: { host: os.hostname(), pid: String(process.pid), ...opts.metadata },
  });
  const queue = (e: ServiceEndpoint) => (e.queueGroup ? { queue_group: e.queueGroup } : {});
  return {
    id,
    name: opts.name,
    ping: () => ({ type: responseTypes.PING, ...identity() }),
    info: () => ({
      type: responseTypes.INFO,
      ...identity(),
      description: opts.description ?? `farm ${opts.name}`,
      endpoints: endpoints.map((e) => ({ name: endpointName(e.subject), subject: e.subject, ...queue(e), metadata: endpointMetadata(e) })),
    }),
    stats: () => ({
      type: responseTypes.STATS,
      ...identity(),
      started: started.toISOString(),
      endpoints: endpoints.map((e) => {
        const c = stats.of(e.subject);
        return {
          name: endpointName(e.subject),
          subject: e.subject,
          ...queue(e),
          num_requests: c.requests,
          num_errors: c.errors,
          last_error: c.lastError,
          processing_time: Math.round(c.ns),
          average_processing_time: c.requests ? Math.round(c.ns / c.requests) : 0,
          data: { in_flight: c.inFlight, dead_lettered: c.deadLettered },
        };
      }),
    }),
  };
}

/** The subjects one instance answers a verb on: for all services, for its name, for itself. */
export function verbSubjects(verb: SrvVerb, name: string, id: string): string[] {
  return [`${SRV_PREFIX}.${verb}`, `${SRV_PREFIX}.${verb}.${name}`, `${SRV_PREFIX}.${verb}.${name}.${id}`];
}

/**
 * Answers `$SRV` for one service instance on the farm's connection (no queue
 * group: every instance answers). Its counts are the farm's stats observer's.
 */
export function startDiscovery(farm: Farm, opts: DiscoveryOptions): Discovery {
  const service = describeService(opts, endpointStats(farm));
  const answer: Record<SrvVerb, () => unknown> = { PING: service.ping, INFO: service.info, STATS: service.stats };
  const subs: Subscription[] = [];
  for (const verb of SRV_VERBS) {
    const callback = (err: Error | null, m: Msg) => {
      if (err || !m.reply) return;
      m.respond(JSON.stringify(answer[verb]()));
    };
    for (const subject of verbSubjects(verb, service.name, service.id)) subs.push(farm.nc.subscribe(subject, { callback }));
  }
  return {
    ...service,
    stop: () => {
      for (const s of subs) s.unsubscribe();
    },
  };
}
