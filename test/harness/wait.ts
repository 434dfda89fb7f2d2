/** Condition waits for tests: poll, never a bare sleep as synchronization. */

/** Polls `check` until it returns a truthy value; fails with `what` after `timeout` ms. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeout = 60_000, every = 50): Promise<NonNullable<Awaited<T>>> {
  const deadline = Date.now() + timeout;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<Awaited<T>>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/**
 * `p`'s value, or `otherwise` if `p` has not settled within `ms`: for asserting
 * that something ends (a process, a waiter) rather than hanging the test.
 */
export async function within<T, F>(p: Promise<T>, ms: number, otherwise: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<F>((resolve) => (timer = setTimeout(() => resolve(otherwise), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
