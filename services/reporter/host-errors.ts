/**
 * A git host's answer as the worker needs it: a rate limit or a 5xx comes
 * back later (when the host says, if it does), any other 4xx is permanent.
 */
import { ErrorCodes, FarmError, PermanentError, RetryLaterError } from "../../shared/fabric/errors.js";

export interface HostAnswer {
  /** "GitHub answered 403 to POST /repos/…": what was asked and of whom. */
  what: string;
  status: number;
  header(name: string): string | undefined;
  message: string;
}

export function hostFailure(a: HostAnswer, cause: unknown, now = Date.now()): Error {
  const retryAfter = Number(a.header("retry-after"));
  const reset = Number(a.header("x-ratelimit-reset") ?? a.header("ratelimit-reset"));
  const remaining = a.header("x-ratelimit-remaining") ?? a.header("ratelimit-remaining");
  const limited = a.status === 429 || (a.status === 403 && (remaining === "0" || Number.isFinite(retryAfter)));
  if (limited) {
    const wait = Number.isFinite(retryAfter) ? retryAfter * 1000 : Number.isFinite(reset) ? reset * 1000 - now : 60_000;
    return new RetryLaterError(`${a.what}: rate limited; retrying in ${Math.ceil(Math.max(0, wait) / 1000)} s`, wait, ErrorCodes.Farm, { cause });
  }
  if (a.status >= 500 || a.status === 0) return new FarmError(`${a.what}: ${a.message}`, ErrorCodes.Farm, { cause });
  return new PermanentError(`${a.what}: ${a.message}`, ErrorCodes.Permanent, { cause });
}
