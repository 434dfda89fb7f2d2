/** New and fixed issues of a commit against its baseline: only files whose (path, blob, config) changed are loaded. */
import { mapLimit } from "../../shared/fabric/concurrency.js";
import type { FileRef } from "../../shared/pipeline/contract.js";
import { changedFiles, computeDelta, type FileMessages } from "../../shared/pipeline/report.js";
import type { Baseline } from "./baselines.js";
import { resultOf, type ResultSources } from "./results.js";

const SKIPPED = Symbol("skipped");

/** A file's messages as loaded; `failure` when it has no result but a reason why. */
interface Loaded extends FileMessages {
  configId: string;
  failure?: string;
}

export async function deltaOf(deps: ResultSources, files: readonly FileRef[], baseline: Baseline) {
  const { now, before } = changedFiles(files, baseline.files);
  const current = (await load(deps, now)).filter(isLinted);
  const parent = (await load(deps, before, baseline.failures)).filter(isLinted);
  return computeDelta(current, parent);
}

/** Results of files; a file whose batch was given up gets a fatal "could not lint" message. */
async function load(deps: ResultSources, files: readonly FileRef[], failures: Record<string, string> = {}): Promise<(Loaded | typeof SKIPPED)[]> {
  return mapLimit(files, 64, async (f) => {
    const { result: r, failure } = await resultOf(deps, f, failures);
    if (r.skipped) return SKIPPED;
    return { path: f.path, blob: f.blob, configId: f.configId, messages: r.messages, ...(failure ? { failure } : {}) };
  });
}

function isLinted(f: Loaded | typeof SKIPPED): f is Loaded {
  return f !== SKIPPED;
}
