/** A file's result as a report counts it: from the result cache, or, when it has none, the reason why. */
import type { FileRef } from "../../shared/pipeline/contract.js";
import { kvKeys } from "../../shared/pipeline/names.js";
import { unlintableResult, type FileResult } from "../../shared/pipeline/report.js";
import type { ResultCache } from "../../shared/pipeline/stores/index.js";
import type { ResultTracker } from "./tracker.js";

export interface ResultSources {
  results: ResultCache;
  tracker: ResultTracker;
}

/** A file's result; `failure` when its batch was given up (the result then is a fatal "could not lint" message). */
export interface Found {
  result: FileResult;
  failure?: string;
}

/**
 * The result of `f`: a real one wins over a recorded failure (the batch may
 * have been replayed since); a failure is the tracker's, else `failures`'
 * (a baseline's). Throws when there is neither.
 */
export async function resultOf(deps: ResultSources, f: FileRef, failures: Record<string, string> = {}): Promise<Found> {
  const key = kvKeys.result(f.blob, f.configId);
  const found = await deps.results.get(key);
  if (found) return { result: found };
  const failure = deps.tracker.failure(key) ?? failures[key];
  if (!failure) throw new Error(`result ${key} vanished from the cache`);
  return { result: unlintableResult(failure), failure };
}
