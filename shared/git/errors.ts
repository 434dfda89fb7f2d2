/**
 * Errors of the git layer. They extend the farm error hierarchy so that
 * `isPermanent()` classifies them without the caller knowing about git:
 * permanent ones are acknowledged and reported, transient ones are retried.
 */
import { FarmError, PermanentError } from "../errors.js";

/** The repo.new_sha payload (or an argument) is malformed or unsafe. Permanent. */
export class InvalidInputError extends PermanentError {
  /** The offending field, e.g. "repo", "sha", "history". */
  readonly field: string;
  constructor(field: string, message: string) {
    super(message, "E_INVALID_INPUT");
    this.field = field;
  }
}

/** The repository does not contain the commit, even after fetching. Permanent. */
export class UnknownShaError extends PermanentError {
  readonly repo: string;
  readonly sha: string;
  constructor(repo: string, sha: string, detail = "even after fetching") {
    super(
      `commit ${sha} is not in ${redactUrl(repo)} (${detail}); check that it was pushed and that the repo url is right`,
      "E_UNKNOWN_SHA",
    );
    this.repo = repo;
    this.sha = sha;
  }
}

/** A file asked for by path is larger than the caller allowed. Permanent: the content will not shrink. */
export class FileTooLargeError extends PermanentError {
  constructor(spec: string, size: number, maxBytes: number) {
    super(`${spec} is ${size} bytes, more than the ${maxBytes} allowed`, "E_FILE_TOO_LARGE");
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
    super(message, "E_GIT", options);
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

/** Hides `user:token@` in https urls: messages and logs travel over NATS. */
export function redactUrl(s: string): string {
  return s.replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/@\s]+@/g, "$1***@");
}
