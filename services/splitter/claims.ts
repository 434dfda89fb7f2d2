/**
 * The (blob, config) keys this splitter has queued recently: a history shares
 * most blobs between commits, and commits split concurrently must not queue
 * the same key twice. A claim is taken before anything is queued, so it must
 * be released when queuing fails, or a retry would skip the files as "already
 * on their way" and the commit would wait for results that never come.
 */

/** Default {@link ClaimsOptions.ttlMs}: how long a queued key counts as on its way. */
export const DEFAULT_CLAIM_TTL_MS = 10 * 60_000;
/** Default {@link ClaimsOptions.max}: claims remembered (oldest dropped first). */
export const DEFAULT_CLAIMS = 200_000;

export interface ClaimsOptions {
  ttlMs?: number;
  max?: number;
}

export class Claims {
  private readonly ttlMs: number;
  private readonly max: number;
  /** key → when it was claimed; Map order is claim order. */
  private readonly at = new Map<string, number>();

  constructor({ ttlMs = DEFAULT_CLAIM_TTL_MS, max = DEFAULT_CLAIMS }: ClaimsOptions = {}) {
    this.ttlMs = ttlMs;
    this.max = max;
  }

  /**
   * Claims every key not claimed within the TTL, synchronously (before any
   * await, so concurrent callers never both get a key). Returns the entries
   * this call claimed, one per key.
   */
  take<T>(entries: Iterable<readonly [string, T]>): Map<string, T> {
    const now = Date.now();
    const claimed = new Map<string, T>();
    for (const [key, value] of entries) {
      if (claimed.has(key)) continue;
      const at = this.at.get(key);
      if (at !== undefined && now - at < this.ttlMs) continue;
      this.at.delete(key);
      this.at.set(key, now);
      claimed.set(key, value);
    }
    while (this.at.size > this.max) this.at.delete(this.at.keys().next().value!);
    return claimed;
  }

  /** Gives claims back: nothing of them was queued. */
  release(keys: Iterable<string>): void {
    for (const key of keys) this.at.delete(key);
  }

  /** True while the key is claimed (for tests and stats). */
  has(key: string): boolean {
    const at = this.at.get(key);
    return at !== undefined && Date.now() - at < this.ttlMs;
  }
}
