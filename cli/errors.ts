/** The command line's own error codes, beside the library's and the pipeline's. */
export const CliErrorCodes = {
  Usage: "E_USAGE",
  OutputClosed: "E_OUTPUT_CLOSED",
} as const;
