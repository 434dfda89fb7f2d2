/** A `repo.new_sha` request as ingest reads it: parsed and validated, or, for a failure's event, as much of it as decodes. */
import { decode } from "../../shared/fabric/codec.js";
import { DecodeError, ErrorCodes, PermanentError } from "../../shared/fabric/errors.js";
import { validateRepoRef, type RepoRef, type RepoRefOptions } from "../../shared/git/index.js";

/** A `repo.new_sha` payload is a few hundred bytes; anything this big is not one. */
export const MAX_REQUEST_BYTES = 16 * 1024;

/** The request `raw` holds; throws a permanent error when it is not one (too big, not an object, an invalid repo or sha). */
export function parseRequest(raw: Uint8Array, headers: Parameters<typeof decode>[1], options: RepoRefOptions): RepoRef {
  if (raw.length > MAX_REQUEST_BYTES)
    throw new PermanentError(`repo.new_sha payload is ${raw.length} bytes; the limit is ${MAX_REQUEST_BYTES}`, ErrorCodes.TooLarge);
  const body = decode<unknown>(raw, headers);
  if (!body || typeof body !== "object" || Array.isArray(body))
    throw new DecodeError('repo.new_sha payload must be an object like {"repo": "...", "sha": "..."}');
  return validateRepoRef(body, options);
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
