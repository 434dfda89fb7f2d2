/**
 * Repo lint settings from JSON files of the commit being linted: `.farm.json`
 * (root only) and `.jshintrc` (nearest ancestor of each file, as JSHint's CLI
 * looks it up). Repo JavaScript configs (eslint.config.js …) are code and are
 * never executed: they are only detected, to say so in the plan's notes.
 */
import { createHash } from "node:crypto";
import { FARM_JSON, JSHINTRC } from "./file-names.js";
import { posix } from "node:path";
import { LintUnsupportedError, RepoConfigError } from "./errors.js";
import { compileGlobs, globProblem, type GlobMatcher } from "./glob.js";
import { isPlainObject, parseRepoJson } from "./jsonc.js";
import { EslintrcSettings, ESLINTIGNORE, ESLINTRC_DATA } from "./eslintrc.js";
import { dirOf, packageTypes } from "./source-type.js";
import { linterVersions } from "./versions.js";
import { LINTER_NAMES } from "./types.js";
import type { JshintOptions, LinterName, RuleOverrides } from "./types.js";

export { FARM_JSON, JSHINTRC };

/** Always ignored, like ESLint's own defaults; a repo can re-include with `!node_modules/`. */
export const DEFAULT_IGNORES: readonly string[] = ["node_modules/"];

/** Repo ESLint configs that are JavaScript (or TypeScript) code: never run unless trusted. */
const ESLINT_CODE_CONFIG = /^eslint\.config\.(js|mjs|cjs|ts|mts|cts)$/;
/** Every repo ESLint config that is code, flat or legacy: never run, and part of the settings key (its presence decides). */
const ANY_CODE_CONFIG = /^(eslint\.config\.(js|mjs|cjs|ts|mts|cts)|\.eslintrc\.(js|cjs))$/;

/** `.farm.json`, validated. */
export interface FarmJson {
  ignores: string[];
  /** null when the file does not say: then each file gets the default (see fileLintConfig). */
  linters: LinterName[] | null;
  /** ESLint rule overrides, severities normalised to 0/1/2. */
  rules: RuleOverrides;
  /** JSHint options laid over the nearest `.jshintrc`. */
  jshint: JshintOptions;
  /** Top-level keys we do not know (kept out of the config, reported in notes). */
  unknownKeys: string[];
}

// "gate" is the check run's quality gate, no lint setting: the pipeline reads it (shared/pipeline/gate.ts).
const FARM_KEYS = new Set(["ignores", "linters", "rules", "jshint", "gate"]);

/** Parses and validates `.farm.json` content. Throws RepoConfigError. */
export function parseFarmJson(text: string, file = FARM_JSON): FarmJson {
  const raw = parseRepoJson(text, file);
  if (!isPlainObject(raw)) throw new RepoConfigError("must be a JSON object", file);

  const ignores = raw.ignores ?? [];
  if (!Array.isArray(ignores) || !ignores.every((g) => typeof g === "string")) {
    throw new RepoConfigError(`"ignores" must be an array of glob strings`, file);
  }
  checkGlobs(ignores, "ignores", file);

  let linters: LinterName[] | null = null;
  if (raw.linters !== undefined) {
    if (!Array.isArray(raw.linters)) throw new RepoConfigError(`"linters" must be an array`, file);
    for (const l of raw.linters) {
      if (!(LINTER_NAMES as readonly unknown[]).includes(l)) {
        throw new RepoConfigError(`unknown linter ${JSON.stringify(l)} (known: ${LINTER_NAMES.join(", ")})`, file);
      }
    }
    linters = normaliseLinters(raw.linters as LinterName[]);
  }

  const rules = raw.rules ?? {};
  if (!isPlainObject(rules)) throw new RepoConfigError(`"rules" must be an object of ESLint rule settings`, file);

  const jshint = raw.jshint ?? {};
  if (!isPlainObject(jshint)) throw new RepoConfigError(`"jshint" must be an object of JSHint options`, file);

  return {
    ignores: ignores,
    linters,
    rules: normaliseRules(rules, file),
    jshint,
    unknownKeys: Object.keys(raw).filter((k) => !FARM_KEYS.has(k)),
  };
}

/** A malformed glob is this commit's configuration error, said at once (it would never match what was meant). */
function checkGlobs(patterns: Iterable<string>, what: string, file: string): void {
  for (const pattern of patterns) {
    const problem = globProblem(pattern);
    if (problem) throw new RepoConfigError(`invalid ${what} pattern ${JSON.stringify(pattern)}: ${problem}`, file);
  }
}

/** Parses `.jshintrc` content (JSON with comments). Throws RepoConfigError. */
export function parseJshintrc(text: string, file = JSHINTRC): JshintOptions {
  const raw = parseRepoJson(text, file, { comments: true });
  if (!isPlainObject(raw)) throw new RepoConfigError("must be a JSON object of JSHint options", file);
  return raw;
}

/** Deduplicates and orders linters so equal sets give equal config ids. */
export function normaliseLinters(linters: Iterable<LinterName>): LinterName[] {
  const set = new Set(linters);
  return LINTER_NAMES.filter((l) => set.has(l));
}

const SEVERITY: Record<string, 0 | 1 | 2> = { off: 0, warn: 1, error: 2, "0": 0, "1": 1, "2": 2 };

/**
 * Checks the shape of rule settings and writes severities as numbers ("error" and 2
 * mean the same to ESLint; one spelling keeps config ids equal). Whether a rule
 * exists and its options are valid is ESLint's call, made when the engine builds
 * the config (also a RepoConfigError).
 */
export function normaliseRules(rules: Record<string, unknown>, file = FARM_JSON): RuleOverrides {
  const out: RuleOverrides = {};
  for (const [name, value] of Object.entries(rules)) {
    const [sev, ...options] = (Array.isArray(value) ? value : [value]) as unknown[];
    const n = typeof sev === "string" || typeof sev === "number" ? SEVERITY[String(sev)] : undefined;
    if (n === undefined || (Array.isArray(value) && value.length === 0)) {
      throw new RepoConfigError(`rule ${JSON.stringify(name)}: severity must be "off", "warn", "error", 0, 1 or 2 (got ${JSON.stringify(value)})`, file);
    }
    out[name] = options.length > 0 ? [n, ...options] : n;
  }
  return out;
}

/** Input for {@link loadRepoSettings}: one commit's tree and the config files' contents. */
export interface RepoSettingsInput {
  /** Every path of the commit's tree (repo-relative, POSIX). */
  paths: readonly string[];
  /**
   * Contents of the files {@link repoConfigPaths} lists (path → text). A listed
   * file whose content is missing is a caller bug (TypeError), not a repo error.
   */
  contents: ReadonlyMap<string, string> | Readonly<Record<string, string>>;
  /**
   * Paths of the tree that are not regular files, with what they are (e.g.
   * "a symbolic link", see shared/lint/lintable.ts `entryKind`). Such a path is never
   * read as configuration, whatever its name: a link's content is its target's
   * name, not the target's JSON. A note says so. Default: none.
   */
  notRegular?: ReadonlyMap<string, string>;
  /**
   * Run the repo's own JavaScript ESLint config. Default false, and true is not
   * implemented (throws LintUnsupportedError when the repo has such a config):
   * repo configs are code and only an operator may decide to run them.
   */
  trustRepoConfig?: boolean;
}

/** A commit's lint settings, ready to derive each file's effective config. */
export interface RepoLintSettings {
  /** DEFAULT_IGNORES followed by `.farm.json` "ignores" (gitignore semantics, last match wins). */
  ignores: string[];
  /** `ignores`, compiled once (case-sensitive, as git on Linux). */
  ignoreMatcher: GlobMatcher;
  /** JSHint "overrides" patterns of `.jshintrc`s and `.farm.json`, each compiled once (case-insensitive, as JSHint's CLI). */
  overrideMatchers: Map<string, GlobMatcher>;
  /** `.farm.json` "linters", or null for the default. */
  linters: LinterName[] | null;
  rules: RuleOverrides;
  /** `.farm.json` "jshint". */
  farmJshint: JshintOptions;
  /** Parsed `.jshintrc` files keyed by directory ("" = root); empty when JSHint cannot be on. */
  jshintrcs: Map<string, JshintOptions>;
  /** package.json "type" by directory, for sourceType. */
  packageTypes: Map<string, string | undefined>;
  /** The repo's legacy ESLint configuration (`.eslintrc*`, `.eslintignore`), read as data. */
  eslintrc: EslintrcSettings;
  /** What farm's defaults take from each package.json (by directory) for files no ESLint config governs. */
  packages: Map<string, PackageFacts>;
  /** Things a person may want to know: ignored JS configs, unknown keys, unsupported options. */
  notes: string[];
}

/** A package.json's facts for farm's defaults. */
export interface PackageFacts {
  /** `globals` sets of the test frameworks it depends on (dependencies or devDependencies). */
  testGlobals: string[];
  /** It is clearly for the browser: a "browser" field, or a dependency on a browser UI framework. */
  browser: boolean;
}

/** Test framework packages and the `globals` set of their globals (node:test needs none: it is imported). */
const TEST_FRAMEWORKS: Record<string, string> = { mocha: "mocha", jest: "jest", vitest: "vitest", jasmine: "jasmine", "jasmine-core": "jasmine" };
/** Dependencies that make a package clearly a browser one. */
const BROWSER_DEPS = ["react", "react-dom", "preact", "vue", "svelte", "@angular/core", "solid-js", "lit"];

/** What {@link PackageFacts} a package.json's text gives (an unreadable one: none). */
export function packageFacts(text: string): PackageFacts {
  let pkg: unknown;
  try {
    pkg = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch {
    return { testGlobals: [], browser: false };
  }
  if (!isPlainObject(pkg)) return { testGlobals: [], browser: false };
  const deps = new Set<string>();
  for (const key of ["dependencies", "devDependencies"]) if (isPlainObject(pkg[key])) for (const d of Object.keys(pkg[key])) deps.add(d);
  const testGlobals = [
    ...new Set(
      Object.keys(TEST_FRAMEWORKS)
        .filter((d) => deps.has(d))
        .map((d) => TEST_FRAMEWORKS[d]),
    ),
  ].sort();
  const browser = pkg.browser !== undefined || BROWSER_DEPS.some((d) => deps.has(d));
  return { testGlobals, browser };
}

/** True for the paths that configure linting: root `.farm.json` and `.eslintignore`, any `.jshintrc`, `.eslintrc` data file and package.json. */
function isConfigPath(p: string): boolean {
  const base = posix.basename(p);
  return p === FARM_JSON || p === ESLINTIGNORE || base === JSHINTRC || base === "package.json" || ESLINTRC_DATA.includes(base);
}

/** The tree paths whose contents {@link loadRepoSettings} needs (regular files only: see `notRegular`). */
export function repoConfigPaths(paths: readonly string[], notRegular?: ReadonlyMap<string, string>): string[] {
  return paths.filter((p) => isConfigPath(p) && !notRegular?.has(p));
}

/**
 * A hash of everything {@link loadRepoSettings} reads of `input`: commits
 * with the same key have the same settings (a history's commits mostly do).
 */
export function settingsKey(input: RepoSettingsInput): string {
  const h = createHash("sha256");
  h.update(input.trustRepoConfig ? "trusted\0" : "\0");
  for (const [p, text] of input.contents instanceof Map ? input.contents : Object.entries(input.contents)) h.update(`c\0${p}\0${text}\0`);
  for (const [p, kind] of input.notRegular ?? []) if (isConfigPath(p)) h.update(`n\0${p}\0${kind}\0`);
  for (const p of input.paths) if (ANY_CODE_CONFIG.test(posix.basename(p))) h.update(`j\0${p}\0`);
  return h.digest("hex");
}

/** Reads `.farm.json`, `.jshintrc`s and package.json types of one commit. Throws RepoConfigError. */
export function loadRepoSettings(input: RepoSettingsInput): RepoLintSettings {
  const get = contentGetter(input.contents);
  const notes: string[] = [];
  // Symbolic links (and submodules) are never configuration, exactly as they are never sources.
  const notRegular = input.notRegular ?? new Map<string, string>();
  const skipped = new Set([...notRegular.keys()].filter(isConfigPath));
  const paths = skipped.size > 0 ? input.paths.filter((p) => !skipped.has(p)) : input.paths;
  for (const p of skipped) notes.push(`${p} is ${notRegular.get(p)}: not used as configuration`);

  const anyCode = paths.filter((p) => ANY_CODE_CONFIG.test(posix.basename(p)));
  if (anyCode.length > 0 && input.trustRepoConfig) {
    throw new LintUnsupportedError(`trusted repo ESLint configs are not implemented (${anyCode.join(", ")})`);
  }
  const codeConfigs = paths.filter((p) => ESLINT_CODE_CONFIG.test(posix.basename(p)));
  // Flat configs are JavaScript: farm does not read them, even a "static" one (see docs/linting.md).
  if (codeConfigs.length > 0) notes.push(`not executed (repo JavaScript configs are code): ${codeConfigs.join(", ")}`);
  const eslintrc = new EslintrcSettings(paths, get, linterVersions().eslint);
  notes.push(...eslintrc.notes);

  const farm: FarmJson = paths.includes(FARM_JSON)
    ? parseFarmJson(get(FARM_JSON), FARM_JSON)
    : { ignores: [], linters: null, rules: {}, jshint: {}, unknownKeys: [] };
  if (farm.unknownKeys.length > 0) notes.push(`${FARM_JSON}: unknown keys ignored: ${farm.unknownKeys.join(", ")}`);

  // A .jshintrc matters only if JSHint can run; a broken one must not fail a repo that turned JSHint off.
  const jshintrcs = new Map<string, JshintOptions>();
  const overrideMatchers = new Map<string, GlobMatcher>();
  const compileOverrides = (options: JshintOptions, file: string) => {
    const patterns = Object.keys(isPlainObject(options.overrides) ? options.overrides : {});
    checkGlobs(patterns, "overrides", file);
    for (const p of patterns) if (!overrideMatchers.has(p)) overrideMatchers.set(p, compileGlobs([p], { nocase: true }));
  };
  if (farm.linters === null || farm.linters.includes("jshint")) {
    compileOverrides(farm.jshint, FARM_JSON);
    for (const p of paths) {
      if (posix.basename(p) !== JSHINTRC) continue;
      const options = parseJshintrc(get(p), p);
      for (const key of ["extends", "prereq"]) {
        if (key in options) notes.push(`${p}: "${key}" is not supported and was ignored`);
      }
      compileOverrides(options, p);
      jshintrcs.set(dirOf(p), options);
    }
  }

  const pkgs = paths.filter((p) => posix.basename(p) === "package.json").map((p) => [p, get(p)] as const);

  const ignores = [...DEFAULT_IGNORES, ...farm.ignores];
  return {
    ignores,
    ignoreMatcher: compileGlobs(ignores),
    overrideMatchers,
    linters: farm.linters,
    rules: farm.rules,
    farmJshint: farm.jshint,
    jshintrcs,
    packageTypes: packageTypes(pkgs),
    eslintrc,
    packages: new Map(pkgs.map(([p, text]) => [dirOf(p), packageFacts(text)])),
    notes,
  };
}

/** The `.jshintrc` options that apply to a path (nearest ancestor directory), or null. */
export function nearestJshintrc(path: string, jshintrcs: ReadonlyMap<string, JshintOptions>): JshintOptions | null {
  const dir = nearestJshintrcDir(path, jshintrcs);
  return dir === null ? null : jshintrcs.get(dir)!;
}

/** The directory of the `.jshintrc` that applies to a path ("" = root), or null. */
export function nearestJshintrcDir(path: string, jshintrcs: ReadonlyMap<string, JshintOptions>): string | null {
  for (let dir = dirOf(path); ; dir = dirOf(dir)) {
    if (jshintrcs.has(dir)) return dir;
    if (dir === "") return null;
  }
}

function contentGetter(contents: RepoSettingsInput["contents"]): (path: string) => string {
  const lookup =
    contents instanceof Map
      ? (p: string): unknown => contents.get(p)
      : (p: string) => (Object.hasOwn(contents, p) ? (contents as Record<string, string>)[p] : undefined);
  return (path) => {
    const text = lookup(path);
    if (typeof text !== "string") throw new TypeError(`content of ${path} was not provided (see repoConfigPaths)`);
    return text;
  };
}
