/**
 * New and fixed issues of a commit against its baseline: only files whose
 * (path, blob, config) changed are loaded, and the sources of files git saw
 * renamed or copied (shared/pipeline/tracking.ts pairs them).
 */
import { mapLimit } from "../../shared/fabric/concurrency.js";
import type { FileRef } from "../../shared/pipeline/contract.js";
import type { FileMessages, FileMove } from "../../shared/pipeline/report.js";
import { deltaOfPairs, pairFiles, type LoadedPair } from "../../shared/pipeline/tracking.js";
import type { Baseline } from "./baselines.js";
import { resultOf, type ResultSources } from "./results.js";

/** A file's messages as loaded; null when skipped by content (binary, minified): it has no issues to track. */
type Loaded = (FileMessages & { configId: string; failure?: string }) | null;

export async function deltaOf(deps: ResultSources, files: readonly FileRef[], baseline: Baseline, moves: readonly FileMove[] = []) {
  const { pairs, moved } = pairFiles(files, baseline.files, moves);
  const loaded: LoadedPair[] = await mapLimit(pairs, 32, async (p) => ({
    now: p.now && (await load(deps, p.now)),
    before: p.before && (await load(deps, p.before, baseline.failures)),
    copy: p.copy,
  }));
  return deltaOfPairs(loaded, moved);
}

/** A file's result; a file whose batch was given up gets a fatal "could not lint" message. */
async function load(deps: ResultSources, f: FileRef, failures: Record<string, string> = {}): Promise<Loaded> {
  const { result: r, failure } = await resultOf(deps, f, failures);
  if (r.skipped) return null;
  return { path: f.path, blob: f.blob, configId: f.configId, messages: r.messages, ...(failure ? { failure } : {}) };
}
