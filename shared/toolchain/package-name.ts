/**
 * Package names as a config writes them: module specifiers (`@scope/name/sub`,
 * `node:fs`, `./base.mjs`), ESLint's legacy shorthands (`standard`,
 * `plugin:n/recommended`), and the versions package.json and lockfiles give them.
 */
import { isBuiltin } from "node:module";

/** What a module specifier points at. */
export type Specifier = { kind: "package"; name: string } | { kind: "relative"; path: string } | { kind: "builtin" } | { kind: "unsupported"; why: string };

/** npm's rules for a name (old names may have capitals); at most 214 characters. */
const NAME = /^(?:@[a-z0-9~-][a-z0-9._~-]*\/)?[a-z0-9~-][a-z0-9._~-]*$/i;
const MAX_NAME = 214;

/** Whether `name` can be a package's name on the registry. */
export function isPackageName(name: string): boolean {
  return name.length <= MAX_NAME && NAME.test(name);
}

/** A specifier reduced to what it loads: a package (`@scope/name/sub` → `@scope/name`), a file of the tree, a builtin. */
export function classifySpecifier(spec: string): Specifier {
  if (spec.startsWith("node:") || isBuiltin(spec)) return { kind: "builtin" };
  if (spec === "." || spec === ".." || spec.startsWith("./") || spec.startsWith("../")) return { kind: "relative", path: spec };
  if (spec.startsWith("/")) return { kind: "unsupported", why: "an absolute path" };
  if (spec.startsWith("#")) return { kind: "unsupported", why: "a package.json import map entry" };
  if (spec.includes(":")) return { kind: "unsupported", why: "a URL" };
  const parts = spec.split("/");
  const name = spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
  return isPackageName(name) ? { kind: "package", name } : { kind: "unsupported", why: "not a package name" };
}

/**
 * ESLint's legacy naming (@eslint/eslintrc's normalizePackageName): `standard`
 * → `eslint-config-standard`, `@scope` → `@scope/eslint-config`, `@scope/x` →
 * `@scope/eslint-config-x`, with `prefix` "eslint-config" or "eslint-plugin".
 */
export function eslintPackageName(name: string, prefix: "eslint-config" | "eslint-plugin"): string {
  const n = name.replace(/\\/g, "/");
  if (n.startsWith("@")) {
    const shortcut = new RegExp(`^(@[^/]+)(?:/(?:${prefix})?)?$`);
    if (shortcut.test(n)) return n.replace(shortcut, `$1/${prefix}`);
    if (!new RegExp(`^${prefix}(-|$)`).test(n.split("/")[1])) return n.replace(/^@([^/]+)\/(.*)$/, `@$1/${prefix}-$2`);
    return n;
  }
  return n.startsWith(`${prefix}-`) ? n : `${prefix}-${n}`;
}

const EXACT = /^[=v]*(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$/;

/** The exact version a spec pins (`1.2.3`, `=1.2.3`, `v1.2.3`), or null for a range, a tag or anything else. */
export function exactVersion(spec: string): string | null {
  return EXACT.exec(spec.trim())?.[1] ?? null;
}

/**
 * A package.json spec of `name` the registry can resolve (a version, a range,
 * a tag; `npm:<name>@<range>` of the same name), or why not (a URL, a git
 * repository, a path, an alias of another package).
 */
export function registrySpec(name: string, spec: string): { spec: string } | { why: string } {
  let s = spec.trim();
  const alias = `npm:${name}@`;
  if (s.startsWith(alias)) s = s.slice(alias.length);
  else if (s === `npm:${name}`) s = "*";
  if (s.length > 256) return { why: "a version spec too long to be one" };
  if (s.includes(":") || s.includes("/")) return { why: `"${s.slice(0, 80)}" is not a registry version` };
  return { spec: s === "" ? "*" : s };
}
