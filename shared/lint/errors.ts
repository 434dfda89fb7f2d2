/**
 * Named errors of the lint engine. Repo configuration errors are permanent:
 * another attempt on the same commit would fail the same way, so the fabric's
 * `isPermanent()` must see them as such and never retry.
 */
import { FarmError, PermanentError } from "../fabric/errors.js";
import { PipelineErrorCodes } from "../pipeline/errors.js";

/** The repo's lint configuration (`.farm.json`, `.jshintrc`, rule settings) is invalid. */
export class RepoConfigError extends PermanentError {
  /** Repo-relative path of the offending file, when known. */
  readonly file: string | undefined;
  /** The message without the file prefix. */
  readonly detail: string;
  constructor(detail: string, file?: string, options?: ErrorOptions) {
    super(file ? `${file}: ${detail}` : detail, PipelineErrorCodes.LintConfig, options);
    this.file = file;
    this.detail = detail;
  }
}

/** An option the engine knows about but does not implement (e.g. trusted repo JS configs). */
export class LintUnsupportedError extends PermanentError {
  constructor(message: string) {
    super(message, PipelineErrorCodes.LintUnsupported);
  }
}

/**
 * Planning one commit took more than its time budget (see planRepoLintAsync):
 * the same tree would take as long again, so it is permanent for that commit.
 */
export class PlanBudgetError extends PermanentError {
  readonly budgetMs: number;
  constructor(budgetMs: number, planned: number, total: number) {
    super(
      `planning the commit took more than its budget of ${budgetMs} ms (${planned} of ${total} paths planned): given up`,
      PipelineErrorCodes.LintPlanBudget,
    );
    this.budgetMs = budgetMs;
  }
}

/** The pool was closed: the tasks were not linted. Not the files' fault, so not permanent. */
export class LintPoolClosedError extends FarmError {
  constructor(message = "lint pool is closed") {
    super(message, PipelineErrorCodes.LintPoolClosed);
  }
}

/** Threads of the pool cannot start (a broken install, not a file's fault). */
export class LintPoolStartError extends FarmError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, PipelineErrorCodes.LintPoolStart, options);
  }
}

/** What crosses the thread boundary for an error thrown inside a lint thread. */
export interface ThreadError {
  name: string;
  message: string;
  file?: string;
}

export function toThreadError(err: unknown): ThreadError {
  if (err instanceof RepoConfigError) return { name: err.name, message: err.detail, file: err.file };
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: "Error", message: String(err) };
}

/** Rebuilds the named error on the pool's side so `instanceof` and `isPermanent` keep working. */
export function fromThreadError(wire: ThreadError): Error {
  if (wire.name === "RepoConfigError") return new RepoConfigError(wire.message, wire.file);
  if (wire.name === "LintUnsupportedError") return new LintUnsupportedError(wire.message);
  if (wire.name === "NotLintableError") return new NotLintableError(wire.message.replace(/^.*: /, ""));
  const err = new Error(wire.message);
  err.name = wire.name;
  return err;
}

/** A path whose extension the engine does not lint (bad input: permanent). */
export class NotLintableError extends PermanentError {
  constructor(path: string) {
    super(`not a lintable file (by extension): ${path}`, PipelineErrorCodes.NotLintable);
  }
}
