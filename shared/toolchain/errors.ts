/**
 * Named errors of resolving a commit's toolchain. Hostile or odd trees are
 * not errors (they become notes); what is left is input no other attempt can
 * fix, hence permanent.
 */
import { PermanentError } from "../fabric/errors.js";
import { PipelineErrorCodes } from "../pipeline/errors.js";

/** The commit's toolchain cannot be stated (e.g. ranges to resolve and no valid commit date to resolve them at). */
export class ToolchainUnresolvedError extends PermanentError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, PipelineErrorCodes.ToolchainUnresolved, options);
  }
}
