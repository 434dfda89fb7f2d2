/**
 * Every name the pipeline makes, in one place: subjects, its work queues and
 * streams, KV buckets and keys, object names, message ids. The library's own
 * names (DLQ, advisories, durables, queue groups) are in shared/fabric/names.ts.
 */
import { createHash } from "node:crypto";
import { DEFAULT_TENANT, fairFilter, type Lane } from "../fabric/fair.js";
import { Queues, type QueueSpec } from "../fabric/queues.js";
import type { CommitRef } from "./contract.js";
import { InvalidKeyError } from "../git/errors.js";

/** Public and internal subjects. Edge subjects are the public contract. */
export const subjects = {
  newSha: "repo.new_sha",
  /** A request admitted by ingest, waiting its turn by lane and tenant before the clone (internal, fair). */
  analysisRequest: "repo.request",
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
  // internal work (queued on `q.<subject>`: see shared/fabric/queues.ts)
  commitManifest: "commit.manifest",
  lintBatch: "lint.batch",
  commitFiles: "results.commit_files",
  lintResults: "results.lint",
} as const;

/** The reporter's durable consumer of the EVENTS stream: each event once, across restarts. */
export const REPORTER_DURABLE = "reporter";

/** The service that serves each subject farm's workers take (a trace's `farm.service` when one process runs them all). */
export const servedBy: Readonly<Record<string, "ingest" | "splitter" | "linter-runner" | "aggregator">> = {
  [subjects.newSha]: "ingest",
  [subjects.analysisRequest]: "ingest",
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
  // A client's request is admitted first in, first out (cheap: parsed and placed), then waits by
  // lane and tenant for its clone: one tenant's many requests never hold another's push.
  { stream: "REPOS", ingress: [subjects.newSha], fair: [subjects.analysisRequest] },
  // Shared out by lane and tenant (shared/pipeline/lanes.ts): a push never waits behind a backfill.
  { stream: "COMMITS", subjects: ["commit.>"], fair: [subjects.commitManifest] },
  { stream: "LINT", subjects: ["lint.>"], fair: [subjects.lintBatch] },
  { stream: "RESULTS", subjects: ["results.>"], fair: [subjects.commitFiles] },
];

/** The lane and tenant of a commit's work at every stage (defaults for a message of an older farm). */
export function placementOf(c: Pick<CommitRef, "lane" | "tenant">): { lane: Lane; tenant: string } {
  return { lane: c.lane ?? "backfill", tenant: c.tenant ?? DEFAULT_TENANT };
}

/** A registry of the pipeline's queues plus `extra` (a library user's beside them). */
export function farmQueueRegistry(extra: readonly QueueSpec[] = []): Queues {
  return new Queues(farmQueues).declare(...extra);
}

const pipelineQueues = farmQueueRegistry();

/**
 * What a subscriber hears one of farm's own queued subjects on (the
 * pipeline's, not a library user's): its wire subject, or for a fair one
 * every lane and tenant of it (`q.<subject>.>`).
 */
export function queueSubject(subject: string): string {
  return pipelineQueues.isFair(subject) ? fairFilter(subject) : pipelineQueues.wireSubject(subject);
}

/**
 * Every `repo.analysis.*` event, kept a day, one copy per event id: a late or
 * restarted subscriber reads what it missed from here.
 */
export const EVENTS_STREAM = "EVENTS";
/** How long the events stream keeps an event, and how long it recognises a re-sent one (ms). */
export const EVENTS_MAX_AGE_MS = 24 * 3600_000;
export const EVENTS_DUPLICATE_WINDOW_MS = 30 * 60_000;

export const buckets = {
  reports: "farm-reports",
  results: "farm-results",
  state: "farm-state",
} as const;
export const BLOB_STORE = "farm-blobs";
/** The stream behind an object store bucket. */
export const objectStream = (bucket: string) => `OBJ_${bucket}`;

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
  /** A branch's newest analysed commit (buckets.state): the branch's name hashed, as it may hold any character git allows. */
  branch(repoKey: string, branch: string): string {
    return validKvKey(`branch.${repoKey}.${createHash("sha256").update(branch).digest("hex").slice(0, 32)}`);
  },
  /** The reporter's check run of a commit (buckets.state): what it has posted to the git host so far. */
  reporterCheck(repoKey: string, sha: string): string {
    return validKvKey(`reporter.${repoKey}.${sha}`);
  },
};

function validKvKey(key: string): string {
  if (!isValidKvKey(key)) throw new InvalidKeyError(key);
  return key;
}

/**
 * Message ids (`Nats-Msg-Id`): the same id for the same message, so that a
 * stream drops a re-send inside its duplicate window (a redelivered task
 * publishing again, two ingest instances queueing the same analysis).
 */
export const messageIds = {
  /** A commit's manifest, per analysis (see Ingest.dedupeId). */
  manifest: (analysisId: string, sha: string) => `manifest.${analysisId}.${sha}`,
  /** A commit's file list, per request. */
  commitFiles: (requestId: string, sha: string) => `files.${requestId}.${sha}`,
  /** A lint batch, by the digest of what it lints. */
  lintBatch: (digest: string) => `batch.${digest}`,
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
