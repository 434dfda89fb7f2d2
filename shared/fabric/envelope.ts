/** What travels with a task and what comes back: header names and the result envelope. */
import type { WireError } from "./errors.js";

export const HeaderNames = {
  taskId: "farm-task-id",
  /** Awaited distribute: the caller's inbox for results. */
  replyTo: "farm-reply-to",
  /** Fire-and-forget distribute: the logical subject results are queued on. */
  resultsTo: "farm-results-to",
  dlqSubject: "farm-dlq-subject",
  dlqStream: "farm-dlq-stream",
  dlqSeq: "farm-dlq-stream-seq",
  dlqAttempts: "farm-dlq-attempts",
  dlqReason: "farm-dlq-reason",
  dlqKind: "farm-dlq-kind",
  dlqTime: "farm-dlq-time",
  /** Request-reply: "error" when the body is `{error, code, name, permanent}`. */
  status: "farm-status",
  /** Fair queues (fair.ts): the task's tenant, as given (its subject carries a token of it), lane and cost. */
  tenant: "farm-tenant",
  lane: "farm-lane",
  cost: "farm-cost",
} as const;

/** Body of a failed request-reply: the public `{error}` shape plus the wire error's fields. */
export interface ErrorReply {
  error: string;
  code: string;
  name: string;
  permanent: boolean;
}

export type TaskResult<R = unknown> =
  { id: string; subject: string; ok: true; value: R } | { id: string; subject: string; ok: false; error: WireError; task?: unknown };
