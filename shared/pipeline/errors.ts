/**
 * The pipeline's error codes (a repository and its commits, git, linting, the
 * stores, the embedded default), beside the library's `ErrorCodes`: stable,
 * machine-readable, part of the contract (a `.failed` event's and a dead letter's code).
 */
import { FarmError } from "../fabric/errors.js";

export const PipelineErrorCodes = {
  // the embedded default
  NoNatsServer: "E_NO_NATS_SERVER",
  PortUnavailable: "E_PORT_UNAVAILABLE",
  StoreInUse: "E_STORE_IN_USE",
  // a repository and its commits
  InvalidKey: "E_INVALID_KEY",
  UnknownSha: "E_UNKNOWN_SHA",
  FileTooLarge: "E_FILE_TOO_LARGE",
  Git: "E_GIT",
  CommitStalled: "E_COMMIT_STALLED",
  AnalysisFailed: "E_ANALYSIS_FAILED",
  // the stores
  ObjectRead: "E_OBJECT_READ",
  // linting
  NotLintable: "E_NOT_LINTABLE",
  LintConfig: "E_LINT_CONFIG",
  LintUnsupported: "E_LINT_UNSUPPORTED",
  LintPlanBudget: "E_LINT_PLAN_BUDGET",
  LintPoolClosed: "E_LINT_POOL_CLOSED",
  LintPoolStart: "E_LINT_POOL_START",
  // a commit's own toolchain (issue 25): resolving it from the tree, installing it, running it sandboxed
  ToolchainUnresolved: "E_TOOLCHAIN_UNRESOLVED",
  ToolchainInstall: "E_TOOLCHAIN_INSTALL",
  ToolchainRegistry: "E_TOOLCHAIN_REGISTRY",
  SandboxUnavailable: "E_SANDBOX_UNAVAILABLE",
  SandboxRefused: "E_SANDBOX_REFUSED",
} as const;

/** An object whose stored chunks do not add up to its meta record (retryable: a lagging replica). */
export class ObjectReadError extends FarmError {
  constructor(name: string, why: string) {
    super(`object "${name}": ${why}`, PipelineErrorCodes.ObjectRead);
  }
}
