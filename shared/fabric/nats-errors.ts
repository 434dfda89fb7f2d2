/**
 * What the NATS client's own errors mean to farm. Apart from errors.ts so that
 * code which only names farm's errors (a lint thread) does not load the client.
 */
import { errors as natsErrors } from "@nats-io/transport-node";

/** The NATS client's request timeout, bare or as the cause of another error. */
export function isNatsTimeout(err: unknown): boolean {
  return err instanceof natsErrors.TimeoutError || (err as Error)?.cause instanceof natsErrors.TimeoutError;
}
