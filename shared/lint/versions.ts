/**
 * Versions of the installed linters and of every package that changes their
 * results. Read from the packages' own package.json files (not from our
 * manifest) so the config id follows what actually runs.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { LinterName } from "./types.js";

/** Everything whose version goes into a config id. */
export interface LinterVersions {
  eslint: string;
  "@eslint/js": string;
  "typescript-eslint": string;
  typescript: string;
  globals: string;
  jshint: string;
}

const PACKAGES: readonly (keyof LinterVersions)[] = ["eslint", "@eslint/js", "typescript-eslint", "typescript", "globals", "jshint"];

const require = createRequire(import.meta.url);
let cached: LinterVersions | undefined;

/** Installed versions (read once per process). */
export function linterVersions(): LinterVersions {
  if (!cached) {
    const out: Partial<Record<keyof LinterVersions, string>> = {};
    for (const name of PACKAGES) out[name] = packageVersion(name);
    cached = Object.freeze(out as LinterVersions);
  }
  return cached;
}

/**
 * The report's `linters: {name: version}` field for the linters a report used;
 * typescript-eslint is listed with eslint since it runs inside it.
 */
export function reportLinterVersions(linters: Iterable<LinterName> = ["eslint", "jshint"]): Record<string, string> {
  const v = linterVersions();
  const out: Record<string, string> = {};
  for (const name of new Set(linters)) {
    if (name === "eslint") {
      out.eslint = v.eslint;
      out["typescript-eslint"] = v["typescript-eslint"];
    } else {
      out.jshint = v.jshint;
    }
  }
  return out;
}

function packageVersion(name: string): string {
  let file: string;
  try {
    file = require.resolve(`${name}/package.json`);
  } catch {
    // Packages whose "exports" hide package.json: walk up from the main entry.
    file = findPackageJson(require.resolve(name), name);
  }
  const pkg = JSON.parse(readFileSync(file, "utf8")) as { version?: unknown };
  if (typeof pkg.version !== "string") throw new Error(`${file} has no version`);
  return pkg.version;
}

function findPackageJson(entry: string, name: string): string {
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, "package.json");
    try {
      const pkg = JSON.parse(readFileSync(candidate, "utf8")) as { name?: unknown };
      if (pkg.name === name) return candidate;
    } catch {
      // no package.json at this level
    }
  }
  throw new Error(`cannot find package.json of ${name}`);
}
