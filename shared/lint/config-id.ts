/**
 * A config's content-address, the config id: (blob, config id) is the result
 * cache key. Apart from config.ts (repository settings, eslintrc, YAML) so a
 * lint thread, which only names its configs, loads none of that.
 */
import { createHash } from "node:crypto";
import type { FileLintConfig } from "./types.js";
import { linterVersions, type LinterVersions } from "./versions.js";

/**
 * Bumped whenever the engine maps a FileLintConfig to linter settings
 * differently (default blocks, message mapping), or a cached result holds
 * something else (3: statement contexts, shared/pipeline/report.ts
 * RESULT_FORMAT): old cached results then miss.
 */
export const ENGINE_CONFIG_VERSION = 3;

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
    extraGlobals: config.extraGlobals,
    eslintrc: config.eslintrc,
  };
}

/** Short content-address of an effective config: sha256 hex of its canonical JSON, first 16 chars. */
export function configId(config: FileLintConfig, versions: LinterVersions = linterVersions()): string {
  return createHash("sha256")
    .update(canonicalJson(configIdInput(config, versions)))
    .digest("hex")
    .slice(0, 16);
}
