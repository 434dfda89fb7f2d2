/**
 * ESLint's API, loaded when first used (a fifth of a second of module
 * loading): lint threads load it to lint; the main thread only when a
 * repository's eslintrc or rule overrides are checked.
 */
import { createRequire } from "node:module";

type Api = typeof import("eslint");
type Unsafe = typeof import("eslint/use-at-your-own-risk");

const load = createRequire(import.meta.url);
let api: Api | undefined;
let unsafe: Unsafe | undefined;

/** ESLint's main module (ESLint, Linter). A CommonJS package: required synchronously, where it is needed. */
export function eslintApi(): Api {
  return (api ??= load("eslint") as Api);
}

/** ESLint's built-in rules by id. */
export function builtinRules(): Unsafe["builtinRules"] {
  return (unsafe ??= load("eslint/use-at-your-own-risk") as Unsafe).builtinRules;
}
