/** Messages between the lint pool and its threads (structured clone). */
import type { ThreadError } from "./errors.js";
import type { LinterName, LintMessage, LintTask } from "./types.js";

/** workerData of a lint thread. */
export interface ThreadInit {
  maxCachedConfigs?: number;
  /** TESTS ONLY: URL of a module whose default export is extra ESLint flat-config blocks. */
  testOnlyEslintConfigModule?: string;
}

export type ToThread = { type: "lint"; id: number; task: LintTask };

export type FromThread =
  | { type: "ready" }
  /** About to run `linter` on task `id`; `messages` are those of the linters that already ran. */
  | { type: "progress"; id: number; linter: LinterName; messages: LintMessage[] }
  | { type: "done"; id: number; messages: LintMessage[] }
  | { type: "error"; id: number; error: ThreadError };
