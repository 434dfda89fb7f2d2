/**
 * Where the CLI's output goes. A reader that goes away (`farm … | head`) closes
 * stdout: the command then ends quietly, as other Unix tools do, instead of an
 * EPIPE stack trace.
 */
import { once } from "node:events";
import type { Writable } from "node:stream";
import { FarmError } from "../shared/fabric/errors.js";
import { CliErrorCodes } from "./errors.js";

/** The stream written to was closed by its reader: nothing more can be said there. */
export class OutputClosedError extends FarmError {
  constructor() {
    super("the output was closed by its reader", CliErrorCodes.OutputClosed);
  }
}

let stdoutClosed: Promise<void> | undefined;

/**
 * Resolves when stdout's reader has gone. Installing it also keeps an EPIPE from
 * being an uncaught exception (a pipe's write error comes later, as an event).
 */
export function whenStdoutClosed(): Promise<void> {
  stdoutClosed ??= new Promise((resolve) => {
    process.stdout.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE") return resolve();
      process.stderr.write(`farm: cannot write the output: ${err.message}\n`);
      process.exitCode = 4;
      resolve();
    });
  });
  return stdoutClosed;
}

export function isOutputClosed(err: unknown): boolean {
  return err instanceof OutputClosedError || (err as NodeJS.ErrnoException)?.code === "EPIPE";
}

/** A writer that waits for `drain` and fails with OutputClosedError once the stream is gone. */
export function writerTo(out: Writable): (text: string | Uint8Array) => Promise<void> {
  return async (text: string | Uint8Array) => {
    if (out.destroyed || out.writableEnded) throw new OutputClosedError();
    if (out.write(text)) return;
    try {
      await once(out, "drain");
    } catch (err) {
      throw isOutputClosed(err) ? new OutputClosedError() : err;
    }
  };
}
