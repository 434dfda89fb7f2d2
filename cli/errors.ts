/** The command line's own errors, error codes and exit codes, beside the library's and the pipeline's. */
import { FarmError } from "../shared/fabric/errors.js";

export const CliErrorCodes = {
  Usage: "E_USAGE",
  OutputClosed: "E_OUTPUT_CLOSED",
} as const;

export const EXIT = { ok: 0, issuesFound: 1, usage: 2, unreachable: 3, internal: 4 } as const;

/** Bad flags or arguments: exit 2 with a one-line reason. */
export class UsageError extends FarmError {
  constructor(message: string) {
    super(message, CliErrorCodes.Usage);
  }
}
