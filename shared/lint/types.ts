/**
 * Plain data types of the lint engine. Everything here is structured-clone and
 * JSON safe: it crosses worker threads, NATS payloads and the result cache.
 */

export const LINTER_NAMES = ["eslint", "jshint"] as const;
export type LinterName = (typeof LINTER_NAMES)[number];

/** "ts" turns on typescript-eslint; jsx is tracked separately (see FileLintConfig). */
export type Language = "js" | "ts";

/** Node's module kinds; ESLint's `languageOptions.sourceType` takes these names as-is. */
export type SourceType = "module" | "commonjs";

/** The only globals set for now; named so a later choice changes the config id. */
export type GlobalsSetName = "node";

/** One finding, in the farm report shape. */
export interface LintMessage {
  linter: LinterName;
  /** null for parse errors, timeouts and ESLint's directive reports. */
  ruleId: string | null;
  /** 1 = warning, 2 = error (severity 0 never reaches a report). */
  severity: 1 | 2;
  line: number;
  column: number;
  endLine?: number;
  endColumn?: number;
  message: string;
  /** The linter could not finish this file (parse error, time limit, crash). */
  fatal?: true;
}

/** ESLint rule setting as written in `.farm.json` "rules". */
export type RuleSeverity = 0 | 1 | 2 | "off" | "warn" | "error";
export type RuleEntry = RuleSeverity | [RuleSeverity, ...unknown[]];
export type RuleOverrides = Record<string, RuleEntry>;

/**
 * JSHint options as found in `.jshintrc` (or `.farm.json` "jshint"). `globals`
 * is split out before calling JSHINT, like the JSHint CLI does.
 */
export type JshintOptions = Record<string, unknown>;

/**
 * Everything that decides the messages of one file besides its content and
 * path. Its canonical JSON plus the linter versions is hashed into the config id.
 */
export interface FileLintConfig {
  /** Enabled linters, deduplicated, always in LINTER_NAMES order. */
  linters: LinterName[];
  language: Language;
  /** `.jsx` / `.tsx`: the parser must accept JSX. */
  jsx: boolean;
  sourceType: SourceType;
  /** ESLint rule overrides that apply to this language (TS-only rules are dropped for JS). */
  rules: RuleOverrides;
  /** Effective JSHint options (empty when JSHint is off). */
  jshint: JshintOptions;
  globals: GlobalsSetName;
  /**
   * Sets of the `globals` package added to `globals` by farm's defaults for a file no
   * ESLint config governs (a test framework's, "browser"): absent when none, so the
   * config ids of other files stay as they were.
   */
  extraGlobals?: string[];
  /** The repository's own legacy ESLint config, translated (shared/lint/eslintrc.ts): replaces farm's default ESLint config. */
  eslintrc?: EslintrcEffective;
}

/** A file's legacy ESLint configuration (`.eslintrc*`) after cascade, overrides and extends, in ESLint 8's terms. */
export interface EslintrcEffective {
  /** `globals` package sets of the enabled environments ("es5" always, as ESLint 8's builtin environment). */
  envGlobals: string[];
  /** `globals` of the configs. */
  globals: Record<string, "readonly" | "writable" | "off">;
  /** ESLint 8's default is 5 (or what an `esXXXX` environment implies). */
  ecmaVersion: number | "latest";
  /** ESLint 8's default is "script", whatever package.json or the extension say. */
  sourceType: "script" | "module" | "commonjs";
  ecmaFeatures: { jsx: boolean; globalReturn: boolean; impliedStrict: boolean };
  /** Every rule setting, `extends` included (no implicit eslint:recommended), only rules farm can run. */
  rules: RuleOverrides;
}

/** One file to lint. */
export interface LintTask {
  /** Repo-relative POSIX path; decides which ESLint config blocks match. */
  path: string;
  content: string;
  config: FileLintConfig;
}

/** The messages of one file, in the order linters ran (ESLint first). */
export interface LintFileResult {
  path: string;
  messages: LintMessage[];
  /** Wall time spent on the file, for stats. */
  durationMs: number;
}
