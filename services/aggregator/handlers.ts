/**
 * The aggregator's handlers: count results in, assemble a commit's report once
 * every file has a result, diff it against the parent, store it, announce it.
 */
import { PermanentError } from "../../shared/errors.js";
import type { TaskResult } from "../../shared/envelope.js";
import type { TaskContext } from "../../shared/worker.js";
import type { BatchDone, CommitFiles, LintBatch, ServiceContext } from "../../shared/pipeline.js";
import {
  computeDelta,
  resultKey,
  summarize,
  toSarif,
  type FileMessages,
  type FileRef,
  type FileResult,
} from "../../shared/report.js";
import { Lru, ReportStore, type Objects, type ResultCache, type StoredReport } from "../../shared/stores.js";
import { subjects } from "../../shared/topology.js";
import { repoKey } from "../../shared/git.js";
import { mapLimit } from "../../shared/concurrency.js";
import type { ResultTracker } from "./tracker.js";

export interface AggregatorDeps extends ServiceContext {
  objects: Objects;
  results: ResultCache;
  reports: ReportStore;
  tracker: ResultTracker;
  /** Ms between progress events of one commit. Default 500. */
  progressEveryMs?: number;
}

const PARENT_POLL_MS = 500;

export class Aggregator {
  private readonly resultLru = new Lru<string, FileResult>(50_000);
  private readonly stored = new Map<string, (r: StoredReport) => void>();

  constructor(private readonly d: AggregatorDeps) {}

  /** `results.lint`: a batch's results are in the cache (or the batch was given up). */
  onBatchResult = async (r: TaskResult<BatchDone> & { task?: LintBatch }): Promise<void> => {
    if (r.ok) return this.d.tracker.done(r.value.keys);
    const keys = (r.task?.files ?? []).map((f) => resultKey(f.blob, f.configId));
    this.d.log.warn({ keys: keys.length, error: r.error.message }, "lint batch given up");
    this.d.tracker.failed(keys, r.error.message);
  };

  /** `results.commit_files`: held (with heartbeats) until the commit's report is stored. */
  onCommitFiles = async (c: CommitFiles, ctx: TaskContext): Promise<void> => {
    const { farm } = this.d;
    const existing = await this.d.reports.head(c.repoKey, c.sha);
    if (existing && ctx.attempt > 1) return this.announce(c, existing);
    const files = (await this.d.objects.getValue<FileRef[]>(c.files)) ?? [];
    if (ctx.attempt === 1) farm.events.publish(subjects.started, { repo: c.repo, sha: c.sha, files: files.length });
    const keys = [...new Set(files.map((f) => resultKey(f.blob, f.configId)))];
    await this.d.tracker.waitAll(keys, this.progress(c, keys.length), ctx.signal);
    const parentReport = await this.parentReport(c, ctx);
    const loaded = await this.load(files);
    const current = loaded.filter(isLinted);
    const parent = parentReport ? (await this.load((await this.d.reports.body(parentReport)).files)).filter(isLinted) : [];
    const delta = c.parent ? computeDelta(current, parent) : null;
    const kept = files.filter((_, i) => loaded[i] !== SKIPPED);
    const report = await this.d.reports.put(
      {
        repo: c.repo,
        repoKey: c.repoKey,
        sha: c.sha,
        parent: c.parent,
        date: c.date,
        subject: c.subject,
        linters: c.linters,
        summary: summarize(current),
        newIssues: delta?.new.length ?? 0,
        fixedIssues: delta?.fixed.length ?? 0,
        completedAt: new Date().toISOString(),
      },
      { files: kept, delta },
    );
    this.stored.get(report.sha)?.(report);
    this.announce(c, report);
  };

  /** `report.get`: `{repo, sha, format?}` → the report (or SARIF), or `{error}`. */
  onReportGet = async (q: { repo?: unknown; sha?: unknown; format?: unknown }) => {
    if (typeof q?.repo !== "string" || typeof q?.sha !== "string")
      throw new PermanentError('report.get needs {"repo": "<url or path>", "sha": "<40 or 64 hex>"}', "E_BAD_REQUEST");
    const sha = q.sha.toLowerCase();
    const head = await this.d.reports.head(repoKey(q.repo), sha);
    if (!head) throw new PermanentError(`no report for ${q.repo} at ${sha}: publish repo.new_sha for it first`, "E_NOT_FOUND");
    const report = await this.d.reports.assemble(head);
    return q.format === "sarif" ? toSarif([report]) : report;
  };

  private announce(c: CommitFiles, report: StoredReport) {
    this.d.farm.events.publish(subjects.completed, {
      repo: c.repo,
      sha: c.sha,
      parent: c.parent,
      requested: c.requested,
      summary: report.summary,
      delta: { new: report.newIssues, fixed: report.fixedIssues },
      stats: c.stats,
    });
  }

  private progress(c: CommitFiles, total: number) {
    const every = this.d.progressEveryMs ?? 500;
    let last = 0;
    return (missing: number) => {
      const now = Date.now();
      if (missing > 0 && now - last < every) return;
      last = now;
      this.d.farm.events.publish(subjects.progress, { repo: c.repo, sha: c.sha, done: total - missing, total });
    };
  }

  /** The parent's report, waiting for it when this analysis is producing it. */
  private async parentReport(c: CommitFiles, ctx: TaskContext): Promise<StoredReport | null> {
    if (!c.parent) return null;
    for (;;) {
      const head = await this.d.reports.head(c.repoKey, c.parent);
      if (head || !c.parentExpected) return head;
      if (ctx.signal.aborted) throw ctx.signal.reason;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, PARENT_POLL_MS);
        this.stored.set(c.parent!, () => (clearTimeout(t), resolve()));
      });
      this.stored.delete(c.parent);
    }
  }

  private async load(files: FileRef[]): Promise<(FileMessages | typeof SKIPPED)[]> {
    return mapLimit(files, 64, async (f) => {
      const key = resultKey(f.blob, f.configId);
      const failure = this.d.tracker.failure(key);
      const r = failure ? unlintable(failure) : await this.result(key);
      if (r.skipped) return SKIPPED;
      return { path: f.path, blob: f.blob, messages: r.messages };
    });
  }

  private async result(key: string): Promise<FileResult> {
    const hit = this.resultLru.get(key);
    if (hit) return hit;
    const r = await this.d.results.get(key);
    if (!r) throw new Error(`result ${key} vanished from the cache`);
    this.resultLru.set(key, r);
    return r;
  }
}

const SKIPPED = Symbol("skipped");

function isLinted(f: FileMessages | typeof SKIPPED): f is FileMessages {
  return f !== SKIPPED;
}

function unlintable(reason: string): FileResult {
  return {
    messages: [
      { linter: "farm", ruleId: null, severity: 2, line: 1, column: 1, message: `farm could not lint this file: ${reason}`, fatal: true, lineHash: "" },
    ],
  };
}
