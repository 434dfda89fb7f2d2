/** The one retry schedule of farm: doubling delays from `initialMs` up to a ceiling. */

export interface BackoffOptions {
  /** The first delay. */
  initialMs: number;
  /** No delay is longer than this. */
  maxMs: number;
  /** Each delay is the last times this. Default 2. */
  factor?: number;
}

/** The delay after `previous` (undefined: the first delay). */
export function nextDelay(previous: number | undefined, o: BackoffOptions): number {
  if (previous === undefined) return Math.min(o.initialMs, o.maxMs);
  return Math.min(o.maxMs, previous * (o.factor ?? 2));
}

/** The delay before retry number `attempt` (0 is the first retry). */
export function delayFor(attempt: number, o: BackoffOptions): number {
  return Math.min(o.maxMs, o.initialMs * (o.factor ?? 2) ** Math.max(0, attempt));
}

/** A per-attempt schedule given as a list (as a Worker's `backoff`): the last entry repeats. */
export function fromSchedule(schedule: readonly number[], attempt: number, fallbackMs = 0): number {
  if (schedule.length === 0) return fallbackMs;
  return schedule[Math.min(Math.max(0, attempt), schedule.length - 1)];
}
