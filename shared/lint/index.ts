/**
 * farm's lint engine: repo settings from JSON files, effective config and
 * config id per file, in-process linting and a thread pool with a per-file
 * time limit. No NATS code: services wrap it.
 */
export * from "./types.js";
export * from "./errors.js";
export { stripJsonComments } from "./jsonc.js";
export { compileGlobs, globMatch, globProblem, matchesAny } from "./glob.js";
export type { GlobMatcher, GlobOptions } from "./glob.js";
export { LINTABLE_EXTENSIONS, fileKind, isLintable, packageJsonPaths, packageTypes, resolveSourceTypes, sourceTypeOf } from "./source-type.js";
export type { FileKind, PackageTypes } from "./source-type.js";
export {
  DEFAULT_IGNORES,
  FARM_JSON,
  JSHINTRC,
  loadRepoSettings,
  nearestJshintrc,
  nearestJshintrcDir,
  normaliseLinters,
  normaliseRules,
  parseFarmJson,
  parseJshintrc,
  repoConfigPaths,
} from "./settings.js";
export type { FarmJson, RepoLintSettings, RepoSettingsInput } from "./settings.js";
export { extendedConfigPaths, MAX_EXTENDS_ROUNDS, readExtended } from "./extends.js";
export { ConfigTexts, DEFAULT_CACHED_TEXT_BYTES, DEFAULT_CONFIG_TEXTS } from "./config-texts.js";
export type { ConfigTextsOptions, ReadBlobs } from "./config-texts.js";
export { ENGINE_CONFIG_VERSION, canonicalJson, configId, configIdInput } from "./config-id.js";
export { DEFAULT_LINTERS, configOfShape, defaultFileConfig, fileLintConfig, fileShape, isIgnored, jshintOptionsFor, shapeKey } from "./config.js";
export type { FileShape } from "./config.js";
export { DEFAULT_PLAN_BUDGET_MS, DEFAULT_PLAN_SLICE, PlanCache, planRepoLint, planRepoLintAsync } from "./plan.js";
export type { PlanOptions, PlannedFile, RepoLintPlan } from "./plan.js";
export { linterVersions, reportLinterVersions } from "./versions.js";
export type { LinterVersions } from "./versions.js";
export { LintEngine, eslintConfigFor, lintFile } from "./engine.js";
export { validateLintConfig } from "./validate.js";
export type { LintEngineOptions, LintProgress } from "./engine.js";
export { runJshint } from "./jshint.js";
export { DEFAULT_FILE_TIMEOUT_MS, LintPool } from "./pool.js";
export type { LintPoolOptions, LintPoolStats } from "./pool.js";
