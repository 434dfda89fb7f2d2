/**
 * The config inputs of a commit's toolchain run: the files ESLint reads while
 * it loads a config and decides what to lint (the config, what it imports,
 * ignore files, eslintrc files, package.json files), written with their
 * content into the sandbox's work dir. They are part of every result's key,
 * so they are only what those decisions read: lockfiles are left out (the
 * toolchain id pins what they pinned), and package.json files are reduced to
 * the fields configs and rules read, so that a version bump or a dependency
 * update does not re-lint a whole history. Rules that read the rest
 * (dependency lists) are not run (see the sandbox's notRun).
 */
import { createHash } from "node:crypto";

const LOCKFILE = /(^|\/)(package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|bun\.lockb?)$/;
/**
 * What ESLint reads besides the config file and its imports, wherever in the tree; and what
 * eslint-plugin-prettier's rule reads (Prettier's config, ignore file and .editorconfig).
 */
const ALWAYS =
  /(^|\/)(\.eslintrc(\.(json|ya?ml|js|cjs))?|\.eslintignore|package\.json|\.gitignore|\.prettierrc(\.(json5?|ya?ml|toml|[cm]?[jt]s))?|prettier\.config\.[cm]?[jt]s|\.prettierignore|\.editorconfig)$/;
const VENDORED = /(^|\/)node_modules\//;
/** package.json fields a config or a rule that reads only the file's own package may read. */
const PACKAGE_FIELDS = [
  "name",
  "type",
  "engines",
  "main",
  "module",
  "exports",
  "imports",
  "bin",
  "browser",
  "files",
  "private",
  "workspaces",
  "eslintConfig",
  "eslintIgnore",
  "prettier",
];

/** Whether `path` (root-relative) is a config input, given the paths the toolchain's resolution read. */
export function isConfigInput(path: string, resolveRead: ReadonlySet<string>): boolean {
  if (LOCKFILE.test(path) || VENDORED.test(path)) return false;
  return resolveRead.has(path) || ALWAYS.test(path);
}

/** The text the sandbox sees of an input: package.json reduced to PACKAGE_FIELDS (unparsable: as is, ESLint reports it). */
export function inputText(path: string, text: string): string {
  if (!/(^|\/)package\.json$/.test(path)) return text;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return text;
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return text;
  const reduced: Record<string, unknown> = {};
  for (const k of PACKAGE_FIELDS) if (k in doc) reduced[k] = (doc as Record<string, unknown>)[k];
  return JSON.stringify(reduced, null, 2) + "\n";
}

export function textHash(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
