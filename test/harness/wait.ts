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
