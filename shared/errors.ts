/**
 * Named errors of the farm library. Every error that crosses the wire is
 * reduced to {@link WireError} and rebuilt on the other side as a RemoteError.
 */
import { errors as natsErrors } from "@nats-io/transport-node";

/**
 * Every code a farm error carries, in one place (as nats.js's
 * `JetStreamApiCodes`): stable, machine-readable, part of the public contract
 * (a failed request-reply's `code`, a dead letter's reason).
 */
export const ErrorCodes = {
  // the library and its four verbs
  Farm: "E_FARM",
  Permanent: "E_PERMANENT",
  Decode: "E_DECODE",
  Timeout: "E_TIMEOUT",
  NoResponders: "E_NO_RESPONDERS",
  Shutdown: "E_SHUTDOWN",
  Task: "E_TASK",
  DuplicateId: "E_DUPLICATE_ID",
  Duplicate: "E_DUPLICATE",
  DeadLetter: "E_DEAD_LETTER",
  UnknownDeadLetter: "E_UNKNOWN_DEAD_LETTER",
  Topology: "E_TOPOLOGY",
  ClusterUnreachable: "E_CLUSTER_UNREACHABLE",
  ObjectRead: "E_OBJECT_READ",
  TooLarge: "E_TOO_LARGE",
  BadRequest: "E_BAD_REQUEST",
  Unauthorized: "E_UNAUTHORIZED",
  NotFound: "E_NOT_FOUND",
  // the embedded default
  NoNatsServer: "E_NO_NATS_SERVER",
  PortUnavailable: "E_PORT_UNAVAILABLE",
  StoreInUse: "E_STORE_IN_USE",
  // a repository and its commits
  BadInput: "E_BAD_INPUT",
  InvalidInput: "E_INVALID_INPUT",
  InvalidKey: "E_INVALID_KEY",
  UnknownSha: "E_UNKNOWN_SHA",
  FileTooLarge: "E_FILE_TOO_LARGE",
  Git: "E_GIT",
  CommitStalled: "E_COMMIT_STALLED",
  AnalysisFailed: "E_ANALYSIS_FAILED",
  // linting
  NotLintable: "E_NOT_LINTABLE",
  LintConfig: "E_LINT_CONFIG",
  LintUnsupported: "E_LINT_UNSUPPORTED",
  LintPlanBudget: "E_LINT_PLAN_BUDGET",
  LintPoolClosed: "E_LINT_POOL_CLOSED",
  LintPoolStart: "E_LINT_POOL_START",
  // the command line
  Usage: "E_USAGE",
  OutputClosed: "E_OUTPUT_CLOSED",
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/**
 * An error's code: one of farm's (ErrorCodes), or a library user's own (a
 * handler's `PermanentError("…", "E_BAD_ORDER")`), or one that came over the wire
 * from a version that knows more. Farm's own code names its codes through
 * ErrorCodes only (the lint config refuses a bare "E_…" literal).
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

/** An object whose stored chunks do not add up to its meta record (retryable: a lagging replica). */
export class ObjectReadError extends FarmError {
  constructor(name: string, why: string) {
    super(`object "${name}": ${why}`, ErrorCodes.ObjectRead);
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

/** The NATS client's request timeout, bare or as the cause of another error. */
export function isNatsTimeout(err: unknown): boolean {
  return err instanceof natsErrors.TimeoutError || (err as Error)?.cause instanceof natsErrors.TimeoutError;
}
