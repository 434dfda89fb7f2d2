/**
 * Waits for the results a commit needs. Result messages make it prompt; a
 * re-check of the cache makes it correct when another aggregator instance got
 * the message, or when the result landed before we asked.
 *
 * A history waits for the same keys from many commits at once, so checks are
 * per key, not per commit: one timer, each missing key asked at most once per
 * round, and less often the longer it stays missing (its batch is simply still
 * being linted).
 */
import type { ReportStore, ResultCache } from "../../shared/pipeline/stores/index.js";
import { nextDelay } from "../../shared/fabric/backoff.js";
import { mapLimit } from "../../shared/fabric/concurrency.js";
import type { Logger } from "../../shared/fabric/logger.js";
import { PermanentError } from "../../shared/fabric/errors.js";
import { PipelineErrorCodes } from "../../shared/pipeline/errors.js";

/** A commit's results stopped arriving: its work was lost or is stuck, and it must not wait without bound. */
export class CommitStalledError extends PermanentError {
  constructor(missing: number, stallMs: number) {
    super(
      `${missing} file result(s) did not arrive within ${Math.round(stallMs / 1000)} s of the last one: their lint work was lost or is stuck (see \`farm status\` and \`farm dlq ls\`)`,
      PipelineErrorCodes.CommitStalled,
    );
  }
}

interface Waiter {
  missing: Set<string>;
  onProgress: (done: number) => void;
  resolve: () => void;
}

export interface TrackerOptions {
  /** Ms before the first cache re-check of a key still missing; the gap doubles up to `maxRecheckMs`. Default 2000. */
  recheckMs?: number;
  /** Longest gap between re-checks of one key. Default 8000. */
  maxRecheckMs?: number;
  /**
   * Where given-up keys are recorded for every aggregator instance (a batch's
   * failure reaches only one of them). Keys missing for a while are looked up there.
   */
  givenUp?: Pick<ReportStore, "markGivenUp" | "givenUp">;
  /** A recorded failure older than this is ignored: the splitter queues the key again after 10 min. Default 600000. */
  givenUpForMs?: number;
  /**
   * Ms a commit waits with no new result before it fails with CommitStalledError.
   * Long enough for a deep lint queue shared by many repositories. Default 1800000 (30 min).
   */
  stallMs?: number;
  /** Where a failed re-check round is said (it is retried on the next round). Default: nowhere. */
  log?: Pick<Logger, "warn">;
}

interface Due {
  at: number;
  gap: number;
}

export class ResultTracker {
  private waiting = new Map<string, Set<Waiter>>();
  private failures = new Map<string, string>();
  /** When each awaited key is next asked of the cache. */
  private due = new Map<string, Due>();
  /** Keys whose question is on the wire: its answer settles every waiter indexed by then. */
  private asking = new Set<string>();
  private timer?: NodeJS.Timeout;
  private checking = false;
  private readonly recheckMs: number;
  private readonly maxRecheckMs: number;
  private readonly givenUp?: TrackerOptions["givenUp"];
  private readonly givenUpForMs: number;
  private readonly stallMs: number;
  private readonly log?: Pick<Logger, "warn">;

  constructor(
    private readonly cache: ResultCache,
    opts: TrackerOptions = {},
  ) {
    this.recheckMs = opts.recheckMs ?? 2000;
    this.maxRecheckMs = Math.max(this.recheckMs, opts.maxRecheckMs ?? 8000);
    this.givenUp = opts.givenUp;
    this.givenUpForMs = opts.givenUpForMs ?? 600_000;
    this.stallMs = opts.stallMs ?? 1_800_000;
    this.log = opts.log;
  }

  /**
   * Resolves when every key has a result (or a recorded failure); rejects when
   * `signal` aborts, or with CommitStalledError when no key settles for `stallMs`.
   */
  async waitAll(keys: string[], onProgress: (done: number) => void, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const missing = new Set(keys);
    let resolve!: () => void;
    let stalled: (err: Error) => void = () => {}; // set once the wait below begins
    const all = new Promise<void>((r) => (resolve = r));
    let stall: NodeJS.Timeout | undefined;
    const watch = () => {
      clearTimeout(stall);
      stall = setTimeout(() => stalled(new CommitStalledError(missing.size, this.stallMs)), this.stallMs);
      stall.unref();
    };
    const w: Waiter = {
      missing,
      onProgress: (n) => {
        watch();
        onProgress(n);
      },
      resolve,
    };
    // A key being asked right now, or due to be asked again, needs no question of its own.
    const fresh = [...missing].filter((k) => !this.asking.has(k) && !this.due.has(k));
    for (const k of missing) this.index(k).add(w);
    let onAbort: (() => void) | undefined;
    try {
      // Keys given up before we asked (an earlier commit shared them) count as settled.
      for (const k of keys) if (this.failures.has(k)) this.settleFor(w, k);
      await this.check(fresh);
      if (w.missing.size === 0) return;
      this.schedule();
      await new Promise<void>((res, rej) => {
        onAbort = () => rej(asError(signal!.reason));
        signal?.addEventListener("abort", onAbort, { once: true });
        stalled = rej;
        watch();
        void all.then(res);
      });
    } finally {
      clearTimeout(stall);
      if (onAbort) signal?.removeEventListener("abort", onAbort);
      for (const k of keys) this.unindex(k, w);
    }
  }

  /** A batch finished: these keys now have results in the cache (a replayed batch clears its failure). */
  done(keys: string[]): void {
    for (const k of keys) {
      this.failures.delete(k);
      this.settle(k);
    }
  }

  /** A batch was given up: these keys will never have results. Recorded for the other instances first. */
  async failed(keys: string[], reason: string): Promise<void> {
    await this.givenUp?.markGivenUp(keys, reason);
    for (const k of keys) {
      this.failures.set(k, reason);
      this.settle(k);
    }
  }

  /** Why a key will have no result; only meaningful when the cache has none. */
  failure(key: string): string | undefined {
    return this.failures.get(key);
  }

  /** Keys some commit is waiting for (for tests and status). */
  get awaited(): number {
    return this.waiting.size;
  }

  /** Asks the cache for `keys`; the ones still missing are asked again later, each less often. */
  private async check(keys: string[]): Promise<void> {
    for (const k of keys) this.asking.add(k);
    let found: boolean[];
    try {
      found = await mapLimit(keys, 64, async (k) => !this.waiting.has(k) || (await this.cache.has(k)) || (await this.recordedFailure(k)));
    } finally {
      for (const k of keys) this.asking.delete(k);
    }
    const now = Date.now();
    keys.forEach((k, i) => {
      if (found[i]) return this.settle(k);
      if (!this.waiting.has(k)) return;
      const gap = nextDelay(this.due.get(k)?.gap, { initialMs: this.recheckMs, maxMs: this.maxRecheckMs });
      this.due.set(k, { at: now + gap, gap });
    });
  }

  /**
   * A key missing long enough to be asked at the longest gap may have been given
   * up on another instance. (Giving up takes several attempts: a fresh key is not asked.)
   */
  private async recordedFailure(key: string): Promise<boolean> {
    if (!this.givenUp || this.due.get(key)?.gap !== this.maxRecheckMs) return false;
    const reason = await this.givenUp.givenUp(key, this.givenUpForMs);
    if (reason === null) return false;
    this.failures.set(key, reason);
    return true;
  }

  private schedule() {
    if (this.timer || this.waiting.size === 0) return;
    this.timer = setTimeout(() => void this.tick(), this.recheckMs / 2);
    this.timer.unref();
  }

  private async tick() {
    this.timer = undefined;
    if (this.checking) return this.schedule();
    this.checking = true;
    try {
      const now = Date.now();
      const keys = [...this.due].filter(([k, d]) => d.at <= now && this.waiting.has(k)).map(([k]) => k);
      await this.check(keys);
    } catch (err) {
      // The cache is unreachable for now (a failover): the next round asks again.
      this.log?.warn({ err: (err as Error).message }, "result re-check failed; retrying next round");
    } finally {
      this.checking = false;
      this.schedule();
    }
  }

  private settle(key: string) {
    this.due.delete(key);
    for (const w of [...(this.waiting.get(key) ?? [])]) this.settleFor(w, key);
  }

  private settleFor(w: Waiter, key: string) {
    if (!w.missing.delete(key)) return;
    w.onProgress(w.missing.size);
    if (w.missing.size === 0) w.resolve();
  }

  private index(key: string): Set<Waiter> {
    let s = this.waiting.get(key);
    if (!s) this.waiting.set(key, (s = new Set()));
    return s;
  }

  private unindex(key: string, w: Waiter) {
    const s = this.waiting.get(key);
    s?.delete(w);
    if (s && s.size === 0) {
      this.waiting.delete(key);
      this.due.delete(key);
    }
  }
}

/** An abort's reason as an Error: the Worker aborts with a ShutdownError; anyone else may not. */
function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(`aborted: ${String(reason)}`);
}
