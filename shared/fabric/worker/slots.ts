/**
 * Bounds the tasks in flight (requests and queued tasks together). Unlike a
 * plain semaphore, a free slot is taken without a turn of the event loop: a
 * request whose handler answers at once is answered in the same turn.
 */
export class Slots {
  private readonly waiters: (() => void)[] = [];

  /** @param free slots at the start: the worker's `concurrency`. */
  constructor(private free: number) {}

  /** Takes a slot now (undefined), or returns the promise of the next one freed. */
  take(): Promise<void> | undefined {
    if (this.free > 0) {
      this.free--;
      return undefined;
    }
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Gives a slot back: to the longest waiter if any (first come, first served). */
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free++;
  }
}
