/**
 * splitter: a commit's manifest in; the lintable files, each with its
 * effective config id; every (blob, config) not in the result cache packed
 * into batches for the linter-runners; the full file list to the aggregator.
 */
import { createHash } from "node:crypto";
import { mapLimit } from "../../shared/concurrency.js";
import { isPermanent } from "../../shared/errors.js";
import { isLintable } from "../../shared/lintable.js";
import { planRepoLint, repoConfigPaths, reportLinterVersions, type FileLintConfig } from "../../shared/lint/index.js";
import type { BatchFile, CommitFiles, CommitManifest, LintBatch, ManifestEntry, ServiceContext, SplitStats } from "../../shared/pipeline.js";
import { resultKey, type FileRef } from "../../shared/report.js";
import { Lru, objectNames, type Objects, type ResultCache } from "../../shared/stores.js";
import { subjects } from "../../shared/topology.js";
import type { TaskContext } from "../../shared/worker.js";

export interface SplitterDeps extends ServiceContext {
  objects: Objects;
  results: ResultCache;
  /** Files per batch. Default 64. */
  batchFiles?: number;
  /** Content bytes per batch. Default 4 MiB. */
  batchBytes?: number;
}

/** How long a queued (blob, config) counts as on its way, so other commits do not queue it again. */
const QUEUED_TTL_MS = 10 * 60_000;
const utf8 = new TextDecoder();

export class Splitter {
  // Keys this instance queued recently: a history shares most blobs between commits.
  private readonly queued = new Lru<string, number>(200_000);

  constructor(private readonly d: SplitterDeps) {}

  onManifest = async (m: CommitManifest, ctx: TaskContext): Promise<SplitStats> => {
    try {
      return await this.split(m);
    } catch (err) {
      if (isPermanent(err) || ctx.attempt >= ctx.maxDeliver) {
        const reason = (err as Error).message;
        this.d.farm.events.publish(subjects.failed, { repo: m.repo, sha: m.sha, reason });
        // Children of this commit wait for its report as their baseline: tell the aggregator there will be none.
        const gaveUp: CommitFiles = { ...withoutManifest(m), files: "", linters: {}, stats: { files: 0, cacheHits: 0, queued: 0 }, failed: reason };
        await this.d.farm.jobs
          .enqueue(subjects.commitFiles, [gaveUp], { id: () => `files.${m.requestId}.${m.sha}` })
          .catch((e: Error) => ctx.log.warn({ sha: m.sha, err: e.message }, "could not record the failed commit"));
      }
      throw err;
    }
  };

  private async split(m: CommitManifest): Promise<SplitStats> {
    const tree = await this.d.objects.getValue<ManifestEntry[]>(m.manifest);
    if (!tree) throw new Error(`manifest ${m.manifest} is not in the object store yet`);
    const plan = planRepoLint({ paths: tree.map((e) => e.path), contents: await this.configContents(tree) });
    const byPath = new Map(tree.map((e) => [e.path, e]));
    const files = plan.files.filter((f) => isLintable(byPath.get(f.path)!, this.d.config.maxFileSize));
    const refs: FileRef[] = files.map((f) => ({ path: f.path, blob: byPath.get(f.path)!.blob, configId: f.configId }));

    const toLint = await this.uncached(refs);
    const batches = this.pack(toLint, byPath, plan.configs);
    if (batches.length > 0) {
      await this.d.farm.jobs.distribute(subjects.lintBatch, batches, { resultsTo: subjects.lintResults, id: batchId });
    }
    const stats: SplitStats = { files: refs.length, cacheHits: refs.length - toLint.length, queued: toLint.length };
    const filesObject = await this.d.objects.putDocument(objectNames.files(m.repoKey, m.sha), refs);
    const linters = reportLinterVersions(new Set(files.flatMap((f) => f.config.linters)));
    const next: CommitFiles = { ...withoutManifest(m), files: filesObject, linters, stats };
    await this.d.farm.jobs.enqueue(subjects.commitFiles, [next], { id: () => `files.${m.requestId}.${m.sha}` });
    return stats;
  }

  /** Contents of .farm.json, .jshintrc and package.json files, from the blob store. */
  private async configContents(tree: ManifestEntry[]): Promise<Map<string, string>> {
    const paths = new Set(repoConfigPaths(tree.map((e) => e.path)));
    const wanted = tree.filter((e) => paths.has(e.path));
    const texts = await mapLimit(wanted, 16, async (e) => {
      const data = await this.d.objects.getBytes(objectNames.blob(e.blob));
      // A config file ingest skipped (e.g. oversized): treat it as empty rather than fail the commit.
      return data ? utf8.decode(data) : "{}";
    });
    return new Map(wanted.map((e, i) => [e.path, texts[i]]));
  }

  /**
   * Distinct files whose (blob, config) is neither cached nor claimed recently.
   * Claims are taken before the first await, so commits split concurrently
   * never queue the same key twice.
   */
  private async uncached(refs: FileRef[]): Promise<FileRef[]> {
    const now = Date.now();
    const claimed = new Map<string, FileRef>();
    for (const r of refs) {
      const key = resultKey(r.blob, r.configId);
      const at = this.queued.get(key);
      if (claimed.has(key) || (at && now - at < QUEUED_TTL_MS)) continue;
      this.queued.set(key, now);
      claimed.set(key, r);
    }
    const candidates = [...claimed];
    const cached = await mapLimit(candidates, 64, ([key]) => this.d.results.has(key));
    return candidates.filter((_, i) => !cached[i]).map(([, r]) => r);
  }


  private pack(refs: FileRef[], byPath: Map<string, ManifestEntry>, configs: Map<string, FileLintConfig>): LintBatch[] {
    const maxFiles = this.d.batchFiles ?? 64;
    const maxBytes = this.d.batchBytes ?? 4 * 1024 * 1024;
    const batches: LintBatch[] = [];
    let files: BatchFile[] = [];
    let bytes = 0;
    const flush = () => {
      if (files.length === 0) return;
      const settings = Object.fromEntries([...new Set(files.map((f) => f.configId))].map((id) => [id, configs.get(id)!]));
      batches.push({ settings, files });
      files = [];
      bytes = 0;
    };
    for (const r of refs) {
      const size = byPath.get(r.path)!.size;
      if (files.length >= maxFiles || (files.length > 0 && bytes + size > maxBytes)) flush();
      files.push({ path: r.path, blob: r.blob, configId: r.configId });
      bytes += size;
    }
    flush();
    return batches;
  }
}

/** Same files → same id: the stream drops a batch queued twice inside its duplicate window. */
function batchId(b: LintBatch): string {
  const h = createHash("sha256");
  for (const f of b.files) h.update(`${f.blob}.${f.configId}\n`);
  return `batch.${h.digest("hex").slice(0, 32)}`;
}

function withoutManifest(m: CommitManifest) {
  const { manifest: _manifest, ...ref } = m;
  return ref;
}
