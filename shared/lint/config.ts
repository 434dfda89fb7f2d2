/**
 * Effective lint config of each file and its content-address, the config id.
 * (blob, config id) is the result cache key: everything that can change a
 * file's messages besides its content must be in the id.
 */
import { NotLintableError } from "./errors.js";
import { compileGlobs, type GlobMatcher } from "./glob.js";
import { loadRepoSettings, nearestJshintrcDir, normaliseLinters } from "./settings.js";
import type { RepoLintSettings } from "./settings.js";
import { dirOf, fileKind, sourceTypeOf, type FileKind } from "./source-type.js";
import type { FileLintConfig, JshintOptions, LinterName, RuleOverrides, SourceType } from "./types.js";

/** Rules of this plugin exist only in TypeScript configs; JS files drop their overrides. */
const TS_ONLY_RULE_PREFIX = "@typescript-eslint/";

/** Linters when `.farm.json` does not say: ESLint, plus JSHint where a `.jshintrc` applies. */
export const DEFAULT_LINTERS: readonly LinterName[] = ["eslint"];

/** True when the settings' ignores exclude the path. */
export function isIgnored(path: string, settings: Pick<RepoLintSettings, "ignoreMatcher">): boolean {
  return settings.ignoreMatcher.matches(path);
}

/**
 * What decides one file's effective config besides the commit-wide settings.
 * Files with equal shapes have equal configs: a commit has thousands of files
 * and a handful of shapes, so configs are built (and hashed) once per shape.
 */
export interface FileShape {
  kind: FileKind;
  linters: LinterName[];
  sourceType: SourceType;
  /** Directory of the `.jshintrc` that applies, when JSHint runs on the file. */
  jshintrcDir: string | null;
  /** JSHint "overrides" patterns that match the file, in merge order (when JSHint runs). */
  overrides: string[];
  /** The `.eslintrc` cascade and overrides that apply (EslintrcSettings.match), or null: farm's default ESLint config. */
  eslintrc: string | null;
  /** Farm's default extra globals sets (test framework, browser) when no `.eslintrc` applies. */
  extraGlobals: string[];
}

/** Test files by farm's defaults: under test/, tests/, __tests__/, or named *.test.* / *.spec.*. */
const TEST_FILE = /(^|\/)(test|tests|__tests__)\/|\.(test|spec)\.[^/]*$/;

/**
 * Farm's default extra globals for a file no ESLint config governs: a test
 * file gets the globals of the test frameworks of the nearest package.json
 * that depends on one; a file of a browser package (nearest package.json)
 * gets the browser's.
 */
export function defaultExtraGlobals(path: string, packages: RepoLintSettings["packages"]): string[] {
  const out: string[] = [];
  let nearest = true;
  let tests = TEST_FILE.test(path);
  for (let dir = dirOf(path); ; dir = dirOf(dir)) {
    const facts = packages.get(dir);
    if (facts) {
      if (nearest && facts.browser) out.push("browser");
      nearest = false;
      if (tests && facts.testGlobals.length > 0) {
        out.push(...facts.testGlobals);
        tests = false;
      }
    }
    if (dir === "") break;
  }
  return out.sort();
}

/** The file's shape, or null when it is not lintable (extension) or ignored. */
export function fileShape(path: string, settings: RepoLintSettings): FileShape | null {
  const kind = fileKind(path);
  if (!kind || isIgnored(path, settings)) return null;

  const jshintrcDir = nearestJshintrcDir(path, settings.jshintrcs);
  let linters = settings.linters ?? (jshintrcDir !== null ? [...DEFAULT_LINTERS, "jshint"] : [...DEFAULT_LINTERS]);
  if (kind.language === "ts" || kind.jsx) linters = linters.filter((l) => l !== "jshint");
  // .eslintignore, ignorePatterns and ESLint 8's default ignores concern ESLint only.
  const rc = settings.eslintrc.any ? settings.eslintrc.match(path) : { key: null, ignored: false };
  if (rc.ignored) linters = linters.filter((l) => l !== "eslint");
  linters = normaliseLinters(linters);
  if (rc.ignored && linters.length === 0) return null;
  const eslint = linters.includes("eslint");

  const jshint = linters.includes("jshint");
  const jshintrc = jshintrcDir === null ? {} : settings.jshintrcs.get(jshintrcDir)!;
  const overrides = jshint ? overridePatterns(jshintrc, settings.farmJshint).filter((p) => matcherOf(p, settings.overrideMatchers).matches(path)) : [];
  return {
    kind,
    linters,
    sourceType: sourceTypeOf(path, settings.packageTypes),
    jshintrcDir: jshint ? jshintrcDir : null,
    overrides,
    eslintrc: eslint ? rc.key : null,
    extraGlobals: eslint && rc.key === null ? defaultExtraGlobals(path, settings.packages) : [],
  };
}

/** A string equal for equal shapes (the memo key of planning). */
export function shapeKey(shape: FileShape): string {
  const { kind, linters, sourceType, jshintrcDir, overrides, eslintrc, extraGlobals } = shape;
  return JSON.stringify([kind.language, kind.jsx, linters, sourceType, jshintrcDir, overrides, eslintrc, extraGlobals]);
}

/** The effective config of a shape. JSHint never runs on TypeScript or JSX (it cannot parse them). */
export function configOfShape(shape: FileShape, settings: RepoLintSettings): FileLintConfig {
  const { kind, linters } = shape;
  const jshintrc = shape.jshintrcDir === null ? {} : (settings.jshintrcs.get(shape.jshintrcDir) ?? {});
  const matched = new Set(shape.overrides);
  const config: FileLintConfig = {
    linters,
    language: kind.language,
    jsx: kind.jsx,
    sourceType: shape.sourceType,
    rules: linters.includes("eslint") ? rulesFor(kind.language, settings.rules) : {},
    jshint: linters.includes("jshint") ? mergeJshint(jshintrc, settings.farmJshint, (p) => matched.has(p)) : {},
    globals: "node",
  };
  // Only when set: configs without them keep the ids they always had.
  if (shape.extraGlobals.length > 0) config.extraGlobals = shape.extraGlobals;
  if (shape.eslintrc !== null) config.eslintrc = settings.eslintrc.effective(shape.eslintrc, kind.language);
  return config;
}

/** Effective config of one file, or null when it is not lintable (extension) or ignored. */
export function fileLintConfig(path: string, settings: RepoLintSettings): FileLintConfig | null {
  const shape = fileShape(path, settings);
  return shape && configOfShape(shape, settings);
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
  const config = fileLintConfig(path, { ...settings, ignores: [], ignoreMatcher: compileGlobs([]) });
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
 * `matchers`: compiled patterns (RepoLintSettings.overrideMatchers); others are compiled here.
 */
export function jshintOptionsFor(path: string, jshintrc: JshintOptions, farm: JshintOptions, matchers: Map<string, GlobMatcher> = new Map()): JshintOptions {
  return mergeJshint(jshintrc, farm, (p) => matcherOf(p, matchers).matches(path));
}

/** Override patterns in the order they apply: the `.jshintrc`'s, then `.farm.json`'s (same pattern: `.farm.json`'s options). */
function overridePatterns(jshintrc: JshintOptions, farm: JshintOptions): string[] {
  return Object.keys({ ...asObject(jshintrc.overrides), ...asObject(farm.overrides) });
}

function matcherOf(pattern: string, matchers: Map<string, GlobMatcher>): GlobMatcher {
  let m = matchers.get(pattern);
  if (!m) matchers.set(pattern, (m = compileGlobs([pattern], { nocase: true })));
  return m;
}

function mergeJshint(jshintrc: JshintOptions, farm: JshintOptions, applies: (pattern: string) => boolean): JshintOptions {
  const merged: JshintOptions = { ...jshintrc, ...farm };
  const globals: Record<string, unknown> = { ...asObject(jshintrc.globals), ...asObject(farm.globals) };
  const overrides = { ...asObject(jshintrc.overrides), ...asObject(farm.overrides) };
  for (const key of ["overrides", "extends", "prereq", "dirname", "globals"]) delete merged[key];

  for (const [pattern, value] of Object.entries(overrides)) {
    if (!applies(pattern)) continue;
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
