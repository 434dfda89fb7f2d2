/**
 * Request-reply on the pipeline's subjects, typed by subject from the
 * contract's `Requests` map (shared/pipeline/contract.ts), for callers and servers alike.
 */
import type { Farm } from "../fabric/farm.js";
import type { SendOptions } from "../fabric/jobs.js";
import type { Requests, RequestSubject, Unchecked } from "./contract.js";

export type RequestOf<S extends RequestSubject> = Requests[S]["request"];
export type ReplyOf<S extends RequestSubject> = Requests[S]["reply"];

/** One request on `subject`, answered by the service that serves it (`farm.jobs.send`: a failed one rejects with a FarmError). */
export function request<S extends RequestSubject>(farm: Pick<Farm, "jobs">, subject: S, body: RequestOf<S>, opts?: SendOptions): Promise<ReplyOf<S>> {
  return farm.jobs.send<ReplyOf<S>, RequestOf<S>>(subject, body, opts);
}

/** A request as its server reads it off the wire: any client may send anything, so every field is checked. */
export type IncomingRequest<S extends RequestSubject> = Unchecked<RequestOf<S>> | null | undefined;

/** The server's side of `S`. */
export type RequestHandler<S extends RequestSubject> = (q: IncomingRequest<S>) => Promise<ReplyOf<S>>;
