/**
 * Effective lint config of each file and its content-address, the config id.
 * (blob, config id) is the result cache key: everything that can change a
 * file's messages besides its content must be in the id.
 */
import { createHash } from "node:crypto";
import { NotLintableError } from "./errors.js";
import { matchesAny } from "./glob.js";
import { loadRepoSettings, nearestJshintrc, normaliseLinters } from "./settings.js";
import type { RepoLintSettings, RepoSettingsInput } from "./settings.js";
import { fileKind, sourceTypeOf } from "./source-type.js";
import type { FileLintConfig, JshintOptions, LinterName, RuleOverrides } from "./types.js";
import { linterVersions } from "./versions.js";
import type { LinterVersions } from "./versions.js";

/**
 * Bumped whenever the engine maps a FileLintConfig to linter settings
 * differently (default blocks, message mapping): old cached results then miss.
 */
export const ENGINE_CONFIG_VERSION = 1;

/** Rules of this plugin exist only in TypeScript configs; JS files drop their overrides. */
const TS_ONLY_RULE_PREFIX = "@typescript-eslint/";

/** Linters when `.farm.json` does not say: ESLint, plus JSHint where a `.jshintrc` applies. */
export const DEFAULT_LINTERS: readonly LinterName[] = ["eslint"];

/** True when the settings' ignores exclude the path. */
export function isIgnored(path: string, settings: Pick<RepoLintSettings, "ignores">): boolean {
  return matchesAny(path, settings.ignores);
}

/**
 * Effective config of one file, or null when it is not lintable (extension)
 * or ignored. JSHint never runs on TypeScript or JSX (it cannot parse them).
 */
export function fileLintConfig(path: string, settings: RepoLintSettings): FileLintConfig | null {
  const kind = fileKind(path);
  if (!kind || isIgnored(path, settings)) return null;

  const jshintrc = nearestJshintrc(path, settings.jshintrcs);
  let linters = settings.linters ?? (jshintrc ? [...DEFAULT_LINTERS, "jshint"] : [...DEFAULT_LINTERS]);
  if (kind.language === "ts" || kind.jsx) linters = linters.filter((l) => l !== "jshint");
  linters = normaliseLinters(linters);

  return {
    linters,
    language: kind.language,
    jsx: kind.jsx,
    sourceType: sourceTypeOf(path, settings.packageTypes),
    rules: linters.includes("eslint") ? rulesFor(kind.language, settings.rules) : {},
    jshint: linters.includes("jshint") ? jshintOptionsFor(path, jshintrc ?? {}, settings.farmJshint) : {},
    globals: "node",
  };
}

/**
 * Config of a file linted without its repo (request-reply `lint.file`): the
 * default settings; `.js`/`.jsx`/`.ts`/`.tsx` are CommonJS unless `packageType`
 * says "module", as with a package.json without "type". Throws NotLintableError.
 */
export function defaultFileConfig(path: string, { packageType }: { packageType?: string } = {}): FileLintConfig {
  const settings = loadRepoSettings({ paths: [], contents: {} });
  if (packageType !== undefined) settings.packageTypes.set("", packageType);
  // Ignores do not apply to a file someone asked about explicitly.
  const config = fileLintConfig(path, { ...settings, ignores: [] });
  if (!config) throw new NotLintableError(path);
  return config;
}

function rulesFor(language: "js" | "ts", rules: RuleOverrides): RuleOverrides {
  if (language === "ts") return rules;
  // A JS config has no typescript-eslint plugin: its rules would be "not found" there.
  return Object.fromEntries(Object.entries(rules).filter(([name]) => !name.startsWith(TS_ONLY_RULE_PREFIX)));
}

/**
 * `.jshintrc` options with `.farm.json` "jshint" laid over them, then JSHint's
 * "overrides" (glob → options, matched case-insensitively on the repo path, as
 * the JSHint CLI does) applied. Keys JSHint's CLI handles itself are removed.
 */
export function jshintOptionsFor(path: string, jshintrc: JshintOptions, farm: JshintOptions): JshintOptions {
  const merged: JshintOptions = { ...jshintrc, ...farm };
  const globals: Record<string, unknown> = { ...asObject(jshintrc.globals), ...asObject(farm.globals) };
  const overrides = { ...asObject(jshintrc.overrides), ...asObject(farm.overrides) };
  for (const key of ["overrides", "extends", "prereq", "dirname", "globals"]) delete merged[key];

  for (const [pattern, value] of Object.entries(overrides)) {
    if (!matchesAny(path, [pattern], { nocase: true })) continue;
    const { globals: g, ...rest } = asObject(value);
    Object.assign(merged, rest);
    Object.assign(globals, asObject(g));
  }
  if (Object.keys(globals).length > 0) merged.globals = globals;
  return merged;
}

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/**
 * JSON with object keys sorted at every level (arrays keep their order), so
 * equal values always serialise to equal strings.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/**
 * The document hashed into a config id. Only versions of packages that can
 * touch this file are included: upgrading typescript-eslint must not
 * invalidate cached results of plain JS files, and JSHint's version matters
 * only where JSHint runs.
 */
export function configIdInput(config: FileLintConfig, versions: LinterVersions = linterVersions()): unknown {
  const linters: Record<string, Record<string, string>> = {};
  if (config.linters.includes("eslint")) {
    linters.eslint = { eslint: versions.eslint, "@eslint/js": versions["@eslint/js"] };
    if (config.language === "ts") {
      linters.eslint["typescript-eslint"] = versions["typescript-eslint"];
      linters.eslint.typescript = versions.typescript;
    }
  }
  if (config.linters.includes("jshint")) linters.jshint = { jshint: versions.jshint };
  return {
    engine: ENGINE_CONFIG_VERSION,
    linters,
    language: config.language,
    jsx: config.jsx,
    sourceType: config.sourceType,
    rules: config.rules,
    jshint: config.jshint,
    globals: { name: config.globals, version: versions.globals },
  };
}

/** Short content-address of an effective config: sha256 hex of its canonical JSON, first 16 chars. */
export function configId(config: FileLintConfig, versions: LinterVersions = linterVersions()): string {
  return createHash("sha256").update(canonicalJson(configIdInput(config, versions))).digest("hex").slice(0, 16);
}

/** One lintable file of a commit with its effective config. */
export interface PlannedFile {
  path: string;
  config: FileLintConfig;
  configId: string;
}

export interface RepoLintPlan {
  settings: RepoLintSettings;
  /** Lintable, not ignored files, in tree order. */
  files: PlannedFile[];
  /** Distinct configs by id (few per repo: ship them once, refer to them by id). */
  configs: Map<string, FileLintConfig>;
}

/**
 * Settings + effective config of every lintable file of one commit. Throws
 * RepoConfigError for invalid repo JSON. Memoises config ids: a repo has a
 * handful of distinct configs and thousands of files.
 */
export function planRepoLint(input: RepoSettingsInput, versions: LinterVersions = linterVersions()): RepoLintPlan {
  const settings = loadRepoSettings(input);
  const files: PlannedFile[] = [];
  const configs = new Map<string, FileLintConfig>();
  const idOf = new Map<string, string>();
  for (const path of input.paths) {
    const config = fileLintConfig(path, settings);
    if (!config) continue;
    const key = JSON.stringify(config); // same construction order → same string for equal configs
    let id = idOf.get(key);
    if (!id) {
      id = configId(config, versions);
      idOf.set(key, id);
      configs.set(id, config);
    }
    files.push({ path, config: configs.get(id)!, configId: id });
  }
  return { settings, files, configs };
}
