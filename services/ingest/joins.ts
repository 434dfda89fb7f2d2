/**
 * Identical requests (same repo, sha and history) as one analysis: on this
 * instance, a request joins the analysis in flight; across instances, the
 * analyses share the message ids of their manifests within a time bucket, so
 * that the COMMITS stream queues each commit once.
 */
import { createHash } from "node:crypto";
import { Semaphore } from "../../shared/fabric/concurrency.js";
import type { TaskContext } from "../../shared/fabric/worker.js";
import { repoKey, type RepoRef } from "../../shared/git/index.js";
import { kvKeys } from "../../shared/pipeline/names.js";

/** Analyses at once (clones, listings, uploads), by default. */
export const DEFAULT_MAX_ANALYSES = 4;
/**
 * Width of the time bucket in the manifests' message ids, by default (ms).
 * Identical requests reaching two instances within one bucket queue each
 * manifest once (the COMMITS stream drops the copy); short, because a request
 * that comes after an identical analysis has completed must run again, and on
 * another instance within the bucket it would not.
 */
export const DEFAULT_DEDUPE_BUCKET_MS = 5_000;

export interface JoinsOptions {
  /** Analyses run at once; a request joining one in flight waits without taking a turn. Default DEFAULT_MAX_ANALYSES. */
  maxAnalyses?: number;
  /** See DEFAULT_DEDUPE_BUCKET_MS. */
  dedupeBucketMs?: number;
  /** The clock (ms). Default Date.now. */
  now?: () => number;
}

/** One analysis in flight; every identical request awaits the same `done`. */
export interface Run {
  done: Promise<void>;
  /** Its failure was announced (`.failed`) by one of the requests: the others stay quiet. */
  announced: boolean;
}

/** Runs an analysis of `req`, given the repo's store key and the part of its manifests' message ids that identifies it (see dedupeId). */
export type Analyze = (req: RepoRef, key: string, dedupeId: string) => Promise<void>;

export class Joins {
  private readonly inFlight = new Map<string, Run>();
  /** Dedupe ids of analyses this instance queued, with their bucket: a later identical request is a re-run. */
  private readonly queuedIds = new Map<string, number>();
  private readonly turns: Semaphore;
  private readonly bucketMs: number;
  private readonly now: () => number;
  /** Analyses run, and requests that joined an identical one in flight instead of running again. */
  readonly counts = { analyses: 0, joined: 0 };

  constructor({ maxAnalyses = DEFAULT_MAX_ANALYSES, dedupeBucketMs = DEFAULT_DEDUPE_BUCKET_MS, now = Date.now }: JoinsOptions = {}) {
    this.turns = new Semaphore(maxAnalyses);
    this.bucketMs = dedupeBucketMs;
    this.now = now;
  }

  /**
   * The analysis of (repo identity, sha, history): the one in flight if there
   * is one, else a new one, `analyze` run when its turn comes. A joined
   * request settles with it: acked when it succeeds, failed and retried like
   * it when it fails (at least once for every request, one analysis for all).
   */
  runOrJoin(req: RepoRef, ctx: TaskContext, analyze: Analyze): Run {
    const key = repoKey(req.repo);
    // No key built from this repo may be one the store refuses (kvKeys throws): refused before any work.
    kvKeys.report(key, req.sha);
    const analysis = createHash("sha256").update(`${key}\0${req.sha}\0${req.history}`).digest("hex").slice(0, 24);
    const running = this.inFlight.get(analysis);
    if (running) {
      this.counts.joined++;
      ctx.log.debug({ repo: req.repo, sha: req.sha, history: req.history }, "joined the identical analysis in flight");
      return running;
    }
    const dedupeId = this.dedupeId(analysis, ctx.id);
    const run: Run = { done: Promise.resolve(), announced: false };
    run.done = (async () => {
      await this.turns.acquire();
      try {
        this.counts.analyses++;
        await analyze(req, key, dedupeId);
        this.queuedIds.set(dedupeId, this.bucket());
      } finally {
        this.turns.release();
        if (this.inFlight.get(analysis) === run) this.inFlight.delete(analysis);
      }
    })();
    this.inFlight.set(analysis, run);
    return run;
  }

  private bucket(): number {
    return Math.floor(this.now() / this.bucketMs);
  }

  /**
   * The part of the manifests' message ids that identifies the analysis
   * across instances: the analysis and the time bucket, so that the COMMITS
   * stream drops another instance's copies of an identical request made at
   * the same time. Unless this instance already queued that id: then this
   * request came after that analysis finished, and is a re-run of its own.
   */
  private dedupeId(analysis: string, requestId: string): string {
    const bucket = this.bucket();
    for (const [id, b] of this.queuedIds) if (b < bucket - 1) this.queuedIds.delete(id);
    const id = `${analysis}.${bucket}`;
    return this.queuedIds.has(id) ? `${id}.${requestId}` : id;
  }
}
