/**
 * ingest: `repo.new_sha` in; one mirror per repo, blobs into the store,
 * one manifest per commit out to the splitter. Identical requests (same repo,
 * sha and history) while one is in flight are one analysis.
 */
import { createHash } from "node:crypto";
import { decode, encode, formatOf } from "../../shared/fabric/codec.js";
import { publishAnalysisEvent, publishAnalysisFailed, isFinalFailure } from "../../shared/pipeline/announce.js";
import { mapLimit, Semaphore } from "../../shared/fabric/concurrency.js";
import { ErrorCodes, DecodeError, FarmError, PermanentError, isPermanent } from "../../shared/fabric/errors.js";
import {
  firstParentHistory,
  firstParentTrees,
  isInvalidKeyError,
  readBlobs,
  redactUrl,
  repoIdentity,
  repoKey,
  validateRepoRef,
  type CommitInfo,
  type CommitTree,
  type Mirrors,
  type RepoRef,
} from "../../shared/git/index.js";
import { isConfigFile, isLintable, isRegularFile } from "../../shared/lint/lintable.js";
import { extendedConfigPaths, MAX_EXTENDS_ROUNDS, namedExtends } from "../../shared/lint/extends.js";
import { Lru } from "../../shared/fabric/lru.js";
import type { AnalysisStartedEvent, CommitManifest, CommitRef, ManifestEntry } from "../../shared/pipeline/contract.js";
import type { ServiceContext } from "../../shared/pipeline/service.js";
import { ReportStore, type Objects } from "../../shared/pipeline/stores/index.js";
import { kvKeys, messageIds, objectNames, subjects } from "../../shared/pipeline/names.js";
import type { TaskContext } from "../../shared/fabric/worker.js";
import { PipelineErrorCodes } from "../../shared/pipeline/errors.js";

/** A `repo.new_sha` payload is a few hundred bytes; anything this big is not one. */
export const MAX_REQUEST_BYTES = 16 * 1024;
/**
 * Commits uploaded and queued together (one git cat-file each round): few at
 * first, so that linting starts at once, then more, so that a long history
 * costs few processes.
 */
const FIRST_ROUND = 4;
const LAST_ROUND = 64;
/** Blob writes in flight at once. */
const UPLOAD_WINDOW = 16;
/** Config texts kept by blob (package.json files of a monorepo, eslintrc files). */
const CONFIG_TEXTS = 1024;
const utf8 = new TextDecoder();
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

export interface IngestDeps extends ServiceContext {
  mirrors: Mirrors;
  objects: Objects;
  reports: ReportStore;
  /** Analyses run at once; a request joining one in flight waits without taking a turn. Default DEFAULT_MAX_ANALYSES. */
  maxAnalyses?: number;
  /** See DEFAULT_DEDUPE_BUCKET_MS. */
  dedupeBucketMs?: number;
  /** The clock (ms). Default Date.now. */
  now?: () => number;
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

/** One analysis in flight; every identical request awaits the same `done`. */
interface Run {
  done: Promise<void>;
  /** Its failure was announced (`.failed`) by one of the requests: the others stay quiet. */
  announced: boolean;
}

export class Ingest {
  private readonly inFlight = new Map<string, Run>();
  /** Dedupe ids of analyses this instance queued, with their bucket: a later identical request is a re-run. */
  private readonly queuedIds = new Map<string, number>();
  private readonly turns: Semaphore;
  private readonly bucketMs: number;
  private readonly now: () => number;
  private readonly counts: IngestStats = { analyses: 0, joined: 0, duplicateManifests: 0 };
  /** Config files' texts by blob: a history's config rarely changes, so git is asked for few of them. */
  private readonly configTexts = new Lru<string, string>(CONFIG_TEXTS);

  constructor(private readonly deps: IngestDeps) {
    this.turns = new Semaphore(deps.maxAnalyses ?? DEFAULT_MAX_ANALYSES);
    this.bucketMs = deps.dedupeBucketMs ?? DEFAULT_DEDUPE_BUCKET_MS;
    this.now = deps.now ?? Date.now;
  }

  stats(): IngestStats {
    return { ...this.counts };
  }

  /** Raw bytes in, so that even an undecodable payload gets its `.failed` event. */
  onNewSha = async (raw: Uint8Array, ctx: TaskContext): Promise<void> => {
    let req: RepoRef | undefined;
    let run: Run | undefined;
    try {
      req = this.parse(raw, ctx);
      run = this.runOrJoin(req, ctx);
      await run.done;
    } catch (err) {
      // An invalid store key comes back the same on every attempt: permanent, even as the KV client's plain Error.
      const permanent = isPermanent(err) || isInvalidKeyError(err);
      const last = isFinalFailure(err, ctx, permanent);
      const message = redactUrl((err as Error).message);
      // Joined requests share the failure: one `.failed` for it, from whichever of them gives up first.
      if (last && !run?.announced) {
        if (run) run.announced = true;
        this.failed(req, raw, permanent ? message : `gave up after ${ctx.attempt} attempts: ${message}`, ctx.id);
      }
      if (permanent && !isPermanent(err))
        throw new PermanentError(message, isInvalidKeyError(err) ? PipelineErrorCodes.InvalidKey : ErrorCodes.InvalidInput, { cause: err });
      throw withoutSecrets(err, message);
    }
  };

  private parse(raw: Uint8Array, ctx: TaskContext): RepoRef {
    if (raw.length > MAX_REQUEST_BYTES)
      throw new PermanentError(`repo.new_sha payload is ${raw.length} bytes; the limit is ${MAX_REQUEST_BYTES}`, ErrorCodes.TooLarge);
    const body = decode<unknown>(raw, ctx.headers);
    if (!body || typeof body !== "object" || Array.isArray(body))
      throw new DecodeError('repo.new_sha payload must be an object like {"repo": "...", "sha": "..."}');
    return validateRepoRef(body, {
      allowLocal: this.deps.config.allowLocalRepos,
      cloneUrlTemplate: this.deps.config.cloneUrlTemplate,
    });
  }

  /**
   * The analysis of (repo identity, sha, history): the one in flight if there
   * is one, else a new one. A joined request settles with it: acked when it
   * succeeds, failed and retried like it when it fails (at least once for
   * every request, one analysis for all of them).
   */
  private runOrJoin(req: RepoRef, ctx: TaskContext): Run {
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
        await this.analyze(req, key, ctx.id, dedupeId);
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

  private failed(req: RepoRef | undefined, raw: Uint8Array, reason: string, requestId: string) {
    const echo = req ?? bestEffort(raw);
    // Even a request refused as invalid is echoed without its credentials.
    const repo = echo.repo === undefined ? null : repoIdentity(echo.repo);
    publishAnalysisFailed(this.deps.farm.events, { repo, sha: echo.sha ?? null, reason }, requestId);
    this.deps.log.warn({ repo, sha: echo.sha, reason }, "analysis failed");
  }

  private async analyze(req: RepoRef, key: string, requestId: string, dedupeId: string) {
    const { mirrors, objects, log } = this.deps;
    // The clone url (credentials included) goes to git and nowhere else.
    const mirror = await mirrors.ensure(req.cloneUrl, req.sha);
    const commits: CommitInfo[] = await firstParentHistory(mirror, req.sha, req.history);
    const plan = await this.plan(req.repo, key, mirror, commits, requestId);
    const started: AnalysisStartedEvent = {
      repo: req.repo,
      sha: req.sha,
      commits: plan.filter((c) => c.requested).map((c) => c.sha),
      // Analyzed too, for the first delta: its linting is part of what this request costs.
      baseline: plan.find((c) => !c.requested)?.sha ?? null,
    };
    publishAnalysisEvent(this.deps.farm.events, subjects.started, started, requestId, req.sha);
    // Oldest first (parents reach the aggregator before their children), a few commits at a
    // time: the first ones are being linted while the rest of a long history uploads. One git
    // log for the whole history: each tree is its parent's plus the commit's changes.
    const refs = new Map(plan.map((c) => [c.sha, c]));
    let uploaded = 0;
    let round: CommitTree[] = [];
    let roundSize = FIRST_ROUND;
    // What the configs name in a relative `extends`: only a change to one of them, or to a config, can change what is extended.
    const extendsState = { first: true, named: new Set<string>() };
    const flush = async () => {
      const extended = await this.extendedConfigs(mirror, round, extendsState);
      // Only what changed can be new to the store: an unchanged blob was uploaded with an older commit.
      uploaded += await this.uploadBlobs(
        mirror,
        round.flatMap((c) => c.changed),
        extended,
      );
      const manifests: CommitManifest[] = await mapLimit(round, 8, async (c) => ({
        ...refs.get(c.sha)!,
        manifest: await objects.tables.put(objectNames.manifest(key, c.sha), objectNames.chunks(key), c.tree, (e) => e.path),
      }));
      const queued = await this.deps.farm.jobs.enqueue(subjects.commitManifest, manifests, {
        // Stable per analysis (see dedupeId): a redelivered repo.new_sha, or an identical one on
        // another instance, does not queue its commits twice.
        id: (m: CommitManifest) => messageIds.manifest(dedupeId, m.sha),
      });
      this.counts.duplicateManifests += queued.duplicates;
      round = [];
      roundSize = Math.min(LAST_ROUND, roundSize * 2);
    };
    for await (const c of firstParentTrees(mirror, req.sha, plan.length - 1)) {
      if (!refs.has(c.sha)) throw new Error(`git log of ${req.sha} yielded ${c.sha}, which is not in the analysis' history`);
      round.push(c);
      if (round.length >= roundSize) await flush();
    }
    if (round.length > 0) await flush();
    log.info({ repo: req.repo, sha: req.sha, commits: plan.length, uploaded }, "commits queued");
  }

  /** The requested commits, plus the oldest one's parent when it has no report yet (the delta needs it). */
  private async plan(repo: string, key: string, mirror: string, commits: CommitInfo[], requestId: string): Promise<CommitRef[]> {
    const oldestParent = commits.at(-1)?.parents[0];
    const baseline = oldestParent && !(await this.deps.reports.head(key, oldestParent)) ? (await firstParentHistory(mirror, oldestParent, 0))[0] : undefined;
    const all = baseline ? [...commits, baseline] : commits;
    const inPlan = new Set(all.map((c) => c.sha));
    return all.map((c) => this.ref({ requestId, repo, repoKey: key }, c, c !== baseline, inPlan));
  }

  private ref(base: Pick<CommitRef, "requestId" | "repo" | "repoKey">, c: CommitInfo, requested: boolean, inPlan: Set<string>): CommitRef {
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

  /**
   * The files the ESLint configs of a round's commits name in a relative
   * `extends` (and those extend, a few rounds deep): the splitter reads them
   * like the config files. Only config texts are read here, from git, cached
   * by blob. A commit is looked at only when it changes a config or a named
   * file (the first commit: its whole tree); `state` carries what the last one named.
   */
  private async extendedConfigs(mirror: string, round: readonly CommitTree[], state: { first: boolean; named: Set<string> }): Promise<ManifestEntry[]> {
    const max = this.deps.config.maxFileSize;
    const configsOf = (t: CommitTree) => t.tree.filter((e) => isRegularFile(e.mode) && e.size <= max && isConfigFile(e.path));
    const changesConfig = (c: CommitTree) => c.changed.some((e) => isConfigFile(e.path));
    // One read for the round's new config texts (most rounds: none).
    await this.readConfigTexts(mirror, round.filter((c) => state.first || changesConfig(c)).flatMap(configsOf));
    const extended: ManifestEntry[] = [];
    for (const t of round) {
      if (!state.first && !changesConfig(t) && !t.changed.some((e) => state.named.has(e.path))) continue;
      state.first = false;
      const regular = new Map(t.tree.filter((e) => isRegularFile(e.mode) && e.size <= max).map((e) => [e.path, e]));
      const paths = new Set(regular.keys());
      const configs = configsOf(t);
      const texts = await this.readConfigTexts(mirror, configs);
      const contents = new Map(configs.map((e) => [e.path, texts.get(e.blob)!]));
      for (let depth = 0; depth < MAX_EXTENDS_ROUNDS; depth++) {
        const next = extendedConfigPaths(paths, contents).map((p) => regular.get(p)!);
        if (next.length === 0) break;
        const more = await this.readConfigTexts(mirror, next);
        for (const e of next) contents.set(e.path, more.get(e.blob)!);
        extended.push(...next);
      }
      state.named = namedExtends(contents);
    }
    return extended;
  }

  /** The texts of `entries` by blob: from the cache, the rest in one read of git. */
  private async readConfigTexts(mirror: string, entries: readonly ManifestEntry[]): Promise<Map<string, string>> {
    const texts = new Map<string, string>();
    const unknown = new Set<string>();
    for (const e of entries) {
      const known = this.configTexts.get(e.blob);
      if (known === undefined) unknown.add(e.blob);
      else texts.set(e.blob, known);
    }
    if (unknown.size > 0) {
      for await (const [blob, data] of readBlobs(mirror, unknown)) {
        const text = utf8.decode(data);
        texts.set(blob, text);
        this.configTexts.set(blob, text);
      }
    }
    return texts;
  }

  /** Uploads the contents of lintable and config blobs (and of `extended`, what configs extend) the store does not have. Returns how many. */
  private async uploadBlobs(mirror: string, entries: readonly ManifestEntry[], extended: readonly ManifestEntry[]): Promise<number> {
    const { objects, config } = this.deps;
    const wanted = new Set<string>();
    for (const e of entries) if (isLintable(e, config.maxFileSize) || isConfigFile(e.path)) wanted.add(e.blob);
    for (const e of extended) wanted.add(e.blob);
    const candidates = [...wanted];
    const present = await mapLimit(candidates, 32, (blob) => objects.has(objectNames.blob(blob)));
    const missing = candidates.filter((_, i) => !present[i]);
    if (missing.length === 0) return 0;
    // Writes overlap (a window of them in flight) while git streams the contents.
    const window = new Set<Promise<void>>();
    let failure: Error | undefined;
    for await (const [blob, data] of readBlobs(mirror, missing)) {
      if (failure) break;
      const put: Promise<void> = objects
        .putOnce(objectNames.blob(blob), data, { absent: true })
        .then(
          () => {},
          (err: Error) => void (failure ??= err),
        )
        .finally(() => window.delete(put));
      window.add(put);
      if (window.size >= UPLOAD_WINDOW) await Promise.race(window);
    }
    await Promise.all(window);
    if (failure) throw failure;
    return missing.length;
  }
}

/**
 * A `repo.new_sha` payload as a dead-letter copy may keep it: its repo url
 * without credentials (the request itself is the client's, but a copy parked
 * for operators to read must not expose them). A payload that does not decode
 * is redacted as text (byte for byte elsewhere: it was unusable anyway).
 */
export function redactNewShaPayload(data: Uint8Array, headers?: Parameters<typeof decode>[1]): Uint8Array {
  let body: unknown;
  try {
    body = decode(data, headers);
  } catch {
    const text = Buffer.from(data).toString("latin1");
    const clean = redactUrl(text);
    return clean === text ? data : Buffer.from(clean, "latin1");
  }
  if (!body || typeof body !== "object" || Array.isArray(body)) return data;
  const repo = (body as { repo?: unknown }).repo;
  if (typeof repo !== "string" || repoIdentity(repo) === repo) return data;
  return encode({ ...body, repo: repoIdentity(repo) }, formatOf(data, headers));
}

/**
 * `err`, or a copy with `redacted` as its message when its own quotes a url's
 * credentials (a JSON parser's excerpt of the payload): the worker logs it and
 * the dead-letter entry keeps it as the reason. Same name, code and permanence.
 */
function withoutSecrets(err: unknown, redacted: string): unknown {
  if (!(err instanceof Error) || err.message === redacted) return err;
  const code = err instanceof FarmError ? err.code : ErrorCodes.Task;
  const copy = isPermanent(err) ? new PermanentError(redacted, code) : new FarmError(redacted, code);
  copy.name = err.name;
  return copy;
}

function bestEffort(raw: Uint8Array): { repo?: string; sha?: string } {
  try {
    const v = decode<Record<string, unknown>>(raw);
    return { repo: typeof v?.repo === "string" ? v.repo : undefined, sha: typeof v?.sha === "string" ? v.sha : undefined };
  } catch {
    return {};
  }
}
