/**
 * farm's lint engine: repo settings from JSON files, effective config and
 * config id per file, in-process linting and a thread pool with a per-file
 * time limit. No NATS code: services wrap it.
 */
export * from "./types.js";
export * from "./errors.js";
export { stripJsonComments } from "./jsonc.js";
export { globMatch, globToRegExp, matchesAny } from "./glob.js";
export type { GlobOptions } from "./glob.js";
export {
  LINTABLE_EXTENSIONS,
  fileKind,
  isLintable,
  packageJsonPaths,
  packageTypes,
  resolveSourceTypes,
  sourceTypeOf,
} from "./source-type.js";
export type { FileKind, PackageTypes } from "./source-type.js";
export {
  DEFAULT_IGNORES,
  FARM_JSON,
  JSHINTRC,
  loadRepoSettings,
  nearestJshintrc,
  normaliseLinters,
  normaliseRules,
  parseFarmJson,
  parseJshintrc,
  repoConfigPaths,
} from "./settings.js";
export type { FarmJson, RepoLintSettings, RepoSettingsInput } from "./settings.js";
export {
  DEFAULT_LINTERS,
  ENGINE_CONFIG_VERSION,
  canonicalJson,
  configId,
  configIdInput,
  defaultFileConfig,
  fileLintConfig,
  isIgnored,
  jshintOptionsFor,
  planRepoLint,
} from "./config.js";
export type { PlannedFile, RepoLintPlan } from "./config.js";
export { linterVersions, reportLinterVersions } from "./versions.js";
export type { LinterVersions } from "./versions.js";
export { LintEngine, eslintConfigFor, lintFile } from "./engine.js";
export type { LintEngineOptions, LintProgress } from "./engine.js";
export { runJshint } from "./jshint.js";
export { DEFAULT_FILE_TIMEOUT_MS, LintPool } from "./pool.js";
export type { LintPoolOptions, LintPoolStats } from "./pool.js";
