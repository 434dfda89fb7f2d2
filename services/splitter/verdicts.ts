/**
 * Whether an effective lint config is valid, decided once per config id: ids
 * are content hashes, so a verdict never changes.
 */
import { Lru } from "../../shared/fabric/lru.js";
import { validateLintConfig, type FileLintConfig, type RepoConfigError } from "../../shared/lint/index.js";

/** Verdicts kept (least recently used dropped first). */
const VERDICTS = 4096;

export class Verdicts {
  /** Config id → its validation error (null: valid). */
  private readonly verdicts = new Lru<string, RepoConfigError | null>(VERDICTS);

  /** Throws the config's RepoConfigError (permanent: the commit fails with it). */
  check(id: string, config: FileLintConfig): void {
    let verdict = this.verdicts.get(id);
    if (verdict === undefined) {
      try {
        validateLintConfig(config);
        verdict = null;
      } catch (err) {
        verdict = err as RepoConfigError;
      }
      this.verdicts.set(id, verdict);
    }
    if (verdict) throw verdict;
  }
}
