/** A `repo.new_sha` request as ingest reads it: parsed and validated, or, for a failure's event, as much of it as decodes. */
import { decode } from "../../shared/fabric/codec.js";
import { DecodeError, ErrorCodes, PermanentError } from "../../shared/fabric/errors.js";
import { LANES, type Lane } from "../../shared/fabric/fair.js";
import { validateRepoRef, type RepoRef, type RepoRefOptions } from "../../shared/git/index.js";
import type { PlacementRequest } from "../../shared/pipeline/lanes.js";

/** A request's tenant is a name, not a payload. */
const MAX_TENANT = 200;

/** A parsed request: the repository and commit, and the lane and tenant it asks for. */
export type ParsedRequest = RepoRef & PlacementRequest;

/** A `repo.new_sha` payload is a few hundred bytes; anything this big is not one. */
export const MAX_REQUEST_BYTES = 16 * 1024;

/** The request `raw` holds; throws a permanent error when it is not one (too big, not an object, an invalid repo or sha). */
export function parseRequest(raw: Uint8Array, headers: Parameters<typeof decode>[1], options: RepoRefOptions): ParsedRequest {
  if (raw.length > MAX_REQUEST_BYTES)
    throw new PermanentError(`repo.new_sha payload is ${raw.length} bytes; the limit is ${MAX_REQUEST_BYTES}`, ErrorCodes.TooLarge);
  const body = decode<unknown>(raw, headers);
  if (!body || typeof body !== "object" || Array.isArray(body))
    throw new DecodeError('repo.new_sha payload must be an object like {"repo": "...", "sha": "..."}');
  // Assigned onto the ref itself: its clone url is not enumerable and would not survive a spread.
  return Object.assign(validateRepoRef(body, options), placementOf(body as Record<string, unknown>));
}

function placementOf(body: Record<string, unknown>): PlacementRequest {
  const { lane, tenant } = body;
  if (lane !== undefined && !LANES.includes(lane as Lane))
    throw new PermanentError('repo.new_sha "lane" must be "interactive" or "backfill"', ErrorCodes.InvalidInput);
  if (tenant !== undefined && (typeof tenant !== "string" || tenant === "" || tenant.length > MAX_TENANT))
    throw new PermanentError(`repo.new_sha "tenant" must be a non-empty string of at most ${MAX_TENANT} characters`, ErrorCodes.InvalidInput);
  return { ...(lane !== undefined ? { lane: lane as Lane } : {}), ...(tenant !== undefined ? { tenant: tenant } : {}) };
}

/** The repo and sha of a request that did not parse, as far as they decode (strings only): what its `.failed` event echoes. */
export function requestEcho(raw: Uint8Array): { repo?: string; sha?: string } {
  try {
    const v = decode<Record<string, unknown>>(raw);
    return { repo: typeof v?.repo === "string" ? v.repo : undefined, sha: typeof v?.sha === "string" ? v.sha : undefined };
  } catch {
    return {};
  }
}
