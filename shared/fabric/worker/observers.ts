/**
 * Observers see every task a worker runs, for metrics, the services protocol's
 * stats and traces. With none registered a task runs as it always did: no
 * wrapper, no promise, no cost.
 */
import type { MsgHdrs } from "@nats-io/transport-node";

/** What an observer knows of one task. */
export interface TaskInfo {
  readonly id: string;
  readonly subject: string;
  readonly via: "send" | "distribute";
  /** 1 on the first delivery. */
  readonly attempt: number;
  readonly headers?: MsgHdrs;
}

export interface WorkerObserver {
  /**
   * Wraps one task's decode and handler: calls `next` once and returns what it
   * returns, or throws what it throws (a span, a timer, a counter around it).
   */
  around?: <X>(task: TaskInfo, next: () => Promise<X>) => Promise<X>;
  /** A queued task was given up and parked in the dead-letter stream. */
  deadLettered?: (subject: string) => void;
}

/** Runs `run` inside every observer's `around`, the first registered outermost. */
export function observed<X>(observers: readonly WorkerObserver[], task: TaskInfo, run: () => X | Promise<X>): X | Promise<X> {
  const wrapping = observers.filter((o) => o.around);
  if (!wrapping.length) return run();
  let next = async () => run();
  for (const o of wrapping.reverse()) {
    const inner = next;
    next = () => o.around!(task, inner);
  }
  return next();
}
