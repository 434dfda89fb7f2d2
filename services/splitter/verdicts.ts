/**
 * Whether an effective lint config is valid, decided once per config id: ids
 * are content hashes, so a verdict never changes.
 */
import { LRUCache } from "lru-cache";
import { validateLintConfig, type FileLintConfig, type RepoConfigError } from "../../shared/lint/index.js";

/** Verdicts kept (least recently used dropped first). */
const VERDICTS = 4096;

export class Verdicts {
  /** Config id → its validation error (null: valid). */
  private readonly verdicts = new LRUCache<string, { error: RepoConfigError | null }>({ max: VERDICTS });

  /** Throws the config's RepoConfigError (permanent: the commit fails with it). */
  check(id: string, config: FileLintConfig): void {
    let verdict = this.verdicts.get(id);
    if (verdict === undefined) {
      try {
        validateLintConfig(config);
        verdict = { error: null };
      } catch (err) {
        verdict = { error: err as RepoConfigError };
      }
      this.verdicts.set(id, verdict);
    }
    if (verdict.error) throw verdict.error;
  }
}
