/**
 * Publishing the analysis events of the contract (shared/pipeline/contract.ts), typed by
 * subject, and the one rule for when a failed task announces `.failed`.
 */
import { isPermanent } from "../fabric/errors.js";
import { eventId, type Events } from "../fabric/events.js";
import type { AnalysisEvents, AnalysisEventSubject, FailedEvent } from "./contract.js";
import { subjects } from "./names.js";

/** What decides whether an attempt was the last: the parts of a task's context it reads. */
export interface Attempt {
  attempt: number;
  maxDeliver: number;
  signal: AbortSignal;
}

/**
 * Whether this failure ends the task for good: permanent, or its last delivery;
 * and not handed back at shutdown (another instance will take it).
 */
export function isFinalFailure(err: unknown, ctx: Attempt, permanent = isPermanent(err)): boolean {
  return !ctx.signal.aborted && (permanent || ctx.attempt >= ctx.maxDeliver);
}

/**
 * Publishes an event with a stable id made of the subject and `idParts`, so
 * that a redelivered task announcing again is dropped as a copy.
 */
export function publishAnalysisEvent<S extends AnalysisEventSubject>(
  events: Pick<Events, "publish">,
  subject: S,
  payload: AnalysisEvents[S],
  ...idParts: (string | number | null)[]
): string {
  return events.publish(subject, payload, { id: eventId(subject, ...idParts) });
}

/** `repo.analysis.failed` for a request (and commit) that will get no report. */
export function publishAnalysisFailed(events: Pick<Events, "publish">, failed: FailedEvent, ...idParts: (string | number | null)[]): string {
  return publishAnalysisEvent(events, subjects.failed, failed, ...idParts);
}
