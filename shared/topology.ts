/**
 * The whole NATS topology of farm in one place: subjects, streams, consumers,
 * KV buckets and the object store, created idempotently at start-up.
 */
import { DiscardPolicy, JetStreamApiError, jetstreamManager, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { Objm } from "@nats-io/obj";
import { nanos, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { nextDelay } from "./backoff.js";
import { sleep } from "./concurrency.js";
import { isNatsTimeout } from "./errors.js";
import { InvalidKeyError } from "./git/errors.js";
import { Queues, streamSubjects, type QueueSpec } from "./queues.js";

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
  // the history API (request-reply, JSON; served by the aggregator's history server)
  historyRepos: "history.repos",
  historyCommits: "history.commits",
  historyIssues: "history.issues",
  historyFile: "history.file",
  // internal work (queued on `q.<subject>`: see shared/queues.ts)
  commitManifest: "commit.manifest",
  lintBatch: "lint.batch",
  commitFiles: "results.commit_files",
  lintResults: "results.lint",
} as const;

/** The service that serves each subject farm's workers take (a trace's `farm.service` when one process runs them all). */
export const servedBy: Readonly<Record<string, "ingest" | "splitter" | "linter-runner" | "aggregator">> = {
  [subjects.newSha]: "ingest",
  [subjects.commitManifest]: "splitter",
  [subjects.lintBatch]: "linter-runner",
  [subjects.lintFile]: "linter-runner",
  [subjects.lintResults]: "aggregator",
  [subjects.commitFiles]: "aggregator",
  [subjects.reportGet]: "aggregator",
  [subjects.historyRepos]: "aggregator",
  [subjects.historyCommits]: "aggregator",
  [subjects.historyIssues]: "aggregator",
  [subjects.historyFile]: "aggregator",
};

/**
 * Farm's own work queues, declared in the queue registry like a library
 * user's: one stream per stage, so limits and permissions stay per stage.
 */
export const farmQueues: readonly QueueSpec[] = [
  { stream: "REPOS", ingress: [subjects.newSha] },
  { stream: "COMMITS", subjects: ["commit.>"] },
  { stream: "LINT", subjects: ["lint.>"] },
  { stream: "RESULTS", subjects: ["results.>"] },
  // Ad-hoc work of library users and tests.
  { stream: "JOBS", subjects: ["jobs.>"] },
];

/** A registry of farm's queues plus `extra` (a library user's). */
export function farmQueueRegistry(extra: readonly QueueSpec[] = []): Queues {
  return new Queues(farmQueues).declare(...extra);
}

const pipelineQueues = farmQueueRegistry();

/** The wire subject of one of farm's own queued subjects (the pipeline's, not a library user's). */
export function queueSubject(subject: string): string {
  return pipelineQueues.wireSubject(subject);
}

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

/** A durable consumer name derived from a subject (`lint.batch` → `lint_batch`). */
export function durableName(subject: string): string {
  if (/[*>\s]/.test(subject)) throw new Error(`a worker subject must be concrete, got "${subject}"`);
  return subject.replace(/\./g, "_");
}

/** The object store's names: every one content-addressed or keyed by commit. */
export const objectNames = {
  blob: (id: string) => `blob/${id}`,
  manifest: (repoKey: string, sha: string) => `manifest/${repoKey}/${sha}`,
  files: (repoKey: string, sha: string) => `files/${repoKey}/${sha}`,
  report: (repoKey: string, sha: string) => `report/${repoKey}/${sha}`,
  /** A report.get answer too big for one message, as the JSON the client asked for. */
  reply: (repoKey: string, sha: string) => `reply/${repoKey}/${sha}`,
  result: (key: string) => `result/${key}`,
  /** Chunks of a repo's tables (trees, file lists): content-addressed, shared by its commits. */
  chunks: (repoKey: string) => `table/${repoKey}`,
  /** An effective lint config, by its id (a content hash): what a lint batch refers to. */
  lintConfig: (configId: string) => `lint-config/${configId}`,
};

/**
 * Keys of the KV buckets. A key the store would refuse throws InvalidKeyError
 * (permanent): a retry builds the same key.
 */
export const kvKeys = {
  /** A commit's report head (buckets.reports). */
  report(repoKey: string, sha: string): string {
    return validKvKey(`${repoKey}.${sha}`);
  },
  /** Why a commit's analysis was given up (buckets.reports). */
  reportFailed: (repoKey: string, sha: string) => `${kvKeys.report(repoKey, sha)}.failed`,
  /** Why a result key's lint work was given up (buckets.reports). */
  givenUp: (resultKey: string) => `given-up.${resultKey}`,
  /** A file's result (buckets.results): its content and its effective config. */
  result: (blob: string, configId: string) => `${blob}.${configId}`,
  /** An analysed repository's overview, its newest analysed commit (buckets.state; listed by `repoPrefix`). */
  repo(repoKey: string): string {
    return validKvKey(`${kvKeys.repoPrefix}.${repoKey}`);
  },
  /** The first token of every `repo` key. */
  repoPrefix: "repo",
};

function validKvKey(key: string): string {
  if (!isValidKvKey(key)) throw new InvalidKeyError(key);
  return key;
}

/** The queue group of a subject's request-reply servers: one of them answers each request. */
export function queueGroup(subject: string): string {
  return `farm.${subject}`;
}

/** The durable that reads a worker durable's max-deliveries advisories. */
export function advisoryDurable(durable: string): string {
  return `adv_${durable}`;
}

/**
 * Message ids (`Nats-Msg-Id`): the same id for the same message, so that a
 * stream drops a re-send inside its duplicate window (a redelivered task
 * publishing again, two ingest instances queueing the same analysis).
 */
export const messageIds = {
  /** A task's result on a results queue, per delivery of the task. */
  result: (taskId: string, delivery: string | number) => `${taskId}.result.${delivery}`,
  /** A commit's manifest, per analysis (see Ingest.dedupeId). */
  manifest: (analysisId: string, sha: string) => `manifest.${analysisId}.${sha}`,
  /** A commit's file list, per request. */
  commitFiles: (requestId: string, sha: string) => `files.${requestId}.${sha}`,
  /** A lint batch, by the digest of what it lints. */
  lintBatch: (digest: string) => `batch.${digest}`,
  /** A dead letter, by where its task was. */
  deadLetter: (stream: string, seq: number) => `dlq.${stream}.${seq}`,
  /** A replay of a dead letter: unique, so that a replay is never dropped as a copy. */
  replay: (seq: number, unique: string) => `replay.${seq}.${unique}`,
};

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
  /** The work queues whose streams to create. Default farm's own (`farmQueues`). */
  queues?: Queues;
}

type StreamSpec = Partial<StreamConfig> & { name: string };

function streamConfigs(replicas: number, queues: Queues): StreamSpec[] {
  const work = queues.list().map((q) => ({
    name: q.stream,
    subjects: streamSubjects(q),
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
  for (const cfg of streamConfigs(replicas, opts.queues ?? pipelineQueues)) await step(`stream ${cfg.name}`, () => ensureStream(jsm, cfg, opts.log));
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

const NOT_READY_BACKOFF = { initialMs: 250, maxMs: 4000 };

// Idempotent steps: a create that timed out may have happened; the retry finds it in place.
async function untilReady<T>(what: string, fn: () => Promise<T>, deadline: number, log?: Logger): Promise<T> {
  for (let wait = nextDelay(undefined, NOT_READY_BACKOFF); ; wait = nextDelay(wait, NOT_READY_BACKOFF)) {
    try {
      return await fn();
    } catch (err) {
      if (!notReadyYet(err) || Date.now() + wait > deadline) throw err;
      log?.warn({ step: what, err: (err as Error).message, retryInMs: wait }, "JetStream not ready yet; retrying");
      await sleep(wait);
    }
  }
}
