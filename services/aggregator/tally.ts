/**
 * A commit's summary, rule counts, files kept (not skipped by content) and
 * failures, from each result's digest: the same numbers as counting every
 * message, rules in the same order, at the cost of a lookup per file.
 */
import { mapLimit } from "../../shared/fabric/concurrency.js";
import { LRUCache } from "lru-cache";
import type { FileRef } from "../../shared/pipeline/contract.js";
import { kvKeys } from "../../shared/pipeline/names.js";
import { countRules, summarize, type FileResult, type Summary } from "../../shared/pipeline/report.js";
import { resultOf, type ResultSources } from "./results.js";

/** Digests kept (least recently used dropped first): a commit's tree of 30,000 files, not a history's every version. */
const DIGESTS = 32_768;

export interface Tally {
  kept: FileRef[];
  failures: Record<string, string>;
  rules: Record<string, number>;
  summary: Summary;
}

/** One result as a commit's tally counts it. */
interface Digest {
  skipped: boolean;
  errors: number;
  warnings: number;
  /** Messages per "linter/rule", in the order the rules first occur. */
  rules: [string, number][];
}

export class Tallies {
  /**
   * What a commit's tally needs of a result, by result key (a key's result never changes).
   * Bounded by maxSize, one per digest, not `max`: lru-cache fills `max` slots up front (20 ms of start-up).
   */
  private readonly digests = new LRUCache<string, Digest>({ maxSize: DIGESTS, sizeCalculation: () => 1 });

  constructor(private readonly deps: ResultSources) {}

  async tally(files: readonly FileRef[]): Promise<Tally> {
    const keys = files.map((f) => kvKeys.result(f.blob, f.configId));
    const digests: (Digest | undefined)[] = keys.map((k) => this.digests.get(k));
    const failures: Record<string, string> = {};
    await mapLimit(
      [...digests.keys()].filter((i) => !digests[i]),
      64,
      async (i) => {
        const { result, failure } = await resultOf(this.deps, files[i]);
        digests[i] = digestOf(result);
        // A failure is this commit's only: a replayed batch may bring the result.
        if (failure === undefined) this.digests.set(keys[i], digests[i]);
        else failures[keys[i]] = failure;
      },
    );
    const kept: FileRef[] = [];
    const rules: Record<string, number> = {};
    let errors = 0;
    let warnings = 0;
    files.forEach((f, i) => {
      const digest = digests[i]!;
      if (digest.skipped) return;
      kept.push(f);
      errors += digest.errors;
      warnings += digest.warnings;
      for (const [rule, n] of digest.rules) rules[rule] = (rules[rule] ?? 0) + n;
    });
    return { kept, failures, rules, summary: { files: kept.length, errors, warnings } };
  }
}

function digestOf(r: FileResult): Digest {
  const { errors, warnings } = summarize([r]);
  return { skipped: Boolean(r.skipped), errors, warnings, rules: Object.entries(countRules([r])) };
}
