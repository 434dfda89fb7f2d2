/**
 * Waits for the results a commit needs. Result messages make it prompt; a
 * periodic re-check of the cache makes it correct when another aggregator
 * instance got the message, or when the result landed before we asked.
 */
import type { ResultCache } from "../../shared/stores.js";
import { mapLimit } from "../../shared/concurrency.js";

interface Waiter {
  missing: Set<string>;
  onProgress: (done: number) => void;
  resolve: () => void;
}

export interface TrackerOptions {
  /** Ms between cache re-checks of keys still missing. Default 2000. */
  recheckMs?: number;
}

export class ResultTracker {
  private waiting = new Map<string, Set<Waiter>>();
  private failures = new Map<string, string>();
  private readonly recheckMs: number;

  constructor(
    private readonly cache: ResultCache,
    opts: TrackerOptions = {},
  ) {
    this.recheckMs = opts.recheckMs ?? 2000;
  }

  /** Resolves when every key has a result (or a recorded failure). */
  async waitAll(keys: string[], onProgress: (done: number) => void, signal?: AbortSignal): Promise<void> {
    const missing = new Set(keys);
    let resolve!: () => void;
    const all = new Promise<void>((r) => (resolve = r));
    const w: Waiter = { missing, onProgress, resolve };
    for (const k of missing) this.index(k).add(w);
    try {
      // Keys given up before we asked (an earlier commit shared them) count as settled.
      for (const k of keys) if (this.failures.has(k)) this.settleFor(w, k);
      await this.recheck(w);
      while (w.missing.size > 0) {
        if (signal?.aborted) throw signal.reason;
        const tick = new Promise((r) => setTimeout(r, this.recheckMs).unref());
        await Promise.race([all, tick]);
        if (w.missing.size > 0) await this.recheck(w);
      }
    } finally {
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

  /** A batch was given up: these keys will never have results. */
  failed(keys: string[], reason: string): void {
    for (const k of keys) {
      this.failures.set(k, reason);
      this.settle(k);
    }
  }

  /** Why a key will have no result; only meaningful when the cache has none. */
  failure(key: string): string | undefined {
    return this.failures.get(key);
  }

  private async recheck(w: Waiter) {
    const keys = [...w.missing];
    const found = await mapLimit(keys, 64, (k) => this.cache.has(k));
    keys.forEach((k, i) => found[i] && this.settleFor(w, k));
  }

  private settle(key: string) {
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
    if (s && s.size === 0) this.waiting.delete(key);
  }
}
