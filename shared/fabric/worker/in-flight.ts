/**
 * The tasks running in slots, and what happens to them at shutdown: they get
 * `grace` ms to finish, then the rest are handed back (an immediate nak, so no
 * task waits out its ack wait) and their handlers see the abort signal.
 */
import { setMaxListeners } from "node:events";
import { ShutdownError } from "../errors.js";
import { sleep } from "../concurrency.js";
import type { Log } from "./ports.js";

/** One task in a slot. */
export interface Running {
  /** The queued task; none for a request (nothing to hand back or keep alive). */
  readonly msg?: { nak(millis?: number): void; working(): void };
  /** Set at shutdown when the task was given back: its outcome is no longer this worker's to send. */
  handedBack: boolean;
  /** Settles when the task is over and its slot freed. */
  done: Promise<void>;
  /** performance.now() of the start or the last heartbeat of a queued task. */
  beat: number;
}

/** What InFlight needs from its owner. */
export interface InFlightOwner {
  /** A task is over: its slot is free (give it back, wake whoever waits for room). */
  freed(): void;
}

const DONE = Promise.resolve();

export class InFlight implements Iterable<Running> {
  private readonly running = new Set<Running>();
  /** Aborts handlers when the worker stops waiting for them. */
  private readonly abort = new AbortController();

  constructor(
    private readonly owner: InFlightOwner,
    private readonly log: Log,
  ) {
    // Every running task may listen on the one abort signal (ctx.signal): not a leak.
    setMaxListeners(0, this.abort.signal);
  }

  /** Tasks running now. */
  get size(): number {
    return this.running.size;
  }

  /** Aborted (with a ShutdownError) when the grace is over and running tasks are handed back. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  [Symbol.iterator](): Iterator<Running> {
    return this.running[Symbol.iterator]();
  }

  /**
   * Runs a task in the slot its caller took; the slot is freed when it is over.
   * `run` returns nothing when it finished synchronously (no promise, no turn).
   */
  track(msg: Running["msg"], run: (entry: Running) => Promise<void> | undefined): void {
    const entry: Running = { msg, handedBack: false, done: DONE, beat: performance.now() };
    this.running.add(entry);
    const finish = () => {
      this.running.delete(entry);
      this.owner.freed();
    };
    const failed = (err: unknown) => {
      this.log.error({ err: (err as Error).message }, "task runner failed");
      finish();
    };
    let pending: Promise<void> | undefined;
    try {
      pending = run(entry);
    } catch (err) {
      return failed(err);
    }
    if (pending) entry.done = pending.then(finish, failed);
    else finish();
  }

  /**
   * Waits up to `grace` ms for the running tasks, then hands back those still
   * running and aborts their signal. Resolves with how many were handed back.
   */
  async close(grace: number): Promise<number> {
    const finished = Promise.allSettled([...this.running].map((r) => r.done));
    const graceOver = new AbortController();
    const inTime = await Promise.race([finished.then(() => true), sleep(grace, graceOver.signal).then(() => false)]);
    graceOver.abort();
    if (inTime) return 0;
    for (const r of this.running) {
      r.handedBack = true;
      r.msg?.nak();
    }
    this.abort.abort(new ShutdownError());
    this.log.warn({ handedBack: this.running.size }, "shutdown grace over; in-flight tasks handed back");
    return this.running.size;
  }
}
