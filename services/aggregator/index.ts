/**
 * aggregator: results in, per-commit reports and analysis events out; serves
 * report.get and the history API. A commit's report is assembled once every
 * file has a result, diffed against the parent, stored, announced.
 */
import type { TaskResult } from "../../shared/fabric/envelope.js";
import type { TaskContext } from "../../shared/fabric/worker.js";
import { publishAnalysisEvent, publishAnalysisFailed, isFinalFailure } from "../../shared/pipeline/announce.js";
import type { BatchDone, CommitFiles, FileRef, LintBatch } from "../../shared/pipeline/contract.js";
import { metricsOf } from "../../shared/pipeline/counts.js";
import { kvKeys, subjects } from "../../shared/pipeline/names.js";
import type { Service, ServiceContext } from "../../shared/pipeline/service.js";
import { openStores, type Objects, type RepoIndex, type ReportStore, type ResultCache, type StoredReport } from "../../shared/pipeline/stores/index.js";
import { Baselines } from "./baselines.js";
import { deltaOf } from "./delta.js";
import { announceCompleted, progressOf } from "./events.js";
import { HistoryServer } from "./history-server.js";
import { ReportServer } from "./report-server.js";
import { Tallies } from "./tally.js";
import { ResultTracker } from "./tracker.js";

export interface AggregatorDeps extends ServiceContext {
  objects: Objects;
  results: ResultCache;
  reports: ReportStore;
  /** The analysed repositories: each stored report may be its repository's newest. */
  repos: Pick<RepoIndex, "record">;
  tracker: ResultTracker;
  /** Ms between progress events of one commit. Default DEFAULT_PROGRESS_EVERY_MS (500). */
  progressEveryMs?: number;
}

/** Results in; a commit's report assembled once every file has a result, diffed against the parent, stored, announced. */
export class Aggregator {
  readonly baselines: Baselines;
  private readonly tallies: Tallies;

  constructor(private readonly deps: AggregatorDeps) {
    this.baselines = new Baselines(deps.reports);
    this.tallies = new Tallies(deps);
  }

  /** `results.lint`: a batch's results are in the cache (or the batch was given up). */
  onBatchResult = async (r: TaskResult<BatchDone> & { task?: LintBatch }): Promise<void> => {
    if (r.ok) return this.deps.tracker.done(r.value.keys);
    const keys = (r.task?.files ?? []).map((f) => kvKeys.result(f.blob, f.configId));
    this.deps.log.warn({ keys: keys.length, error: r.error.message }, "lint batch given up");
    await this.deps.tracker.failed(keys, r.error.message);
  };

  /** `results.commit_files`: held (with heartbeats) until the commit's report is stored. */
  onCommitFiles = async (c: CommitFiles, ctx: TaskContext): Promise<void> => {
    if (c.failed !== undefined) return this.gaveUp(c, c.failed);
    await this.baselines.whileAssembling(c, async () => {
      try {
        await this.assembleCommit(c, ctx);
      } catch (err) {
        // Handed back at shutdown, or another attempt will come: not given up.
        if (!isFinalFailure(err, ctx)) throw err;
        const reason = (err as Error).message;
        publishAnalysisFailed(this.deps.farm.events, { repo: c.repo, sha: c.sha, reason }, c.requestId, c.sha);
        await this.gaveUp(c, reason);
        throw err;
      }
    });
  };

  /** No report will come for this commit: record why, and wake children waiting for it as their baseline. */
  private async gaveUp(c: CommitFiles, reason: string): Promise<void> {
    await this.deps.reports.markFailed(c.repoKey, c.sha, reason);
    this.baselines.wake(c.sha);
  }

  private async assembleCommit(c: CommitFiles, ctx: TaskContext): Promise<void> {
    const { farm } = this.deps;
    if (ctx.attempt > 1) {
      const existing = await this.deps.reports.head(c.repoKey, c.sha);
      // The index too: the attempt that stored the report may have failed before it.
      if (existing) return announceCompleted(farm.events, c, await this.indexed(existing, c));
    }
    if (ctx.attempt === 1) publishAnalysisEvent(farm.events, subjects.started, { repo: c.repo, sha: c.sha, files: c.stats.files }, c.requestId, c.sha);
    // The parent first: a commit waiting in a long history holds nothing but its message (its file
    // list read before the wait was most of what thousands of waiting commits held).
    const baseline = await this.baselines.of(c, ctx);
    const files = (await this.deps.objects.tables.get<FileRef>(c.files)) ?? [];
    const keys = [...new Set(files.map((f) => kvKeys.result(f.blob, f.configId)))];
    // Results this instance has seen need no waiting: in a history, nearly all of them.
    const unseen = keys.filter((k) => !this.deps.results.known(k));
    await this.deps.tracker.waitAll(unseen, progressOf(farm.events, c, keys.length, this.deps.progressEveryMs), ctx.signal);
    const tally = await this.tallies.tally(files);
    // No baseline (the parent could not be analyzed): no delta, rather than every issue "new".
    const delta = c.parent && baseline ? await deltaOf(this.deps, files, baseline, c.moves) : null;
    // The child's delta needs only this: it need not wait for the report's writes below.
    this.baselines.assembledOf(c, { files: tally.kept, failures: tally.failures });
    const report = await this.deps.reports.put(
      {
        repo: c.repo,
        repoKey: c.repoKey,
        sha: c.sha,
        parent: c.parent,
        date: c.date,
        subject: c.subject,
        linters: c.linters,
        summary: tally.summary,
        rules: tally.rules,
        newIssues: delta ? delta.new.length : null,
        fixedIssues: delta ? delta.fixed.length : null,
        ...(c.notes?.length ? { notes: c.notes } : {}),
        ...(c.toolchain ? { toolchain: c.toolchain } : {}),
        ...(c.gate ? { gate: c.gate } : {}),
        ...(c.tree ? { tree: c.tree } : {}),
        completedAt: new Date().toISOString(),
      },
      { files: tally.kept, delta, ...(Object.keys(tally.failures).length > 0 ? { failures: tally.failures } : {}) },
      // Analysed only as a baseline (its parent had no report when planned): an analysis that asked for
      // this commit may have stored it meanwhile, with the delta this one lacks.
      { ifAbsent: !c.requested && !delta },
    );
    metricsOf(this.deps).commitsAnalyzed.inc();
    // Before .completed: a client that heard it finds the commit in history.repos.
    announceCompleted(farm.events, c, await this.indexed(report, c));
  }

  /** The repository index learns of a stored report (it keeps the newest commit per repository, and per branch a request named). */
  private async indexed(report: StoredReport, c: Pick<CommitFiles, "requested" | "branch">): Promise<StoredReport> {
    const { repo, repoKey, sha, date, subject, summary, completedAt } = report;
    const counts = { files: summary.files, errors: summary.errors, warnings: summary.warnings };
    await this.deps.repos.record({ repo, repoKey, sha, date, subject, summary: counts, completedAt }, report.parent, c.requested ? c.branch : undefined);
    return report;
  }
}

export async function startAggregator(ctx: ServiceContext): Promise<Service> {
  const { farm } = ctx;
  const { objects, results, reports, repos } = ctx.stores ?? (await openStores(farm.nc));
  const agg = new Aggregator({
    ...ctx,
    objects,
    results,
    reports,
    repos,
    tracker: new ResultTracker(results, { givenUp: reports, stallMs: ctx.config.commitStallSeconds * 1000, log: ctx.log }),
  });
  const reportServer = new ReportServer({ reports, objects, nc: farm.nc });
  const history = new HistoryServer({ reports, repos, objects, nc: farm.nc });
  const serve = { consumeQueue: false, concurrency: 16 } as const;
  // A parent assembled by another instance: its children here look for it at once.
  const wake = (e: { sha?: unknown }) => void (typeof e?.sha === "string" && agg.baselines.wake(e.sha));
  const events = [farm.events.subscribe(subjects.completed, wake), farm.events.subscribe(subjects.failed, wake)];
  const workers = [
    await farm.worker(subjects.lintResults, agg.onBatchResult, { concurrency: 64 }),
    // A commit's message stays in flight until its report is stored: a crash redelivers it.
    // Heartbeats hold it meanwhile, so the ack wait only bounds how long a delivery lost with
    // a NATS node (a failover) waits to come again.
    await farm.worker(subjects.commitFiles, agg.onCommitFiles, { concurrency: 5000, ackWait: 20_000, maxDeliver: 10, backfillShare: ctx.config.backfillShare }),
    await farm.worker(subjects.reportGet, reportServer.onReportGet, serve),
    await farm.worker(subjects.historyRepos, history.onRepos, serve),
    await farm.worker(subjects.historyCommits, history.onCommits, serve),
    await farm.worker(subjects.historyIssues, history.onIssues, serve),
    await farm.worker(subjects.historyFile, history.onFile, serve),
  ];
  return {
    name: "aggregator",
    endpoints: workers.map((w) => w.endpoint),
    close: async () => {
      for (const sub of events) sub.unsubscribe();
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}
