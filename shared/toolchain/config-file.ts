/**
 * Which config file ESLint would load at the root of a commit: a flat config
 * first (`eslint.config.*`, as ESLint ≥ 9 looks for it), else the legacy
 * eslintrc one ESLint 8 would use at the root (package.json only when it has
 * an "eslintConfig" object).
 */
import { ESLINTRC_ORDER } from "../lint/extends.js";
import type { Manifest } from "./manifest.js";
import { PACKAGE_JSON } from "./manifest.js";
import type { TreeFiles } from "./tree-files.js";
import type { ConfigFormat } from "./types.js";

/** ESLint's lookup order for a flat config. */
export const FLAT_CONFIG_FILES: readonly string[] = [
  "eslint.config.js",
  "eslint.config.mjs",
  "eslint.config.cjs",
  "eslint.config.ts",
  "eslint.config.mts",
  "eslint.config.cts",
];

export interface ConfigFile {
  file: string;
  format: ConfigFormat;
}

/** The root config ESLint would load, or null when the commit has none. */
export function findConfigFile(files: TreeFiles, manifest: Manifest): ConfigFile | null {
  for (const file of FLAT_CONFIG_FILES) if (files.has(file)) return { file, format: "flat" };
  for (const file of ESLINTRC_ORDER) {
    if (!files.has(file)) continue;
    if (file === PACKAGE_JSON && manifest.eslintConfig === undefined) continue;
    return { file, format: "eslintrc" };
  }
  return null;
}
