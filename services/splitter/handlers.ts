/**
 * splitter: a commit's manifest in; the lintable files, each with its
 * effective config id; every (blob, config) not in the result cache packed
 * into batches for the linter-runners; the full file list to the aggregator.
 */
import { createHash } from "node:crypto";
import { mapLimit } from "../../shared/fabric/concurrency.js";
import { publishAnalysisFailed, isFinalFailure } from "../../shared/pipeline/announce.js";
import { maxPayload } from "../../shared/fabric/limits.js";
import { entryKind, isLintable, isRegularFile } from "../../shared/lint/lintable.js";
import {
  DEFAULT_PLAN_BUDGET_MS,
  DEFAULT_PLAN_SLICE,
  PlanCache,
  planRepoLintAsync,
  extendedConfigPaths,
  MAX_EXTENDS_ROUNDS,
  repoConfigPaths,
  reportLinterVersions,
  validateLintConfig,
  type FileLintConfig,
  type RepoConfigError,
} from "../../shared/lint/index.js";
import type { CommitFiles, CommitManifest, CommitRef, FileRef, LintBatch, ManifestEntry, SplitStats } from "../../shared/pipeline/contract.js";
import type { ServiceContext } from "../../shared/pipeline/service.js";

import { Lru } from "../../shared/fabric/lru.js";
import { type Objects, type ResultCache } from "../../shared/pipeline/stores/index.js";
import { kvKeys, messageIds, objectNames, subjects } from "../../shared/pipeline/names.js";
import { metricsOf } from "../../shared/pipeline/metrics.js";
import type { TaskContext } from "../../shared/fabric/worker.js";
import { Claims } from "./claims.js";
import { storeConfigs } from "./lint-configs.js";

export interface SplitterDeps extends ServiceContext {
  objects: Objects;
  results: ResultCache;
  /** Files per batch. Default 64. */
  batchFiles?: number;
  /** Content bytes per batch (the runner fetches them). Default 4 MiB. */
  batchBytes?: number;
  /**
   * Encoded bytes of one batch message. Default 256 KiB, and never more than
   * half the server's max_payload: a batch must fit one message.
   */
  batchMessageBytes?: number;
  /** Ms of planning work one commit may take before it is given up (`.failed`). Default 30 000. */
  planBudgetMs?: number;
  /** Paths planned between two yields to the event loop. Default 1000. */
  planSlice?: number;
}

const utf8 = new TextDecoder();
/** Config files up to this size are kept in memory (1024 of them at most). */
const CACHED_CONFIG_BYTES = 64 * 1024;

export class Splitter {
  private readonly claims = new Claims();
  /** Config id → its validation error (null: valid). Ids are content hashes, so a verdict never changes. */
  private readonly verdicts = new Lru<string, RepoConfigError | null>(4096);
  /** Config files' text by blob id: a history reads the same package.json for most of its commits. */
  private readonly configTexts = new Lru<string, string>(1024);
  /** Commits with the same configuration files plan each path once. */
  private readonly plans = new PlanCache();
  /**
   * A tree entry's file reference, one object for as long as the entry is
   * (a history's unchanged entries are the same objects): the file table's
   * unchanged chunks are then known without encoding them.
   */
  private readonly refs = new WeakMap<ManifestEntry, FileRef>();

  constructor(private readonly deps: SplitterDeps) {}

  onManifest = async (m: CommitManifest, ctx: TaskContext): Promise<SplitStats> => {
    try {
      return await this.split(m, ctx);
    } catch (err) {
      if (isFinalFailure(err, ctx)) {
        const reason = (err as Error).message;
        publishAnalysisFailed(this.deps.farm.events, { repo: m.repo, sha: m.sha, reason }, m.requestId, m.sha);
        // Children of this commit wait for its report as their baseline: tell the aggregator there will be none.
        const gaveUp: CommitFiles = { ...withoutManifest(m), files: "", linters: {}, stats: { files: 0, cacheHits: 0, queued: 0 }, failed: reason };
        await this.deps.farm.jobs
          .enqueue(subjects.commitFiles, [gaveUp], { id: () => messageIds.commitFiles(m.requestId, m.sha) })
          .catch((e: Error) => ctx.log.warn({ sha: m.sha, err: e.message }, "could not record the failed commit"));
      }
      throw err;
    }
  };

  private async split(m: CommitManifest, ctx: TaskContext): Promise<SplitStats> {
    const tree = await this.deps.objects.tables.get<ManifestEntry>(m.manifest);
    if (!tree) throw new Error(`manifest ${m.manifest} is not in the object store yet`);
    const notRegular = new Map(tree.filter((e) => !isRegularFile(e.mode)).map((e) => [e.path, entryKind(e.mode)]));
    const paths = tree.map((e) => e.path);
    const plan = await planRepoLintAsync(
      { paths, contents: await this.configContents(tree, notRegular), notRegular },
      {
        budgetMs: this.deps.planBudgetMs ?? DEFAULT_PLAN_BUDGET_MS,
        sliceSize: this.deps.planSlice ?? DEFAULT_PLAN_SLICE,
        signal: ctx.signal,
        cache: this.plans,
      },
    );
    const byPath = new Map(tree.map((e) => [e.path, e]));
    const files = plan.files.filter((f) => isLintable(byPath.get(f.path)!, this.deps.config.maxFileSize));
    for (const id of new Set(files.map((f) => f.configId))) this.validate(id, plan.configs.get(id)!);
    const refs: FileRef[] = files.map((f) => this.refOf(byPath.get(f.path)!, f.configId));

    const queued = await this.queue(refs, byPath, plan.configs);
    const stats: SplitStats = { files: refs.length, cacheHits: refs.length - queued, queued };
    const filesObject = await this.deps.objects.tables.put(objectNames.files(m.repoKey, m.sha), objectNames.chunks(m.repoKey), refs, (r) => r.path);
    const linters = reportLinterVersions(new Set(files.map((f) => f.config.linters).flat()));
    const { notes } = plan.settings;
    const next: CommitFiles = { ...withoutManifest(m), tree: m.manifest, files: filesObject, linters, stats, ...(notes.length > 0 ? { notes } : {}) };
    await this.deps.farm.jobs.enqueue(subjects.commitFiles, [next], { id: () => messageIds.commitFiles(m.requestId, m.sha) });
    // Counted once the commit is split: a hit is a file not queued (its result cached, or on its way for another commit).
    const metrics = metricsOf(this.deps);
    metrics.resultCacheHits.inc(stats.cacheHits);
    metrics.resultCacheMisses.inc(stats.queued);
    return stats;
  }

  private refOf(entry: ManifestEntry, configId: string): FileRef {
    const known = this.refs.get(entry);
    if (known?.configId === configId) return known;
    const ref: FileRef = { path: entry.path, blob: entry.blob, configId };
    this.refs.set(entry, ref);
    return ref;
  }

  /** Throws the config's RepoConfigError (permanent: the commit fails with it), checked once per config id. */
  private validate(id: string, config: FileLintConfig): void {
    let verdict = this.verdicts.get(id);
    if (verdict === undefined) {
      try {
        validateLintConfig(config);
        verdict = null;
      } catch (err) {
        verdict = err as RepoConfigError;
      }
      this.verdicts.set(id, verdict);
    }
    if (verdict) throw verdict;
  }

  /**
   * Queues every (blob, config) that is neither cached nor claimed recently;
   * returns how many. Claims are released if anything fails before the
   * batches are in the stream, so a retry queues them.
   */
  private async queue(refs: FileRef[], byPath: Map<string, ManifestEntry>, configs: Map<string, FileLintConfig>): Promise<number> {
    const claimed = this.claims.take(refs.map((r) => [kvKeys.result(r.blob, r.configId), r] as const));
    let queued = false;
    try {
      const candidates = [...claimed];
      const cached = await mapLimit(candidates, 64, ([key]) => this.deps.results.has(key));
      const toLint = candidates.filter((_, i) => !cached[i]).map(([, r]) => r);
      const batches = this.pack(toLint, byPath);
      const used = new Set(toLint.map((r) => r.configId));
      await storeConfigs(this.deps.objects, new Map([...used].map((id) => [id, configs.get(id)!])));
      if (batches.length > 0) {
        await this.deps.farm.jobs.distribute(subjects.lintBatch, batches, { resultsTo: subjects.lintResults, id: batchId });
      }
      queued = true;
      return toLint.length;
    } finally {
      if (!queued) this.claims.release(claimed.keys());
    }
  }

  /**
   * Contents of the regular .farm.json, .jshintrc, .eslintrc and package.json
   * files, from the blob store, and of the files their relative `extends` name
   * (an extended file may extend another: asked again, a few rounds at most).
   */
  private async configContents(tree: readonly ManifestEntry[], notRegular: ReadonlyMap<string, string>): Promise<Map<string, string>> {
    const byPath = new Map(tree.map((e) => [e.path, e]));
    const contents = await this.texts(repoConfigPaths([...byPath.keys()], notRegular).map((p) => byPath.get(p)!));
    const regular = new Set([...byPath.keys()].filter((p) => !notRegular.has(p)));
    for (let round = 0; round < MAX_EXTENDS_ROUNDS; round++) {
      const more = extendedConfigPaths(regular, contents);
      if (more.length === 0) break;
      for (const [p, text] of await this.texts(more.map((p) => byPath.get(p)!))) contents.set(p, text);
    }
    return contents;
  }

  private async texts(wanted: readonly ManifestEntry[]): Promise<Map<string, string>> {
    const texts = await mapLimit(wanted, 16, async (e) => {
      const known = this.configTexts.get(e.blob);
      if (known !== undefined) return known;
      const data = await this.deps.objects.getBytes(objectNames.blob(e.blob));
      // A config file ingest skipped (e.g. oversized): treat it as empty rather than fail the commit.
      const text = data ? utf8.decode(data) : "{}";
      if (data && data.length <= CACHED_CONFIG_BYTES) this.configTexts.set(e.blob, text);
      return text;
    });
    return new Map(wanted.map((e, i) => [e.path, texts[i]]));
  }

  /** Batches by file count, content bytes and encoded message size; configs by reference. */
  private pack(refs: FileRef[], byPath: Map<string, ManifestEntry>): LintBatch[] {
    const maxFiles = this.deps.batchFiles ?? 64;
    const maxBytes = this.deps.batchBytes ?? 4 * 1024 * 1024;
    const maxMessage = Math.min(this.deps.batchMessageBytes ?? 256 * 1024, Math.floor(maxPayload(this.deps.farm.nc) / 2));
    const batches: LintBatch[] = [];
    let files: FileRef[] = [];
    let settings: Record<string, string> = {};
    let bytes = 0;
    let encoded = 0;
    const flush = () => {
      if (files.length === 0) return;
      batches.push({ settings, files });
      files = [];
      settings = {};
      bytes = 0;
      encoded = 0;
    };
    for (const r of refs) {
      const size = byPath.get(r.path)!.size;
      const file: FileRef = { path: r.path, blob: r.blob, configId: r.configId };
      const cost = () => encodedSize(file) + (r.configId in settings ? 0 : settingSize(r.configId));
      if (files.length > 0 && (files.length >= maxFiles || bytes + size > maxBytes || encoded + cost() > maxMessage)) flush();
      encoded += cost();
      settings[r.configId] = objectNames.lintConfig(r.configId);
      files.push(file);
      bytes += size;
    }
    flush();
    return batches;
  }
}

/** Upper bound of a file's share of the msgpack batch: its three strings plus keys and headers. */
function encodedSize(f: FileRef): number {
  return Buffer.byteLength(f.path) + Buffer.byteLength(f.blob) + Buffer.byteLength(f.configId) + 32;
}

/** Upper bound of one `settings` entry (config id → object name). */
function settingSize(configId: string): number {
  return 2 * Buffer.byteLength(objectNames.lintConfig(configId)) + 16;
}

/** Same files → same id: the stream drops a batch queued twice inside its duplicate window. */
function batchId(b: LintBatch): string {
  const h = createHash("sha256");
  for (const f of b.files) h.update(`${f.blob}.${f.configId}\n`);
  return messageIds.lintBatch(h.digest("hex").slice(0, 32));
}

/** The commit's ref without the manifest's object name (later messages carry their own references). */
function withoutManifest(m: CommitManifest): CommitRef {
  const ref: Partial<CommitManifest> = { ...m };
  delete ref.manifest;
  return ref as CommitRef;
}
