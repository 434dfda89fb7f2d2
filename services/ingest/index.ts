/**
 * ingest: `repo.new_sha` in; one mirror per repo, blobs into the store, one
 * manifest per commit out to the splitter. Consumed from its stream, so a
 * publish during an outage is not lost. A request is admitted first (parsed,
 * given its lane and tenant) and then waits on the fair `repo.request` for its
 * clone, so one tenant's backfills never hold another's push. Identical
 * requests (same repo, sha and history) while one is in flight are one analysis.
 */
import { decode } from "../../shared/fabric/codec.js";
import type { DeadLetterCopy, TaskContext } from "../../shared/fabric/worker.js";
import { firstParentHistory, Mirrors, redactUrl } from "../../shared/git/index.js";
import { publishAnalysisEvent } from "../../shared/pipeline/announce.js";
import { branchOf } from "../../shared/pipeline/branches.js";
import { subjects } from "../../shared/pipeline/names.js";
import type { Service, ServiceContext } from "../../shared/pipeline/service.js";
import { openStores, type Objects, type ReportStore } from "../../shared/pipeline/stores/index.js";
import { redactNewShaPayload, settleFailure } from "./failures.js";
import { DEFAULT_MAX_ANALYSES, Joins, type JoinsOptions, type Run } from "./joins.js";
import { planCommits, startedEvent } from "./plan.js";
import { parseRequest, type ParsedRequest } from "./request.js";
import { analysisPlacement, requestPlacement } from "../../shared/pipeline/lanes.js";
import { Uploader } from "./upload.js";

/** Requests in flight: the analyses plus as many again joining them (a join costs nothing but a slot). */
const REQUESTS_IN_FLIGHT = 2 * DEFAULT_MAX_ANALYSES;
/** Requests admitted at once: a parse and a publish each. */
const ADMITS_IN_FLIGHT = 16;

export interface IngestDeps extends ServiceContext, JoinsOptions {
  mirrors: Mirrors;
  objects: Objects;
  reports: ReportStore;
}

/** Counters of one ingest instance. */
export interface IngestStats {
  /** Analyses run: mirror, history, trees, uploads, manifests. */
  analyses: number;
  /** Requests that joined an identical one in flight instead of running again. */
  joined: number;
  /** Manifests the COMMITS stream dropped as copies (another instance's identical request, an earlier attempt's). */
  duplicateManifests: number;
}

export class Ingest {
  private readonly joins: Joins;
  private readonly uploader: Uploader;

  constructor(private readonly deps: IngestDeps) {
    this.joins = new Joins(deps);
    this.uploader = new Uploader(deps);
  }

  stats(): IngestStats {
    return { ...this.joins.counts, ...this.uploader.counts };
  }

  /**
   * Admits a client's `repo.new_sha` (raw bytes in, so that even an undecodable
   * payload gets its `.failed` event): parsed, then queued on `repo.request` in
   * its lane and tenant under the same task id, so a redelivery queues no copy
   * and the analysis keeps the request's id.
   */
  onNewSha = async (raw: Uint8Array, ctx: TaskContext): Promise<void> => {
    let req: ParsedRequest | undefined;
    try {
      req = this.parse(raw, ctx);
      const placed = { ...requestPlacement(req, this.deps.config), cost: 1 };
      await this.deps.farm.jobs.enqueue(subjects.analysisRequest, [decode(raw, ctx.headers)], { id: () => ctx.id, placement: () => placed });
    } catch (err) {
      throw settleFailure(this.deps, err, ctx, { raw, req });
    }
  };

  /** Runs (or joins) the analysis of an admitted request, in its turn. */
  onRequest = async (raw: Uint8Array, ctx: TaskContext): Promise<void> => {
    let req: ParsedRequest | undefined;
    let run: Run | undefined;
    try {
      req = this.parse(raw, ctx);
      run = this.joins.runOrJoin(req, ctx, (r, key, dedupeId) => this.analyze(r, key, ctx.id, dedupeId));
      await run.done;
    } catch (err) {
      throw settleFailure(this.deps, err, ctx, { raw, req, run });
    }
  };

  private parse(raw: Uint8Array, ctx: TaskContext): ParsedRequest {
    return parseRequest(raw, ctx.headers, { allowLocal: this.deps.config.allowLocalRepos, cloneUrlTemplate: this.deps.config.cloneUrlTemplate });
  }

  /** Mirror, history, plan, `.started`, then the commits uploaded and queued. */
  private async analyze(req: ParsedRequest, key: string, requestId: string, dedupeId: string): Promise<void> {
    // The clone url (credentials included) goes to git and nowhere else.
    const mirror = await this.deps.mirrors.ensure(req.cloneUrl, req.sha);
    const commits = await firstParentHistory(mirror, req.sha, req.history);
    const { lane, tenant } = analysisPlacement(req, req.repo, commits.length, this.deps.config);
    const branch = branchOf(req.ref);
    const plan = await planCommits(this.deps.reports, { requestId, repo: req.repo, repoKey: key, lane, tenant }, mirror, commits, branch ? { branch } : {});
    publishAnalysisEvent(this.deps.farm.events, subjects.started, startedEvent(req, plan), requestId, req.sha);
    const uploaded = await this.uploader.upload({ mirror, sha: req.sha, key, plan, dedupeId });
    this.deps.log.info({ repo: req.repo, sha: req.sha, commits: plan.length, uploaded, lane, tenant }, "commits queued");
  }
}

export async function startIngest(ctx: ServiceContext): Promise<Service> {
  const { farm, config } = ctx;
  const { objects, reports } = ctx.stores ?? (await openStores(farm.nc));
  const mirrors = new Mirrors({ dataDir: config.dataDir, allowLocal: config.allowLocalRepos });
  const ingest = new Ingest({ ...ctx, objects, reports, mirrors, maxAnalyses: DEFAULT_MAX_ANALYSES });
  const common = {
    ackWait: 20_000,
    maxDeliver: 5,
    backoff: [2000, 10_000, 30_000, 60_000],
    decode: (data: Uint8Array) => data,
    // The request is the client's, credentials and all; the copy parked for operators is not.
    deadLetter: (t: DeadLetterCopy) => ({ ...t, data: redactNewShaPayload(t.data), reason: redactUrl(t.reason) }),
  };
  const admit = await farm.worker(subjects.newSha, ingest.onNewSha, { ...common, concurrency: ADMITS_IN_FLIGHT });
  const analyses = await farm.worker(subjects.analysisRequest, ingest.onRequest, {
    ...common,
    // More requests than analyses: identical requests published together join the one in flight
    // instead of waiting for it to finish and then running again. Clones of big repos take a
    // while; heartbeats keep the task ours meanwhile, and a delivery lost with a NATS node comes
    // again after the (short) ack wait.
    concurrency: REQUESTS_IN_FLIGHT,
    backfillShare: config.backfillShare,
    // A clone can take minutes: backfill requests never take the last analysis turn, so a push
    // starts at once rather than after one of them.
    interactiveReserve: REQUESTS_IN_FLIGHT - (DEFAULT_MAX_ANALYSES - 1),
    // Only admitted requests: a request-reply `send` would skip admission and its lane.
    serveRequests: false,
  });
  return {
    name: "ingest",
    // Admission first: a request it still admits reaches a worker that is there to take it.
    close: async () => {
      await admit.close();
      await analyses.close();
    },
    endpoints: [admit.endpoint, analyses.endpoint],
    stats: () => ({ ...ingest.stats(), mirrors: mirrors.stats(), worker: analyses.stats(), admit: admit.stats() }),
  };
}
