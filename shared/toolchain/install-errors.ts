/**
 * Errors of installing a toolchain. What the registry says does not exist
 * (a package, a version, a version before the commit's date) or a spec that
 * is not a registry version is permanent: the same spec fails the same way
 * on every attempt. A registry that does not answer is not the commit's
 * fault and may answer later: transient, retried.
 */
import { FarmError, PermanentError } from "../fabric/errors.js";
import { redactUrl } from "../fabric/redact.js";
import { PipelineErrorCodes } from "../pipeline/errors.js";

/** The toolchain cannot be installed: a package or version is missing, or the spec is not installable. Permanent. */
export class ToolchainInstallError extends PermanentError {
  /** The spec's id. */
  readonly toolchain: string;
  /** The registry asked, when one was. */
  readonly registry: string | undefined;
  constructor(toolchain: string, detail: string, registry?: string, options?: ErrorOptions) {
    super(redactUrl(`toolchain ${toolchain}: ${detail}${registry ? ` (registry ${registry})` : ""}`), PipelineErrorCodes.ToolchainInstall, options);
    this.toolchain = toolchain;
    this.registry = registry && redactUrl(registry);
  }
}

/** The registry did not answer (refused, reset, or silent past the install's timeout). Transient. */
export class ToolchainRegistryError extends FarmError {
  readonly toolchain: string;
  readonly registry: string;
  constructor(toolchain: string, registry: string, detail: string, options?: ErrorOptions) {
    super(redactUrl(`toolchain ${toolchain}: registry ${registry} did not answer: ${detail}`), PipelineErrorCodes.ToolchainRegistry, options);
    this.toolchain = toolchain;
    this.registry = redactUrl(registry);
  }
}
