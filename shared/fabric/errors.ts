/**
 * Named errors of the farm library. Every error that crosses the wire is
 * reduced to {@link WireError} and rebuilt on the other side as a RemoteError.
 */

/**
 * The library's error codes, in one place (as nats.js's `JetStreamApiCodes`):
 * stable, machine-readable, part of the public contract (a failed request-reply's
 * `code`, a dead letter's reason). The pipeline's own codes are
 * `PipelineErrorCodes` (shared/pipeline/errors.ts), the CLI's `CliErrorCodes`.
 */
export const ErrorCodes = {
  Farm: "E_FARM",
  Permanent: "E_PERMANENT",
  Decode: "E_DECODE",
  Timeout: "E_TIMEOUT",
  NoResponders: "E_NO_RESPONDERS",
  Shutdown: "E_SHUTDOWN",
  Task: "E_TASK",
  /** Two tasks of one distribute call carry the same id. */
  DuplicateTaskIds: "E_DUPLICATE_TASK_IDS",
  /** A task id that an earlier distribute already used. */
  TaskIdReused: "E_TASK_ID_REUSED",
  DeadLetter: "E_DEAD_LETTER",
  UnknownDeadLetter: "E_UNKNOWN_DEAD_LETTER",
  Topology: "E_TOPOLOGY",
  ClusterUnreachable: "E_CLUSTER_UNREACHABLE",
  TooLarge: "E_TOO_LARGE",
  /** A request or task whose content is not what its receiver takes: the one code for bad input. */
  InvalidInput: "E_INVALID_INPUT",
  Unauthorized: "E_UNAUTHORIZED",
  NotFound: "E_NOT_FOUND",
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/**
 * An error's code: one of the library's (ErrorCodes), the pipeline's, or a
 * library user's own (a handler's `PermanentError("…", "E_BAD_ORDER")`), or one
 * that came over the wire from a version that knows more. Farm's own code names
 * its codes through its code tables only (the lint config refuses a bare "E_…" literal).
 */
export type Code = ErrorCode | (string & Record<never, never>);

export class FarmError extends Error {
  /** Stable machine-readable code, e.g. "E_TIMEOUT" (see ErrorCodes). */
  readonly code: Code;
  constructor(message: string, code: Code = ErrorCodes.Farm, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Bad input or any failure that another attempt cannot fix: never retried. */
export class PermanentError extends FarmError {
  constructor(message: string, code: Code = ErrorCodes.Permanent, options?: ErrorOptions) {
    super(message, code, options);
  }
}

/**
 * A failure that another attempt can fix, but not before `retryAfterMs` (a
 * service's rate limit, its `Retry-After`): the worker waits at least that
 * long, or its backoff if longer, before the next attempt.
 */
export class RetryLaterError extends FarmError {
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number, code: Code = ErrorCodes.Farm, options?: ErrorOptions) {
    super(message, code, options);
    this.retryAfterMs = Math.max(0, retryAfterMs);
  }
}

/** A payload that could not be decoded. Always permanent. */
export class DecodeError extends PermanentError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, ErrorCodes.Decode, options);
  }
}

/** No reply within the request's timeout. */
export class TimeoutError extends FarmError {
  constructor(subject: string, timeoutMs: number, options?: ErrorOptions) {
    super(`no reply on "${subject}" within ${timeoutMs} ms`, ErrorCodes.Timeout, options);
  }
}

/** Nobody serves the subject (after the configured retries). */
export class NoRespondersError extends FarmError {
  constructor(subject: string, options?: ErrorOptions) {
    super(`no worker serves "${subject}": start one, or check the subject`, ErrorCodes.NoResponders, options);
  }
}

/** The worker ran the task and it failed; carries the worker's message and code. */
export class RemoteError extends FarmError {
  readonly remoteName: string;
  readonly permanent: boolean;
  constructor(wire: WireError) {
    super(wire.message, wire.code);
    this.remoteName = wire.name;
    this.permanent = wire.permanent;
  }
}

/** Shutting down: the task was handed back, not failed. */
export class ShutdownError extends FarmError {
  constructor(message = "worker is shutting down") {
    super(message, ErrorCodes.Shutdown);
  }
}

/** The shape of an error on the wire. */
export interface WireError {
  name: string;
  message: string;
  code: Code;
  permanent: boolean;
}

export function isPermanent(err: unknown): boolean {
  return err instanceof PermanentError || (err instanceof RemoteError && err.permanent);
}

export function toWireError(err: unknown): WireError {
  if (err instanceof RemoteError) {
    return { name: err.remoteName, message: err.message, code: err.code, permanent: err.permanent };
  }
  if (err instanceof Error) {
    const code = err instanceof FarmError ? err.code : ErrorCodes.Task;
    return { name: err.name, message: err.message, code, permanent: isPermanent(err) };
  }
  return { name: "Error", message: String(err), code: ErrorCodes.Task, permanent: false };
}
