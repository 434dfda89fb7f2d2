/**
 * Every name the library makes, in one place: its own streams, durables, queue
 * groups and message ids. The pipeline's names are in shared/pipeline/names.ts.
 */

/** Dead letters: work that exhausted its deliveries or failed for good, kept for a person and `replay`. */
export const DLQ_STREAM = "DLQ";
export const DLQ_PREFIX = "dlq";
/** Max-deliveries advisories, kept while no worker listens (they are core messages). */
export const ADVISORY_STREAM = "ADVISORIES";
export const MAX_DELIVERIES_ADVISORY = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES";

/** A durable consumer name derived from a subject (`lint.batch` → `lint_batch`). */
export function durableName(subject: string): string {
  if (/[*>\s]/.test(subject)) throw new Error(`a worker subject must be concrete, got "${subject}"`);
  return subject.replace(/\./g, "_");
}

/** The durable of one flow (lane and tenant tokens, fair.ts) of a fair subject's worker durable. */
export function fairDurable(durable: string, laneToken: string, tenantToken: string): string {
  return `${durable}_${laneToken}_${tenantToken}`;
}

/** Where a publisher of a fair subject says it queued tasks: its workers look for new flows at once. */
export function fairBell(subject: string): string {
  return `farm.bell.${subject}`;
}

/** The queue group of a subject's request-reply servers: one of them answers each request. */
export function queueGroup(subject: string): string {
  return `farm.${subject}`;
}

/** The durable that reads a worker durable's max-deliveries advisories. */
export function advisoryDurable(durable: string): string {
  return `adv_${durable}`;
}

export function advisorySubject(stream: string, consumer: string): string {
  return `${MAX_DELIVERIES_ADVISORY}.${stream}.${consumer}`;
}

/**
 * Message ids (`Nats-Msg-Id`) of the library's own publishes: the same id for
 * the same message, so that a stream drops a re-send inside its duplicate window.
 */
export const libraryMessageIds = {
  /** A task's result on a results queue, per delivery of the task. */
  result: (taskId: string, delivery: string | number) => `${taskId}.result.${delivery}`,
  /** A dead letter, by where its task was. */
  deadLetter: (stream: string, seq: number) => `dlq.${stream}.${seq}`,
  /** A replay of a dead letter: unique, so that a replay is never dropped as a copy. */
  replay: (seq: number, unique: string) => `replay.${seq}.${unique}`,
};
