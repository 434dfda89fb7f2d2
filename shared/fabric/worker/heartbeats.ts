/**
 * Keeps running queued tasks alive past their ack wait. One timer beats for
 * every task (a timer per task costs at 100k tasks): each tick, every task
 * whose last beat is at least half a period old gets `working()`, so the gap
 * between beats stays within `heartbeat`, as a timer per task would keep it,
 * and a short task is never beaten.
 */

/** A task as the heartbeats see it (an InFlight `Running`). */
export interface Beating {
  /** The queued task to keep alive; none for a request. */
  readonly msg?: { working(): void };
  /** Handed back at shutdown: it belongs to the next worker, stop vouching for it. */
  readonly handedBack: boolean;
  /** When it was last beaten (or started), on the `now` clock. */
  beat: number;
}

export interface HeartbeatOptions {
  /** Ms between two beats of a running task (WorkerOptions.heartbeat). */
  heartbeat: number;
  /** The clock beats are stamped with. Default performance.now (as InFlight stamps a start). */
  now?: () => number;
}

export class Heartbeats {
  private timer?: NodeJS.Timeout;
  private readonly now: () => number;
  /** Ms between ticks: half the heartbeat, at least 1. */
  readonly every: number;

  /** @param tasks the running tasks, read afresh on every tick */
  constructor(
    private readonly tasks: Iterable<Beating>,
    opts: HeartbeatOptions,
  ) {
    this.now = opts.now ?? (() => performance.now());
    this.every = Math.max(1, Math.floor(opts.heartbeat / 2));
  }

  start(): void {
    this.timer ??= setInterval(() => this.tick(), this.every);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Beats every task due (last beat at least `every` ms ago). */
  tick(): void {
    const old = this.now() - this.every;
    for (const t of this.tasks) if (t.beat <= old) this.beat(t);
  }

  /** Beats one task now (a handler's `ctx.working()`), unless it was handed back. */
  beat(task: Beating): void {
    if (!task.msg || task.handedBack) return;
    task.beat = this.now();
    task.msg.working();
  }
}
