/**
 * typescript-eslint, loaded the first time a TypeScript config needs it: it
 * brings the TypeScript compiler (about a second of module loading on the
 * main thread and in every lint thread), which a repository without
 * TypeScript never uses.
 */
import { createRequire } from "node:module";

export type TsEslint = typeof import("typescript-eslint");

let loaded: TsEslint | undefined;

export function tsEslint(): TsEslint {
  // A CommonJS package: require gives it synchronously, so the configs built from it stay synchronous.
  return (loaded ??= createRequire(import.meta.url)("typescript-eslint") as TsEslint);
}
