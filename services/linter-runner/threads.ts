/**
 * The linter-runner's lint threads as the config sets them: one place for
 * the service's pool and for a process that starts a thread ahead of it.
 */
import type { LintPoolOptions } from "../../shared/lint/pool.js";
import { prewarmLintThread } from "../../shared/lint/thread-start.js";
import type { FarmConfig } from "../../shared/runtime/config.js";

/**
 * Young generation of a lint thread: big enough that most of a big file's
 * parse and lint garbage dies there, not in the old space (measured on
 * mocha's history: less GC time and memory than V8's default).
 */
const LINT_THREAD_YOUNG_MB = 96;

export function lintPoolOptions(config: Pick<FarmConfig, "concurrency" | "lintThreadHeapMb">): LintPoolOptions {
  return {
    threads: config.concurrency,
    resourceLimits: { maxOldGenerationSizeMb: config.lintThreadHeapMb, maxYoungGenerationSizeMb: LINT_THREAD_YOUNG_MB },
  };
}

/** Starts the first lint thread of a linter-runner this process is about to start (the embedded default, `farm up`). */
export function prewarmLintThreads(config: Pick<FarmConfig, "concurrency" | "lintThreadHeapMb">): void {
  prewarmLintThread(lintPoolOptions(config));
}
