/**
 * How a request that fails ends: one `.failed` event per analysis, however
 * many requests joined it; and no url credentials in anything an operator
 * reads (the event, the log line, the error the worker logs and parks, the
 * dead-letter copy of the payload).
 */
import { decode, encode, formatOf } from "../../shared/fabric/codec.js";
import { ErrorCodes, FarmError, PermanentError, isPermanent } from "../../shared/fabric/errors.js";
import type { TaskContext } from "../../shared/fabric/worker.js";
import { isInvalidKeyError, redactUrl, repoIdentity, type RepoRef } from "../../shared/git/index.js";
import { publishAnalysisFailed, isFinalFailure } from "../../shared/pipeline/announce.js";
import { PipelineErrorCodes } from "../../shared/pipeline/errors.js";
import type { ServiceContext } from "../../shared/pipeline/service.js";
import { requestEcho } from "./request.js";

/** What a failed request is: its payload, the request when it parsed, and the analysis it ran or joined, if any. */
export interface FailedRequest {
  raw: Uint8Array;
  req?: RepoRef;
  /** Shared by the requests that joined one analysis: true once one of them announced its failure. */
  run?: { announced: boolean };
}

/**
 * Settles a failed attempt: announces `.failed` when it is the request's last
 * (from whichever joined request gives up first) and returns the error to
 * throw, permanent when it would come back the same, without credentials.
 */
export function settleFailure(deps: Pick<ServiceContext, "farm" | "log">, err: unknown, ctx: TaskContext, { raw, req, run }: FailedRequest): unknown {
  // An invalid store key comes back the same on every attempt: permanent, even as the KV client's plain Error.
  const permanent = isPermanent(err) || isInvalidKeyError(err);
  const message = redactUrl((err as Error).message);
  if (isFinalFailure(err, ctx, permanent) && !run?.announced) {
    if (run) run.announced = true;
    const reason = permanent ? message : `gave up after ${ctx.attempt} attempts: ${message}`;
    // Even a request refused as invalid is echoed without its credentials.
    const echo = req ?? requestEcho(raw);
    const repo = echo.repo === undefined ? null : repoIdentity(echo.repo);
    publishAnalysisFailed(deps.farm.events, { repo, sha: echo.sha ?? null, reason }, ctx.id);
    deps.log.warn({ repo, sha: echo.sha, reason }, "analysis failed");
  }
  if (permanent && !isPermanent(err))
    return new PermanentError(message, isInvalidKeyError(err) ? PipelineErrorCodes.InvalidKey : ErrorCodes.InvalidInput, { cause: err });
  return withoutSecrets(err, message);
}

/**
 * A `repo.new_sha` payload as a dead-letter copy may keep it: its repo url
 * without credentials (the request itself is the client's, but a copy parked
 * for operators to read must not expose them). A payload that does not decode
 * is redacted as text (byte for byte elsewhere: it was unusable anyway).
 */
export function redactNewShaPayload(data: Uint8Array, headers?: Parameters<typeof decode>[1]): Uint8Array {
  let body: unknown;
  try {
    body = decode(data, headers);
  } catch {
    const text = Buffer.from(data).toString("latin1");
    const clean = redactUrl(text);
    return clean === text ? data : Buffer.from(clean, "latin1");
  }
  if (!body || typeof body !== "object" || Array.isArray(body)) return data;
  const repo = (body as { repo?: unknown }).repo;
  if (typeof repo !== "string" || repoIdentity(repo) === repo) return data;
  return encode({ ...body, repo: repoIdentity(repo) }, formatOf(data, headers));
}

/**
 * `err`, or a copy with `redacted` as its message when its own quotes a url's
 * credentials (a JSON parser's excerpt of the payload): the worker logs it and
 * the dead-letter entry keeps it as the reason. Same name, code and permanence.
 */
function withoutSecrets(err: unknown, redacted: string): unknown {
  if (!(err instanceof Error) || err.message === redacted) return err;
  const code = err instanceof FarmError ? err.code : ErrorCodes.Task;
  const copy = isPermanent(err) ? new PermanentError(redacted, code) : new FarmError(redacted, code);
  copy.name = err.name;
  return copy;
}
