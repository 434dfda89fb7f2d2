/**
 * Gives up on a task: parks a copy in the dead-letter stream with its reason,
 * tells the distributor (its inbox or results queue) the task failed, and only
 * then terms it. A task that cannot be parked is handed back, never lost.
 */
import type { MsgHdrs } from "@nats-io/transport-node";
import { ErrorCodes, toWireError, type WireError } from "../errors.js";
import type { DeadLetterKind, DeadLetters, RawMessage } from "../dlq.js";
import type { Results } from "./results.js";
import type { WorkerObserver } from "./observers.js";
import type { Log, TaskMsg } from "./ports.js";

/** A task's payload and the reason it was given up, as the dead-letter stream keeps them. */
export interface DeadLetterCopy {
  data: Uint8Array;
  reason: string;
}

/** One task to park. */
export interface ParkOptions {
  /** The task as its work-queue stream holds it. */
  msg: RawMessage;
  /** The work-queue stream and the task's sequence there (the dead letter's dedup key). */
  stream: string;
  streamSeq: number;
  /** Deliveries so far. */
  attempts: number;
  /** Why it was given up, for a person reading `farm dlq ls`. */
  reason: string;
  kind: DeadLetterKind;
  /** The task id results are correlated by. */
  id: string;
  /** The handler's last error; none when the worker never got to finish (the max-deliveries advisory). */
  cause?: WireError;
}

/** A queued task whose handler failed for the last time. */
export interface GiveUp {
  id: string;
  attempts: number;
  /** What the handler threw. */
  err: unknown;
  kind: DeadLetterKind;
}

export interface DeadLetterDeps {
  dlq: Pick<DeadLetters, "park">;
  results: Pick<Results, "deliver">;
  /** Counts every task parked (WorkerStats.deadLettered). */
  counts: { deadLettered: number };
  /** Told of every task parked. Default none. */
  observers?: readonly WorkerObserver[];
  log: Log;
}

export interface DeadLetterOptions {
  /** The worker's subject, as results name it. */
  subject: string;
  /** Turns a payload into the task that rides along with a failed result (undecodable: none). */
  decode: (data: Uint8Array, headers?: MsgHdrs) => unknown;
  /** What the dead-letter stream keeps (WorkerOptions.deadLetter). Default: the copy as it is. */
  keep?: (copy: DeadLetterCopy) => DeadLetterCopy;
  /** Ms before a task that could not be parked is redelivered. Default 1000. */
  retryDelay?: number;
}

export class DeadLetterer {
  private readonly keep: (copy: DeadLetterCopy) => DeadLetterCopy;
  private readonly retryDelay: number;

  constructor(
    private readonly deps: DeadLetterDeps,
    private readonly opts: DeadLetterOptions,
  ) {
    this.keep = opts.keep ?? ((c) => c);
    this.retryDelay = opts.retryDelay ?? 1000;
  }

  /** Parks a queued task the worker gives up on, then terms it; naks it when parking fails. */
  async deadLetter(m: TaskMsg, g: GiveUp): Promise<void> {
    const reason = deadLetterReason(g.err, g.kind, g.attempts);
    try {
      const msg = { subject: m.subject, data: m.data, headers: m.headers };
      await this.park({ msg, stream: m.info.stream, streamSeq: m.seq, attempts: g.attempts, reason, kind: g.kind, id: g.id, cause: toWireError(g.err) });
      m.term(); // 2.9 ignores a term reason: the reason lives in the dead-letter entry
      this.deps.log.warn({ id: g.id, attempts: g.attempts, kind: g.kind, reason }, "task dead-lettered");
    } catch (e) {
      // Could not park it: let the server redeliver rather than lose it.
      this.deps.log.error({ id: g.id, err: (e as Error).message }, "dead-lettering failed; task will be redelivered");
      m.nak(this.retryDelay);
    }
  }

  /** Parks a copy of the task and sends the distributor its failed result. */
  async park(p: ParkOptions): Promise<void> {
    const kept = this.keep({ data: p.msg.data, reason: p.reason });
    await this.deps.dlq.park(
      { ...p.msg, data: kept.data },
      { stream: p.stream, streamSeq: p.streamSeq, attempts: p.attempts, reason: kept.reason, kind: p.kind },
    );
    this.deps.counts.deadLettered++;
    for (const o of this.deps.observers ?? []) o.deadLettered?.(this.opts.subject);
    // The distributor sees the worker's own error, as `send` would; "DeadLettered" when there is none.
    const error: WireError = p.cause ?? { name: "DeadLettered", message: p.reason, code: ErrorCodes.DeadLetter, permanent: true };
    // The task rides along so a results consumer knows what was given up.
    const task = attempt(() => this.opts.decode(p.msg.data, p.msg.headers));
    await this.deps.results.deliver(p.msg.headers, `${p.stream}.${p.streamSeq}`, { id: p.id, subject: this.opts.subject, ok: false, error, task });
  }
}

/** The reason a dead letter gives. */
export function deadLetterReason(err: unknown, kind: DeadLetterKind, attempts: number): string {
  const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return kind === "permanent" ? `permanent failure: ${msg}` : `failed ${attempts} times; last error: ${msg}`;
}

function attempt<V>(fn: () => V): V | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}
