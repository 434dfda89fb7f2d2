/**
 * ingest: `repo.new_sha` in; one mirror per repo, blobs into the store,
 * one manifest per commit out to the splitter.
 */
import { decode } from "../../shared/codec.js";
import { mapLimit } from "../../shared/concurrency.js";
import { DecodeError, PermanentError, isPermanent } from "../../shared/errors.js";
import {
  firstParentHistory,
  InvalidInputError,
  listTree,
  readBlobs,
  repoKey,
  UnknownShaError,
  validateRepoRef,
  type Mirrors,
} from "../../shared/git.js";
import { isConfigFile, isLintable } from "../../shared/lintable.js";
import type { AnalysisRequest, CommitManifest, CommitRef, ManifestEntry, ServiceContext } from "../../shared/pipeline.js";
import { objectNames, type Objects, type ReportStore } from "../../shared/stores.js";
import { subjects } from "../../shared/topology.js";
import type { TaskContext } from "../../shared/worker.js";

/** A `repo.new_sha` payload is a few hundred bytes; anything this big is not one. */
export const MAX_REQUEST_BYTES = 16 * 1024;
/** Commits listed, uploaded and queued together. */
const COMMITS_PER_ROUND = 8;
/** Blob writes in flight at once. */
const UPLOAD_WINDOW = 16;

export interface IngestDeps extends ServiceContext {
  mirrors: Mirrors;
  objects: Objects;
  reports: ReportStore;
}

interface Commit {
  sha: string;
  parents: string[];
  authorDate: string;
  subject: string;
}

export class Ingest {
  constructor(private readonly d: IngestDeps) {}

  /** Raw bytes in, so that even an undecodable payload gets its `.failed` event. */
  onNewSha = async (raw: Uint8Array, ctx: TaskContext): Promise<void> => {
    let req: AnalysisRequest | undefined;
    try {
      req = this.parse(raw, ctx);
      await this.analyze(req, ctx.id);
    } catch (err) {
      const permanent = isPermanent(err) || err instanceof InvalidInputError || err instanceof UnknownShaError;
      const last = permanent || ctx.attempt >= ctx.maxDeliver;
      if (last) this.failed(req, raw, permanent ? (err as Error).message : `gave up after ${ctx.attempt} attempts: ${(err as Error).message}`);
      if (permanent && !isPermanent(err)) throw new PermanentError((err as Error).message, "E_BAD_INPUT", { cause: err });
      throw err;
    }
  };

  private parse(raw: Uint8Array, ctx: TaskContext): AnalysisRequest {
    if (raw.length > MAX_REQUEST_BYTES)
      throw new PermanentError(`repo.new_sha payload is ${raw.length} bytes; the limit is ${MAX_REQUEST_BYTES}`, "E_TOO_LARGE");
    const body = decode<unknown>(raw, ctx.headers);
    if (!body || typeof body !== "object" || Array.isArray(body))
      throw new DecodeError('repo.new_sha payload must be an object like {"repo": "...", "sha": "..."}');
    return validateRepoRef(body as Record<string, unknown>, {
      allowLocal: this.d.config.allowLocalRepos,
      cloneUrlTemplate: this.d.config.cloneUrlTemplate,
    });
  }

  private failed(req: AnalysisRequest | undefined, raw: Uint8Array, reason: string) {
    const echo = req ?? bestEffort(raw);
    this.d.farm.events.publish(subjects.failed, { repo: echo.repo ?? null, sha: echo.sha ?? null, reason });
    this.d.log.warn({ repo: echo.repo, sha: echo.sha, reason }, "analysis failed");
  }

  private async analyze(req: AnalysisRequest, requestId: string) {
    const { mirrors, objects, log } = this.d;
    const key = repoKey(req.repo);
    const mirror = await mirrors.ensure(req.repo, req.sha);
    const commits: Commit[] = await firstParentHistory(mirror, req.sha, req.history);
    const plan = await this.plan(req.repo, key, mirror, commits, requestId);
    this.d.farm.events.publish(subjects.started, {
      repo: req.repo,
      sha: req.sha,
      commits: plan.filter((c) => c.requested).map((c) => c.sha),
      // Analyzed too, for the first delta: its linting is part of what this request costs.
      baseline: plan.find((c) => !c.requested)?.sha ?? null,
    });
    // Oldest first (parents reach the aggregator before their children), a few commits at a
    // time: the first ones are being linted while the rest of a long history uploads.
    const oldestFirst = [...plan].reverse();
    let uploaded = 0;
    for (let i = 0; i < oldestFirst.length; i += COMMITS_PER_ROUND) {
      const round = oldestFirst.slice(i, i + COMMITS_PER_ROUND);
      const trees = await mapLimit(round, 4, (c) => listTree(mirror, c.sha));
      uploaded += await this.uploadBlobs(mirror, trees.flat());
      const manifests: CommitManifest[] = await mapLimit(round, 8, async (c, j) => ({
        ...c,
        manifest: await objects.putDocument(objectNames.manifest(key, c.sha), trees[j]),
      }));
      await this.d.farm.jobs.enqueue(subjects.commitManifest, manifests, {
        // Stable per request: a redelivered repo.new_sha does not queue its commits twice.
        id: (m: CommitManifest) => `manifest.${requestId}.${m.sha}`,
      });
    }
    log.info({ repo: req.repo, sha: req.sha, commits: plan.length, uploaded }, "commits queued");
  }

  /** The requested commits, plus the oldest one's parent when it has no report yet (the delta needs it). */
  private async plan(repo: string, key: string, mirror: string, commits: Commit[], requestId: string): Promise<CommitRef[]> {
    const oldestParent = commits.at(-1)?.parents[0];
    const baseline = oldestParent && !(await this.d.reports.head(key, oldestParent)) ? (await firstParentHistory(mirror, oldestParent, 0))[0] : undefined;
    const all = baseline ? [...commits, baseline] : commits;
    const inPlan = new Set(all.map((c) => c.sha));
    return all.map((c) => this.ref({ requestId, repo, repoKey: key }, c, c !== baseline, inPlan));
  }


  private ref(base: Pick<CommitRef, "requestId" | "repo" | "repoKey">, c: Commit, requested: boolean, inPlan: Set<string>): CommitRef {
    const parent = c.parents[0] ?? null;
    return {
      ...base,
      sha: c.sha,
      parent,
      parentExpected: parent !== null && inPlan.has(parent),
      requested,
      date: c.authorDate,
      subject: c.subject,
    };
  }

  /** Uploads the contents of lintable and config blobs the store does not have. Returns how many. */
  private async uploadBlobs(mirror: string, entries: ManifestEntry[]): Promise<number> {
    const { objects, config } = this.d;
    const wanted = new Set<string>();
    for (const e of entries) if (isLintable(e, config.maxFileSize) || isConfigFile(e.path)) wanted.add(e.blob);
    const candidates = [...wanted];
    const present = await mapLimit(candidates, 32, (blob) => objects.has(objectNames.blob(blob)));
    const missing = candidates.filter((_, i) => !present[i]);
    if (missing.length === 0) return 0;
    // Writes overlap (a window of them in flight) while git streams the contents.
    const window = new Set<Promise<void>>();
    let failure: unknown;
    for await (const [blob, data] of readBlobs(mirror, missing)) {
      if (failure) break;
      const put: Promise<void> = objects
        .putOnce(objectNames.blob(blob), data, { absent: true })
        .then(() => {}, (err) => void (failure ??= err))
        .finally(() => window.delete(put));
      window.add(put);
      if (window.size >= UPLOAD_WINDOW) await Promise.race(window);
    }
    await Promise.all(window);
    if (failure) throw failure;
    return missing.length;
  }
}

function bestEffort(raw: Uint8Array): { repo?: string; sha?: string } {
  try {
    const v = decode<Record<string, unknown>>(raw);
    return { repo: typeof v?.repo === "string" ? v.repo : undefined, sha: typeof v?.sha === "string" ? v.sha : undefined };
  } catch {
    return {};
  }
}
