/**
 * What a commit's delta is computed against: its parent's files and
 * failures, as this instance just assembled them or as stored, waiting for
 * them while this analysis is producing them. A parent this instance is
 * assembling wakes its children; one elsewhere is looked for in the store,
 * less often the longer it takes (or sooner, when its `.completed` or
 * `.failed` event comes by: wake).
 */
import { nextDelay } from "../../shared/fabric/backoff.js";
import { LRUCache } from "lru-cache";
import type { TaskContext } from "../../shared/fabric/worker.js";
import type { CommitFiles, FileRef } from "../../shared/pipeline/contract.js";
import { kvKeys } from "../../shared/pipeline/names.js";
import type { ReportStore } from "../../shared/pipeline/stores/index.js";

/** First and longest gap between looks in the store for a parent another instance assembles. */
const PARENT_POLL = { initialMs: 500, maxMs: 8_000 };
/** Baselines of commits assembled here kept (least recently used dropped first). */
const ASSEMBLED = 256;

/** A parent's files and the reasons of those without a result: all a child's delta needs. */
export interface Baseline {
  files: readonly FileRef[];
  failures: Record<string, string>;
}

export class Baselines {
  /** Commits (by report key) whose task this instance is running: their children wait without polling. */
  private readonly assembling = new Map<string, number>();
  /** Waiters for a commit's report, by sha: several children (or re-runs of one) may wait for one parent. */
  private readonly stored = new Map<string, Set<() => void>>();
  /** Commits this instance assembled lately, by report key: their children's baselines, before their reports are stored. */
  private readonly assembled = new LRUCache<string, Baseline>({ max: ASSEMBLED });

  constructor(private readonly reports: ReportStore) {}

  /** Runs `assemble`, the task of commit `c` here: its children wait for it without polling, and look again when it ends. */
  async whileAssembling(c: CommitFiles, assemble: () => Promise<void>): Promise<void> {
    const key = kvKeys.report(c.repoKey, c.sha);
    this.assembling.set(key, (this.assembling.get(key) ?? 0) + 1);
    try {
      await assemble();
    } finally {
      const n = this.assembling.get(key)! - 1;
      if (n > 0) this.assembling.set(key, n);
      else this.assembling.delete(key);
      // Its children stop waiting for this attempt: they look for its report, or wait for another attempt.
      this.wake(c.sha);
    }
  }

  /** `c`'s files are tallied: its children's deltas need only this, not the report's writes. */
  assembledOf(c: CommitFiles, baseline: Baseline): void {
    this.assembled.set(kvKeys.report(c.repoKey, c.sha), baseline);
    this.wake(c.sha);
  }

  /** `c`'s baseline; null without a parent, or when the parent was given up or is not part of this analysis and has no report. */
  async of(c: CommitFiles, ctx: TaskContext): Promise<Baseline | null> {
    if (!c.parent) return null;
    const parentKey = kvKeys.report(c.repoKey, c.parent);
    let gap = nextDelay(undefined, PARENT_POLL);
    for (;;) {
      const assembled = this.assembled.get(parentKey);
      if (assembled) return assembled;
      ctx.signal.throwIfAborted();
      // Being assembled here: it wakes us when done, or when its attempt ends.
      if (this.assembling.has(parentKey)) {
        await this.sleepUntilStored(c.parent, ctx.signal);
        continue;
      }
      const head = await this.reports.recentHead(c.repoKey, c.parent);
      if (head) {
        const { files, failures = {} } = await this.reports.body(head);
        return { files, failures };
      }
      if (!c.parentExpected) return null;
      if (await this.reports.failure(c.repoKey, c.parent)) return null;
      await this.sleepUntilStored(c.parent, ctx.signal, gap);
      gap = nextDelay(gap, PARENT_POLL);
    }
  }

  /** Children waiting for `sha` look again (a report or a failure was recorded, here or elsewhere). */
  wake = (sha: string): void => {
    for (const wake of this.stored.get(sha) ?? []) wake();
  };

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
}
