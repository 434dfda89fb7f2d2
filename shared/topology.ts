/**
 * The whole NATS topology of farm in one place: subjects, streams, consumers,
 * KV buckets and the object store, created idempotently at start-up.
 */
import {
  AckPolicy,
  DiscardPolicy,
  JetStreamApiError,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
} from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { Objm } from "@nats-io/obj";
import { nanos, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { sleep } from "./concurrency.js";
import { isNatsTimeout } from "./errors.js";

/** Public and internal subjects. Edge subjects are the public contract. */
export const subjects = {
  newSha: "repo.new_sha",
  analysis: "repo.analysis",
  started: "repo.analysis.started",
  progress: "repo.analysis.progress",
  completed: "repo.analysis.completed",
  failed: "repo.analysis.failed",
  reportGet: "report.get",
  lintFile: "lint.file",
  // internal work (queued: see queueSubject)
  commitManifest: "commit.manifest",
  lintBatch: "lint.batch",
  commitFiles: "results.commit_files",
  lintResults: "results.lint",
} as const;

/** Subjects that clients publish directly and a stream captures as they are. */
const ingress = new Set<string>([subjects.newSha]);

/** Prefix of queued (work-queue) subjects; keeps request-reply subjects out of streams. */
export const QUEUE_PREFIX = "q.";

/**
 * The subject a task for `subject` travels on when it is distributed.
 * Ingress subjects are captured as-is; everything else gets the queue prefix,
 * so the same name can serve request-reply without the stream answering it.
 */
export function queueSubject(subject: string): string {
  return ingress.has(subject) ? subject : QUEUE_PREFIX + subject;
}

export function isIngress(subject: string): boolean {
  return ingress.has(subject);
}

export interface WorkQueueSpec {
  stream: string;
  subjects: string[];
}

/** Work-queue streams: one per stage, so limits and permissions stay per stage. */
export const workQueues: WorkQueueSpec[] = [
  { stream: "REPOS", subjects: [subjects.newSha] },
  { stream: "COMMITS", subjects: ["q.commit.>"] },
  { stream: "LINT", subjects: ["q.lint.>"] },
  { stream: "RESULTS", subjects: ["q.results.>"] },
  // Ad-hoc work of library users and tests.
  { stream: "JOBS", subjects: ["q.jobs.>"] },
];

/**
 * Every `repo.analysis.*` event, kept a day, one copy per event id: a late or
 * restarted subscriber reads what it missed from here.
 */
export const EVENTS_STREAM = "EVENTS";
/** How long the events stream keeps an event, and how long it recognises a re-sent one (ms). */
export const EVENTS_MAX_AGE_MS = 24 * 3600_000;
export const EVENTS_DUPLICATE_WINDOW_MS = 30 * 60_000;

export const DLQ_STREAM = "DLQ";
export const DLQ_PREFIX = "dlq";
export const ADVISORY_STREAM = "ADVISORIES";
export const MAX_DELIVERIES_ADVISORY = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES";

export const buckets = {
  reports: "farm-reports",
  results: "farm-results",
  state: "farm-state",
} as const;
export const BLOB_STORE = "farm-blobs";
/** The stream behind an object store bucket. */
export const objectStream = (bucket: string) => `OBJ_${bucket}`;

/** NATS subject match: `*` one token, `>` the rest. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== "*" && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

/** The work-queue stream that captures a queued subject, or undefined. */
export function streamFor(wireSubject: string): string | undefined {
  return workQueues.find((w) => w.subjects.some((p) => subjectMatches(p, wireSubject)))?.stream;
}

/** A durable consumer name derived from a subject (`lint.batch` → `lint_batch`). */
export function durableName(subject: string): string {
  if (/[*>\s]/.test(subject)) throw new Error(`a worker subject must be concrete, got "${subject}"`);
  return subject.replace(/\./g, "_");
}

/**
 * A key the KV buckets accept end to end: the client's own check (`[-/=.\w]`,
 * no leading or trailing dot) plus no empty token. The client lets "a..b"
 * through; the server then drops the request for its empty subject token, and
 * the caller sees no responders ("jetstream is not enabled"): a permanent
 * fault that looks transient.
 */
export function isValidKvKey(key: string): boolean {
  return /^[-/=\w]+(?:\.[-/=\w]+)*$/.test(key);
}

export function advisorySubject(stream: string, consumer: string): string {
  return `${MAX_DELIVERIES_ADVISORY}.${stream}.${consumer}`;
}

export interface TopologyOptions {
  /** Stream and bucket replicas; 3 on a 3-node cluster. Default 1. */
  replicas?: number;
  log?: Logger;
  /**
   * How long to keep retrying while the cluster cannot yet answer (API timeouts,
   * no leader, not enough peers for the replicas). Default 60000 ms.
   */
  readyTimeout?: number;
}

type StreamSpec = Partial<StreamConfig> & { name: string };

function streamConfigs(replicas: number): StreamSpec[] {
  const work = workQueues.map((w) => ({
    name: w.stream,
    subjects: w.subjects,
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    num_replicas: replicas,
    discard: DiscardPolicy.Old,
  }));
  return [
    ...work,
    {
      name: DLQ_STREAM,
      subjects: [`${DLQ_PREFIX}.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: replicas,
    },
    {
      name: EVENTS_STREAM,
      subjects: [`${subjects.analysis}.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: replicas,
      discard: DiscardPolicy.Old,
      max_age: nanos(EVENTS_MAX_AGE_MS),
      // A commit's task redelivered after a failover announces again, up to its ack waits later.
      duplicate_window: nanos(EVENTS_DUPLICATE_WINDOW_MS),
    },
    {
      // Advisories are core messages: a stream keeps them while no worker listens.
      name: ADVISORY_STREAM,
      subjects: [`${MAX_DELIVERIES_ADVISORY}.>`],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      num_replicas: replicas,
    },
  ];
}

const STREAM_NAME_IN_USE = 10058;

async function ensureStream(jsm: JetStreamManager, cfg: StreamSpec, log?: Logger) {
  try {
    await jsm.streams.add(cfg);
  } catch (err) {
    if (!(err instanceof JetStreamApiError) || err.code !== STREAM_NAME_IN_USE) throw err;
    try {
      await jsm.streams.update(cfg.name, cfg);
    } catch (e) {
      log?.warn({ stream: cfg.name, err: (e as Error).message }, "stream exists with a different config; kept as is");
    }
  }
}

/**
 * The JetStream manager, once the cluster answers (a node of a forming cluster
 * times out until it has a quorum), with every stream, bucket and store farm
 * uses created when `create` is set. Safe to call from every service at start.
 */
export async function openTopology(nc: NatsConnection, opts: TopologyOptions & { create?: boolean } = {}): Promise<JetStreamManager> {
  const deadline = Date.now() + (opts.readyTimeout ?? 60_000);
  const step = <T>(what: string, fn: () => Promise<T>) => untilReady(what, fn, deadline, opts.log);
  const jsm = await step("JetStream account", () => jetstreamManager(nc));
  if (!opts.create) return jsm;
  const replicas = opts.replicas ?? 1;
  for (const cfg of streamConfigs(replicas)) await step(`stream ${cfg.name}`, () => ensureStream(jsm, cfg, opts.log));
  const kvm = new Kvm(nc);
  for (const name of Object.values(buckets)) await step(`bucket ${name}`, () => kvm.create(name, { replicas, history: 1 }));
  await step(`object store ${BLOB_STORE}`, () => new Objm(nc).create(BLOB_STORE, { replicas }));
  return jsm;
}

/** JSClusterNoPeersErr: fewer peers than replicas, e.g. while a node of a fresh cluster is still joining. */
const NO_SUITABLE_PEERS = 10005;

/**
 * A cluster that is starting or electing a leader answers late, with 503, or
 * without enough peers. (No responders is not that: JetStream is not enabled.)
 */
function notReadyYet(err: unknown): boolean {
  if (isNatsTimeout(err)) return true;
  return err instanceof JetStreamApiError && (err.status >= 500 || err.code === NO_SUITABLE_PEERS);
}

/**
 * Runs an idempotent JetStream step (a create, an info), again while the
 * cluster cannot answer yet, for up to `readyTimeout` ms (default 60000).
 */
export function whenReady<T>(what: string, fn: () => Promise<T>, opts: { readyTimeout?: number; log?: Logger } = {}): Promise<T> {
  return untilReady(what, fn, Date.now() + (opts.readyTimeout ?? 60_000), opts.log);
}

// Idempotent steps: a create that timed out may have happened; the retry finds it in place.
async function untilReady<T>(what: string, fn: () => Promise<T>, deadline: number, log?: Logger): Promise<T> {
  for (let wait = 250; ; wait = Math.min(wait * 2, 4000)) {
    try {
      return await fn();
    } catch (err) {
      if (!notReadyYet(err) || Date.now() + wait > deadline) throw err;
      log?.warn({ step: what, err: (err as Error).message, retryInMs: wait }, "JetStream not ready yet; retrying");
      await sleep(wait);
    }
  }
}

export const consumerDefaults = {
  ack_policy: AckPolicy.Explicit,
} as const;
