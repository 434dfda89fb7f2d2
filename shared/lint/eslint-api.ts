/**
 * ESLint's API and the packages beside it (its own configs, the `globals`
 * sets), loaded when first used (a fifth of a second of module loading): lint
 * threads load them to lint; the main thread only when a repository's eslintrc
 * or rule overrides are checked.
 */
import { createRequire } from "node:module";

type Api = typeof import("eslint");
type Unsafe = typeof import("eslint/use-at-your-own-risk");
type EslintJs = typeof import("@eslint/js");
type Globals = typeof import("globals");

const load = createRequire(import.meta.url);
let api: Api | undefined;
let unsafe: Unsafe | undefined;
let eslintJs: EslintJs | undefined;
let globals: Globals | undefined;

/**
 * What a lint thread imports statically, handed over so that nothing is
 * loaded again: imported, they are in the thread's bundle (build.mjs) and load
 * with it, not as ESLint's few hundred files.
 */
export function provideEslint(loaded: { api: Api; eslintJs: EslintJs; globals: Globals }): void {
  ({ api, eslintJs, globals } = loaded);
}

/** ESLint's main module (ESLint, Linter). A CommonJS package: required synchronously, where it is needed. */
export function eslintApi(): Api {
  return (api ??= load("eslint") as Api);
}

/** ESLint's built-in rules by id. */
export function builtinRules(): Unsafe["builtinRules"] {
  return (unsafe ??= load("eslint/use-at-your-own-risk") as Unsafe).builtinRules;
}

/** ESLint's own configs (`recommended`, `all`): @eslint/js. */
export function eslintConfigs(): EslintJs["configs"] {
  return (eslintJs ??= load("@eslint/js") as EslintJs).configs;
}

/** The `globals` package's sets by name. */
export function globalsSets(): Globals {
  return (globals ??= load("globals") as Globals);
}
