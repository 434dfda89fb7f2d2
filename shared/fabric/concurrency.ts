/** Small concurrency primitives used by workers and services. */

/** Bounds how many tasks run at once. */
export class Semaphore {
  private waiters: (() => void)[] = [];
  constructor(private free: number) {}

  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free++;
  }
}

/** Runs functions one at a time per key (e.g. one git fetch per repo). */
export class KeyedMutex {
  private tails = new Map<string, Promise<unknown>>();

  async run<R>(key: string, fn: () => Promise<R>): Promise<R> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const result = prev.catch(() => undefined).then(fn);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await result;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

/** One promise per key while it runs: a caller asking for a key in flight shares its promise instead of starting another. */
export class InFlight<V> {
  private readonly running = new Map<string, Promise<V>>();

  /** The promise running for `key`, if any. */
  get(key: string): Promise<V> | undefined {
    return this.running.get(key);
  }

  /** The promise running for `key`, or `start()`'s, shared until it settles. */
  run(key: string, start: () => Promise<V>): Promise<V> {
    const known = this.running.get(key);
    if (known) return known;
    const started = start().finally(() => this.running.delete(key));
    this.running.set(key, started);
    return started;
  }
}

/**
 * Resolves after `ms`, or at once when `signal` aborts. The timer is cleared
 * either way, so a finished race does not keep the process alive.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Runs `fn` over items with at most `limit` in flight; results in item order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

/**
 * `fn` over items with at most `limit` in flight, yielded in item order as soon
 * as each is ready: a consumer that writes results out holds only the window.
 */
export async function* mapOrdered<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): AsyncGenerator<R> {
  const window: Promise<R>[] = [];
  let next = 0;
  const fill = () => {
    while (next < items.length && window.length < limit) {
      const p = fn(items[next], next++);
      p.catch(() => {}); // awaited in order below; not an unhandled rejection meanwhile
      window.push(p);
    }
  };
  fill();
  while (window.length > 0) {
    const r = await window.shift()!;
    fill();
    yield r;
  }
}
