/**
 * Errors of the git layer. They extend the farm error hierarchy so that
 * `isPermanent()` classifies them without the caller knowing about git:
 * permanent ones are acknowledged and reported, transient ones are retried.
 */
import { ErrorCodes, FarmError, PermanentError } from "../fabric/errors.js";
import { redactUrl, repoIdentity } from "./credentials.js";
import { PipelineErrorCodes } from "../pipeline/errors.js";

export { redactUrl };

/** The repo.new_sha payload (or an argument) is malformed or unsafe. Permanent. */
export class InvalidInputError extends PermanentError {
  /** The offending field, e.g. "repo", "sha", "history". */
  readonly field: string;
  constructor(field: string, message: string) {
    super(message, ErrorCodes.InvalidInput);
    this.field = field;
  }
}

/** The repository does not contain the commit, even after fetching. Permanent. */
export class UnknownShaError extends PermanentError {
  readonly repo: string;
  readonly sha: string;
  constructor(repo: string, sha: string, detail = "even after fetching") {
    // The identity, never the clone url: the error's fields are serialized into logs.
    const shown = repoIdentity(repo);
    super(`commit ${sha} is not in ${shown} (${detail}); check that it was pushed and that the repo url is right`, PipelineErrorCodes.UnknownSha);
    this.repo = shown;
    this.sha = sha;
  }
}

/** A file asked for by path is larger than the caller allowed. Permanent: the content will not shrink. */
export class FileTooLargeError extends PermanentError {
  constructor(spec: string, size: number, maxBytes: number) {
    super(`${spec} is ${size} bytes, more than the ${maxBytes} allowed`, PipelineErrorCodes.FileTooLarge);
  }
}

/** git failed or timed out (network, auth, disk, lock contention). Transient: retry later. */
export class GitError extends FarmError {
  /** git's arguments, credentials redacted. */
  readonly args: string[];
  /** Exit code, or null when git was killed (timeout) or never started. */
  readonly exitCode: number | null;
  /** The tail of git's stderr. */
  readonly stderr: string;
  constructor(message: string, details: { args?: string[]; exitCode?: number | null; stderr?: string } = {}, options?: ErrorOptions) {
    super(message, PipelineErrorCodes.Git, options);
    this.args = (details.args ?? []).map(redactUrl);
    this.exitCode = details.exitCode ?? null;
    this.stderr = redactUrl(details.stderr ?? "");
  }
}

/** Another process held the repo's lock for longer than we were willing to wait. Transient. */
export class LockTimeoutError extends GitError {
  constructor(lockPath: string, waitedMs: number, holder: string) {
    super(`gave up after ${waitedMs} ms waiting for lock ${lockPath} (held by ${holder}); will retry`);
  }
}

/**
 * A store key or subject token built from a repo is not valid for NATS. Permanent:
 * the same request builds the same key again, so retrying cannot help.
 */
export class InvalidKeyError extends PermanentError {
  readonly key: string;
  constructor(key: string, why = "is not a valid NATS key") {
    super(`key ${JSON.stringify(redactUrl(key))} ${why}`, PipelineErrorCodes.InvalidKey);
    this.key = redactUrl(key);
  }
}

/**
 * An invalid-key error, ours or the KV client's (a plain Error "invalid key: …",
 * which isPermanent alone would retry as if it were transient).
 */
export function isInvalidKeyError(err: unknown): boolean {
  return err instanceof InvalidKeyError || (err instanceof Error && /^invalid key\b/.test(err.message));
}
