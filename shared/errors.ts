/**
 * Named errors of the farm library. Every error that crosses the wire is
 * reduced to {@link WireError} and rebuilt on the other side as a RemoteError.
 */
import { errors as natsErrors } from "@nats-io/transport-node";

export class FarmError extends Error {
  /** Stable machine-readable code, e.g. "E_TIMEOUT". */
  readonly code: string;
  constructor(message: string, code = "E_FARM", options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Bad input or any failure that another attempt cannot fix: never retried. */
export class PermanentError extends FarmError {
  constructor(message: string, code = "E_PERMANENT", options?: ErrorOptions) {
    super(message, code, options);
  }
}

/** A payload that could not be decoded. Always permanent. */
export class DecodeError extends PermanentError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, "E_DECODE", options);
  }
}

/** No reply within the request's timeout. */
export class TimeoutError extends FarmError {
  constructor(subject: string, timeoutMs: number, options?: ErrorOptions) {
    super(`no reply on "${subject}" within ${timeoutMs} ms`, "E_TIMEOUT", options);
  }
}

/** Nobody serves the subject (after the configured retries). */
export class NoRespondersError extends FarmError {
  constructor(subject: string, options?: ErrorOptions) {
    super(`no worker serves "${subject}": start one, or check the subject`, "E_NO_RESPONDERS", options);
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
    super(message, "E_SHUTDOWN");
  }
}

/** An object whose stored chunks do not add up to its meta record (retryable: a lagging replica). */
export class ObjectReadError extends FarmError {
  constructor(name: string, why: string) {
    super(`object "${name}": ${why}`, "E_OBJECT_READ");
  }
}

/** The shape of an error on the wire. */
export interface WireError {
  name: string;
  message: string;
  code: string;
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
    const code = err instanceof FarmError ? err.code : "E_TASK";
    return { name: err.name, message: err.message, code, permanent: isPermanent(err) };
  }
  return { name: "Error", message: String(err), code: "E_TASK", permanent: false };
}

/** The NATS client's request timeout, bare or as the cause of another error. */
export function isNatsTimeout(err: unknown): boolean {
  return err instanceof natsErrors.TimeoutError || (err as Error)?.cause instanceof natsErrors.TimeoutError;
}
