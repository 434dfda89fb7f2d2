/**
 * splitter: a commit's manifest in; the lintable files, each with its
 * effective config id; every (blob, config) not in the result cache packed
 * into batches for the linter-runners; the full file list to the aggregator.
 */
import type { TaskContext } from "../../shared/fabric/worker.js";
import { entryKind, isLintable, isRegularFile } from "../../shared/lint/lintable.js";
import { DEFAULT_PLAN_BUDGET_MS, DEFAULT_PLAN_SLICE, FARM_JSON, PlanCache, planRepoLintAsync, reportLinterVersions } from "../../shared/lint/index.js";
import { isFinalFailure } from "../../shared/pipeline/announce.js";
import type { CommitManifest, FileRef, ManifestEntry, SplitStats } from "../../shared/pipeline/contract.js";
import { repoGate, type RepoGate } from "../../shared/pipeline/gate.js";
import { metricsOf } from "../../shared/pipeline/counts.js";
import type { ReportToolchain } from "../../shared/pipeline/report.js";
import { objectNames, placementOf, subjects } from "../../shared/pipeline/names.js";
import type { Service, ServiceContext } from "../../shared/pipeline/service.js";
import { openStores, type Objects, type ResultCache } from "../../shared/pipeline/stores/index.js";
import type { BatchOptions } from "./batches.js";
import { giveUpCommit, sendCommitFiles } from "./commit-files.js";
import { ConfigFiles } from "./config-files.js";
import { LintQueue } from "./queue.js";
import { CommitToolchains } from "./toolchains.js";
import { Verdicts } from "./verdicts.js";

export interface SplitterDeps extends ServiceContext, BatchOptions {
  objects: Objects;
  results: ResultCache;
  /** Ms of planning work one commit may take before it is given up (`.failed`). Default DEFAULT_PLAN_BUDGET_MS (30 000). */
  planBudgetMs?: number;
  /** Paths planned between two yields to the event loop. Default DEFAULT_PLAN_SLICE (1000). */
  planSlice?: number;
}

export class Splitter {
  private readonly configFiles: ConfigFiles;
  private readonly verdicts = new Verdicts();
  private readonly lintQueue: LintQueue;
  /** Commits with the same configuration files plan each path once. */
  private readonly plans = new PlanCache();
  /**
   * A tree entry's file reference, one object for as long as the entry is
   * (a history's unchanged entries are the same objects): the file table's
   * unchanged chunks are then known without encoding them.
   */
  private readonly refs = new WeakMap<ManifestEntry, FileRef>();

  /** The commits' own toolchains; null when the operator turned them off (configs read as data). */
  private readonly toolchains: CommitToolchains | null;

  constructor(private readonly deps: SplitterDeps) {
    this.configFiles = new ConfigFiles(deps.objects);
    this.toolchains = deps.config.toolchains ? new CommitToolchains({ objects: deps.objects, config: deps.config, log: deps.log }) : null;
    this.lintQueue = new LintQueue(deps);
  }

  /** Ends the toolchains' sandbox sessions. */
  async close(): Promise<void> {
    await this.toolchains?.close();
  }

  onManifest = async (m: CommitManifest, ctx: TaskContext): Promise<SplitStats> => {
    try {
      return await this.split(m, ctx);
    } catch (err) {
      if (isFinalFailure(err, ctx)) await giveUpCommit(this.deps, m, (err as Error).message, ctx);
      throw err;
    }
  };

  private async split(m: CommitManifest, ctx: TaskContext): Promise<SplitStats> {
    const tree = await this.deps.objects.tables.get<ManifestEntry>(m.manifest);
    if (!tree) throw new Error(`manifest ${m.manifest} is not in the object store yet`);
    const byPath = new Map(tree.map((e) => [e.path, e]));
    const own = this.toolchains ? await this.toolchains.of(tree, m.date) : null;
    const gate = await this.gateOf(byPath);
    if (own?.kind === "toolchain") {
      const { plan } = own;
      const refs = plan.files.map((f) => ({ path: f.path, blob: byPath.get(f.path)!.blob, configId: f.configId }));
      const queued = await this.lintQueue.queue(refs, byPath, plan.settings, placementOf(m));
      return this.finish(m, refs, queued, { eslint: plan.report.eslint }, gate, plan.notes, plan.report);
    }
    const notRegular = new Map(tree.filter((e) => !isRegularFile(e.mode)).map((e) => [e.path, entryKind(e.mode)]));
    const plan = await planRepoLintAsync(
      { paths: [...byPath.keys()], contents: await this.configFiles.of(tree, notRegular), notRegular },
      {
        budgetMs: this.deps.planBudgetMs ?? DEFAULT_PLAN_BUDGET_MS,
        sliceSize: this.deps.planSlice ?? DEFAULT_PLAN_SLICE,
        signal: ctx.signal,
        cache: this.plans,
      },
    );
    const files = plan.files.filter((f) => isLintable(byPath.get(f.path)!, this.deps.config.maxFileSize));
    for (const id of new Set(files.map((f) => f.configId))) this.verdicts.check(id, plan.configs.get(id)!);
    const refs: FileRef[] = files.map((f) => this.refOf(byPath.get(f.path)!, f.configId));
    const queued = await this.lintQueue.queue(refs, byPath, plan.configs, placementOf(m));
    const linters = reportLinterVersions(new Set(files.map((f) => f.config.linters).flat()));
    return this.finish(m, refs, queued, linters, gate, [...(own?.notes ?? []), ...plan.settings.notes]);
  }

  /** The gate the commit's own root `.farm.json` sets for its check run (a regular file only, as every config). */
  private async gateOf(byPath: ReadonlyMap<string, ManifestEntry>): Promise<RepoGate> {
    const entry = byPath.get(FARM_JSON);
    return entry && isRegularFile(entry.mode) ? repoGate(await this.configFiles.text(entry)) : {};
  }

  /** Stores the commit's file table and sends it to the aggregator. */
  private async finish(
    m: CommitManifest,
    refs: FileRef[],
    queued: number,
    linters: Record<string, string>,
    { gate, note }: RepoGate,
    notes: string[],
    toolchain?: ReportToolchain,
  ) {
    if (note) notes = [...notes, note];
    const stats: SplitStats = { files: refs.length, cacheHits: refs.length - queued, queued };
    const filesObject = await this.deps.objects.tables.put(objectNames.files(m.repoKey, m.sha), objectNames.chunks(m.repoKey), refs, (r) => r.path);
    await sendCommitFiles(this.deps, m, {
      tree: m.manifest,
      files: filesObject,
      linters,
      stats,
      ...(notes.length > 0 ? { notes } : {}),
      ...(toolchain ? { toolchain } : {}),
      ...(gate ? { gate } : {}),
    });
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
}

/** splitter: commit manifests in, lint batches and commit file lists out. */
export async function startSplitter(ctx: ServiceContext): Promise<Service> {
  const { farm } = ctx;
  const { objects, results } = ctx.stores ?? (await openStores(farm.nc));
  const splitter = new Splitter({ ...ctx, objects, results });
  const worker = await farm.worker(subjects.commitManifest, splitter.onManifest, { concurrency: 8, ackWait: 15_000, backfillShare: ctx.config.backfillShare });
  const close = async () => {
    await worker.close();
    await splitter.close();
  };
  return { name: "splitter", close, endpoints: [worker.endpoint] };
}
