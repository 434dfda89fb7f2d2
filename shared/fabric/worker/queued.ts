/**
 * Runs one queued task and settles it: a success is acked with its result
 * sent; a failure is retried with the attempt's backoff, or given up (a
 * permanent error, or the last attempt) to the dead-letter stream. A task
 * handed back at shutdown is left alone: it is the next worker's.
 */
import { fromSchedule } from "../backoff.js";
import { isPermanent, RetryLaterError } from "../errors.js";
import { HeaderNames, type TaskResult } from "../envelope.js";
import type { DeadLetterer } from "./dead-letter.js";
import type { Heartbeats } from "./heartbeats.js";
import type { Running } from "./in-flight.js";
import type { Outbox } from "./outbox.js";
import type { Results } from "./results.js";
import type { Log, RunTask, TaskMsg } from "./ports.js";

export interface QueuedDeps {
  /** Decodes the task and runs the handler. */
  run: RunTask;
  beats: Pick<Heartbeats, "beat">;
  outbox: Pick<Outbox, "send">;
  results: Pick<Results, "reply" | "deliver">;
  deadLetters: Pick<DeadLetterer, "deadLetter">;
  /** WorkerStats counts: a success is processed, every failed attempt is failed. */
  counts: { processed: number; failed: number };
  log: Pick<Log, "info">;
}

export interface QueuedOptions {
  /** The worker's subject, as results name it. */
  subject: string;
  /** Deliveries before a task is given up (WorkerOptions.maxDeliver). */
  maxDeliver: number;
  /** Ms before retry n, by attempt; the last repeats; none: at once (WorkerOptions.backoff). */
  backoff: readonly number[];
}

export class QueuedTasks {
  constructor(
    private readonly deps: QueuedDeps,
    private readonly opts: QueuedOptions,
  ) {}

  async run(m: TaskMsg, entry: Running): Promise<void> {
    const { deps, opts } = this;
    const info = m.info;
    const attempt = info.deliveryCount;
    const headers = m.headers;
    const delivery = `${info.stream}.${info.streamSequence}`;
    const id = headers?.get(HeaderNames.taskId) || delivery;
    const working = () => deps.beats.beat(entry);
    // A fair consumer has no max_deliver of its own (fair.ts): a task past its deliveries is given up here, unrun.
    if (attempt > opts.maxDeliver) {
      const err = new Error(`no ack after ${attempt - 1} deliveries: the worker crashed or timed out on every attempt`);
      await deps.deadLetters.deadLetter(m, { id, attempts: attempt - 1, err, kind: "exhausted" });
      return;
    }
    try {
      const value = await deps.run(m.data, headers, { id, attempt, working });
      if (entry.handedBack) return;
      const result: TaskResult = { id, subject: opts.subject, ok: true, value };
      if (headers?.get(HeaderNames.resultsTo)) {
        await deps.results.deliver(headers, delivery, result);
        deps.outbox.send({ ack: m });
      } else {
        // The common cases, an inbox or nobody, wait for nothing: reply and ack go out with the turn's batch.
        const to = headers?.get(HeaderNames.replyTo);
        deps.outbox.send(to ? { ...deps.results.reply(to, result), ack: m } : { ack: m });
      }
      deps.counts.processed++;
    } catch (err) {
      if (entry.handedBack) return;
      deps.counts.failed++;
      const permanent = isPermanent(err);
      if (!permanent && attempt < opts.maxDeliver) {
        // A failure that says when to come back (a rate limit) is not tried sooner than that.
        const delay = Math.max(fromSchedule(opts.backoff, attempt - 1, 0), err instanceof RetryLaterError ? err.retryAfterMs : 0);
        deps.log.info({ id, attempt, delay, err: (err as Error).message }, "task failed; will retry");
        m.nak(delay);
        return;
      }
      await deps.deadLetters.deadLetter(m, { id, attempts: attempt, err, kind: permanent ? "permanent" : "exhausted" });
    }
  }
}
