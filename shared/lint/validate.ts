/**
 * Validates an effective config's ESLint rule settings without linting a
 * file: the rule ids must exist (ESLint's built-in rules plus the rules of the
 * plugins the config carries, e.g. typescript-eslint's for TS) and their
 * options must satisfy each rule's `meta.schema`, which ESLint's own Linter
 * checks when it runs a config on empty input. An invalid config is the
 * commit's configuration error, never a lint result of every file.
 */
import type { ESLint, Linter } from "eslint";
import { builtinRules, eslintApi } from "./eslint-api.js";
import { eslintConfigFor, LINT_FILES, probePath } from "./engine.js";
import { RepoConfigError } from "./errors.js";
import { FARM_JSON } from "./settings.js";
import type { FileLintConfig } from "./types.js";
import { tsEslint } from "./typescript-eslint.js";

/** Where ESLint believes the probe lives; never read from disk. */
const CWD = "/farm-lint";
let linter: Linter | undefined;

/** Throws RepoConfigError (naming `.farm.json`, where rule settings come from) when the config's rules are invalid. */
export function validateLintConfig(config: FileLintConfig): void {
  if (!config.linters.includes("eslint")) return;
  const blocks = config.eslintrc ? eslintConfigFor(config) : overridesOnly(config);
  // farm's own default config is valid by construction: nothing of the repository's to check.
  if (blocks.length === 0) return;

  const known = new Set(builtinRules().keys());
  for (const block of blocks) {
    for (const [ns, plugin] of Object.entries(block.plugins ?? {})) {
      for (const name of Object.keys(plugin.rules ?? {})) known.add(`${ns}/${name}`);
    }
  }
  const unknown = Object.keys(config.rules).filter((id) => !known.has(id));
  if (unknown.length > 0) {
    const list = unknown.map((id) => JSON.stringify(id)).join(", ");
    throw new RepoConfigError(`unknown ESLint rule${unknown.length > 1 ? "s" : ""} ${list} in "rules"`, FARM_JSON);
  }

  linter ??= new (eslintApi().Linter)({ configType: "flat", cwd: CWD });
  try {
    // ESLint 10 throws for invalid rule options (schema), and for anything else wrong with the config.
    linter.verify("", blocks, { filename: `${CWD}/${probePath(config)}` });
  } catch (err) {
    throw new RepoConfigError(describe((err as Error).message), FARM_JSON, { cause: err });
  }
}

/**
 * Without a repository eslintrc, what the repository adds to farm's default is
 * its rule overrides only: they are checked on their own (with the plugin a
 * TypeScript file's rules come from), not farm's whole recommended config,
 * whose schemas cost ESLint a third of a second to compile.
 */
function overridesOnly(config: FileLintConfig): Linter.Config[] {
  if (Object.keys(config.rules).length === 0) return [];
  const plugins: Record<string, ESLint.Plugin> = config.language === "ts" ? { "@typescript-eslint": tsEslint().plugin } : {};
  return [{ files: LINT_FILES, plugins, rules: config.rules }];
}

/** Longest reason kept: ESLint repeats the options (defaults merged in) once per failed sub-schema. */
const MAX_DETAIL = 1000;

/** ESLint's multi-line message as one line, naming the rule when ESLint's `Key "rules": Key "<id>":` prefix says which. */
function describe(message: string): string {
  const text = message.replace(/\s+/g, " ").trim();
  const rule = /^Key "rules": Key "([^"]+)": (.*)$/.exec(text);
  const [what, detail] = rule ? [`invalid options for rule ${JSON.stringify(rule[1])}`, rule[2]] : ["invalid rule settings", text];
  return `${what}: ${detail.length > MAX_DETAIL ? `${detail.slice(0, MAX_DETAIL)}…` : detail}`;
}
