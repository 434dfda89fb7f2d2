/**
 * The aggregator's handlers: count results in, assemble a commit's report once
 * every file has a result, diff it against the parent, store it, announce it.
 */
import { publishAnalysisEvent, publishAnalysisFailed, isFinalFailure } from "../../shared/pipeline/announce.js";
import { nextDelay } from "../../shared/fabric/backoff.js";
import type { TaskResult } from "../../shared/fabric/envelope.js";
import type { TaskContext } from "../../shared/fabric/worker.js";
import type { BatchDone, CommitFiles, CompletedEvent, FileRef, LintBatch } from "../../shared/pipeline/contract.js";
import type { ServiceContext } from "../../shared/pipeline/service.js";
import {
  changedFiles,
  computeDelta,
  countRules,
  summarize,
  unlintableResult,
  type FileMessages,
  type FileResult,
  type Summary,
} from "../../shared/pipeline/report.js";
import { Lru } from "../../shared/fabric/lru.js";
import { ReportStore, type Objects, type RepoIndex, type ResultCache, type StoredReport } from "../../shared/pipeline/stores/index.js";
import { kvKeys, subjects } from "../../shared/pipeline/names.js";
import { mapLimit } from "../../shared/fabric/concurrency.js";
import { metricsOf } from "../../shared/pipeline/metrics.js";
import type { ResultTracker } from "./tracker.js";

export interface AggregatorDeps extends ServiceContext {
  objects: Objects;
  results: ResultCache;
  reports: ReportStore;
  /** The analysed repositories: each stored report may be its repository's newest. */
  repos: Pick<RepoIndex, "record">;
  tracker: ResultTracker;
  /** Ms between progress events of one commit. Default 500. */
  progressEveryMs?: number;
}

/** First and longest gap between looks in the store for a parent another instance assembles. */
const PARENT_POLL = { initialMs: 500, maxMs: 8_000 };

export class Aggregator {
  /** Commits (by report key) whose task this instance is running: their children wait without polling. */
  private readonly assembling = new Map<string, number>();
  /** Waiters for a commit's report, by sha: several children (or re-runs of one) may wait for one parent. */
  private readonly stored = new Map<string, Set<() => void>>();
  /** Commits this instance assembled lately, by report key: their children's baselines, before their reports are stored. */
  private readonly baselines = new Lru<string, Baseline>(256);
  /** What a commit's tally needs of a result, by result key (a key's result never changes). */
  private readonly digests = new Lru<string, Digest>(100_000);

  constructor(private readonly deps: AggregatorDeps) {}

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
    const key = kvKeys.report(c.repoKey, c.sha);
    this.assembling.set(key, (this.assembling.get(key) ?? 0) + 1);
    try {
      await this.assembleCommit(c, ctx);
    } catch (err) {
      // Handed back at shutdown, or another attempt will come: not given up.
      if (!isFinalFailure(err, ctx)) throw err;
      const reason = (err as Error).message;
      publishAnalysisFailed(this.deps.farm.events, { repo: c.repo, sha: c.sha, reason }, c.requestId, c.sha);
      await this.gaveUp(c, reason);
      throw err;
    } finally {
      const n = this.assembling.get(key)! - 1;
      if (n > 0) this.assembling.set(key, n);
      else this.assembling.delete(key);
      // Its children stop waiting for this attempt: they look for its report, or wait for another attempt.
      this.wakeChildrenOf(c.sha);
    }
  };

  /** No report will come for this commit: record why, and wake children waiting for it as their baseline. */
  private async gaveUp(c: CommitFiles, reason: string): Promise<void> {
    await this.deps.reports.markFailed(c.repoKey, c.sha, reason);
    this.wakeChildrenOf(c.sha);
  }

  private async assembleCommit(c: CommitFiles, ctx: TaskContext): Promise<void> {
    const { farm } = this.deps;
    if (ctx.attempt > 1) {
      const existing = await this.deps.reports.head(c.repoKey, c.sha);
      // The index too: the attempt that stored the report may have failed before it.
      if (existing) return this.announceCompleted(c, await this.indexed(existing));
    }
    const files = (await this.deps.objects.tables.get<FileRef>(c.files)) ?? [];
    if (ctx.attempt === 1) publishAnalysisEvent(farm.events, subjects.started, { repo: c.repo, sha: c.sha, files: files.length }, c.requestId, c.sha);
    // The parent first: a commit waiting in a long history holds nothing but its message.
    const baseline = await this.baseline(c, ctx);
    const keys = [...new Set(files.map((f) => kvKeys.result(f.blob, f.configId)))];
    // Results this instance has seen need no waiting: in a history, nearly all of them.
    const unseen = keys.filter((k) => !this.deps.results.known(k));
    await this.deps.tracker.waitAll(unseen, this.progress(c, keys.length), ctx.signal);
    const tally = await this.tally(files);
    // No baseline (the parent could not be analyzed): no delta, rather than every issue "new".
    const delta = c.parent && baseline ? await this.delta(files, baseline) : null;
    // The child's delta needs only this: it need not wait for the report's writes below.
    this.baselines.set(kvKeys.report(c.repoKey, c.sha), { files: tally.kept, failures: tally.failures });
    this.wakeChildrenOf(c.sha);
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
        ...(c.tree ? { tree: c.tree } : {}),
        completedAt: new Date().toISOString(),
      },
      { files: tally.kept, delta, ...(Object.keys(tally.failures).length > 0 ? { failures: tally.failures } : {}) },
    );
    metricsOf(this.deps).commitsAnalyzed.inc();
    // Before .completed: a client that heard it finds the commit in history.repos.
    this.announceCompleted(c, await this.indexed(report));
  }

  /** The repository index learns of a stored report (it keeps the newest commit per repository). */
  private async indexed(report: StoredReport): Promise<StoredReport> {
    const { repo, repoKey, sha, date, subject, summary, completedAt } = report;
    const counts = { files: summary.files, errors: summary.errors, warnings: summary.warnings };
    await this.deps.repos.record({ repo, repoKey, sha, date, subject, summary: counts, completedAt }, report.parent);
    return report;
  }

  /**
   * A commit's summary, rule counts, files kept (not skipped by content) and
   * failures, from each result's digest: the same numbers as counting every
   * message, rules in the same order, at the cost of a lookup per file.
   */
  private async tally(files: readonly FileRef[]): Promise<Tally> {
    const keys = files.map((f) => kvKeys.result(f.blob, f.configId));
    const digests: (Digest | undefined)[] = keys.map((k) => this.digests.get(k));
    const failures: Record<string, string> = {};
    await mapLimit(
      [...digests.keys()].filter((i) => !digests[i]),
      64,
      async (i) => {
        const key = keys[i];
        const found = await this.deps.results.get(key);
        const failure = found ? undefined : this.deps.tracker.failure(key);
        if (!found && !failure) throw new Error(`result ${key} vanished from the cache`);
        digests[i] = digestOf(found ?? unlintableResult(failure!));
        // A failure is this commit's only: a replayed batch may bring the result.
        if (found) this.digests.set(key, digests[i]);
        else failures[key] = failure!;
      },
    );
    const kept: FileRef[] = [];
    const rules: Record<string, number> = {};
    let errors = 0;
    let warnings = 0;
    files.forEach((f, i) => {
      const d = digests[i]!;
      if (d.skipped) return;
      kept.push(f);
      errors += d.errors;
      warnings += d.warnings;
      for (const [rule, n] of d.rules) rules[rule] = (rules[rule] ?? 0) + n;
    });
    return { kept, failures, rules, summary: { files: kept.length, errors, warnings } };
  }

  /** New and fixed issues against the baseline: only files whose (path, blob, config) changed are loaded. */
  private async delta(files: readonly FileRef[], baseline: Baseline) {
    const { now, before } = changedFiles(files, baseline.files);
    const current = (await this.load(now)).filter(isLinted);
    const parent = (await this.load(before, baseline.failures)).filter(isLinted);
    return computeDelta(current, parent);
  }

  /** `.completed`, with the same id when a redelivered task announces the stored report again. */
  private announceCompleted(c: CommitFiles, report: StoredReport) {
    const event: CompletedEvent = {
      repo: c.repo,
      sha: c.sha,
      parent: c.parent,
      requested: c.requested,
      summary: report.summary,
      // Null exactly when the stored report's delta is (no parent, or no baseline).
      delta: report.newIssues === null || report.fixedIssues === null ? null : { new: report.newIssues, fixed: report.fixedIssues },
      ...(report.notes ? { notes: report.notes } : {}),
      stats: c.stats,
    };
    publishAnalysisEvent(this.deps.farm.events, subjects.completed, event, c.requestId, c.sha);
  }

  private progress(c: CommitFiles, total: number) {
    const every = this.deps.progressEveryMs ?? 500;
    let last = 0;
    return (missing: number) => {
      const now = Date.now();
      if (missing > 0 && now - last < every) return;
      last = now;
      const done = total - missing;
      publishAnalysisEvent(this.deps.farm.events, subjects.progress, { repo: c.repo, sha: c.sha, done, total }, c.requestId, c.sha, done);
    };
  }

  /**
   * What the delta is computed against: the parent's files and failures, as
   * this instance just assembled them or as stored, waiting for them when
   * this analysis is producing them (null if the parent was given up). A
   * parent this instance is assembling wakes its children; one elsewhere is
   * looked for in the store, less often the longer it takes (or sooner, when
   * its `.completed` or `.failed` event comes by).
   */
  private async baseline(c: CommitFiles, ctx: TaskContext): Promise<Baseline | null> {
    if (!c.parent) return null;
    const parentKey = kvKeys.report(c.repoKey, c.parent);
    let gap = nextDelay(undefined, PARENT_POLL);
    for (;;) {
      const assembled = this.baselines.get(parentKey);
      if (assembled) return assembled;
      ctx.signal.throwIfAborted();
      // Being assembled here: it wakes us when done, or when its attempt ends.
      if (this.assembling.has(parentKey)) {
        await this.sleepUntilStored(c.parent, ctx.signal);
        continue;
      }
      const head = await this.deps.reports.recentHead(c.repoKey, c.parent);
      if (head) {
        const { files, failures = {} } = await this.deps.reports.body(head);
        return { files, failures };
      }
      if (!c.parentExpected) return null;
      if (await this.deps.reports.failure(c.repoKey, c.parent)) return null;
      await this.sleepUntilStored(c.parent, ctx.signal, gap);
      gap = nextDelay(gap, PARENT_POLL);
    }
  }

  /** Until `sha` is assembled, given up, or its attempt here ends; or `ms` passed, or `signal` aborts. */
  private async sleepUntilStored(sha: string, signal: AbortSignal, ms?: number): Promise<void> {
    const waiters = this.stored.get(sha) ?? new Set<() => void>();
    this.stored.set(sha, waiters);
    let wake!: () => void;
    await new Promise<void>((resolve) => {
      const t = ms === undefined ? undefined : setTimeout(resolve, ms);
      wake = () => (clearTimeout(t), resolve());
      waiters.add(wake);
      signal.addEventListener("abort", wake, { once: true });
    });
    signal.removeEventListener("abort", wake);
    waiters.delete(wake);
    if (waiters.size === 0 && this.stored.get(sha) === waiters) this.stored.delete(sha);
  }

  /** Children waiting for `sha` look again (a report or a failure was recorded, here or elsewhere). */
  wakeChildrenOf = (sha: string): void => {
    for (const wake of this.stored.get(sha) ?? []) wake();
  };

  /** Results of files; a file whose batch was given up gets a fatal "could not lint" message. */
  private async load(files: readonly FileRef[], failures: Record<string, string> = {}): Promise<(Loaded | typeof SKIPPED)[]> {
    return mapLimit(files, 64, async (f) => {
      const key = kvKeys.result(f.blob, f.configId);
      // A real result wins over a recorded failure: the batch may have been replayed since.
      const found = await this.deps.results.get(key);
      const failure = found ? undefined : (this.deps.tracker.failure(key) ?? failures[key]);
      if (!found && !failure) throw new Error(`result ${key} vanished from the cache`);
      const r = found ?? unlintableResult(failure!);
      if (r.skipped) return SKIPPED;
      return { path: f.path, blob: f.blob, configId: f.configId, messages: r.messages, ...(failure ? { failure } : {}) };
    });
  }
}

const SKIPPED = Symbol("skipped");

/** One result as a commit's tally counts it. */
interface Digest {
  skipped: boolean;
  errors: number;
  warnings: number;
  /** Messages per "linter/rule", in the order the rules first occur. */
  rules: [string, number][];
}

function digestOf(r: FileResult): Digest {
  const { errors, warnings } = summarize([r]);
  return { skipped: Boolean(r.skipped), errors, warnings, rules: Object.entries(countRules([r])) };
}

interface Tally {
  kept: FileRef[];
  failures: Record<string, string>;
  rules: Record<string, number>;
  summary: Summary;
}

/** A parent's files and the reasons of those without a result: all a child's delta needs. */
interface Baseline {
  files: readonly FileRef[];
  failures: Record<string, string>;
}

/** A file's messages as loaded; `failure` when it has no result but a reason why. */
interface Loaded extends FileMessages {
  configId: string;
  failure?: string;
}

function isLinted(f: Loaded | typeof SKIPPED): f is Loaded {
  return f !== SKIPPED;
}
