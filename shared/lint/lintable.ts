/** Which files of a tree are worth linting, by path, size and mode (content checks come later). */
import { matchablePath } from "../git/paths.js";
import { FARM_JSON, JSHINTRC } from "./file-names.js";

export const LINTABLE_EXTENSIONS = [".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx"];

/** Files that configure linting; ingest uploads them so the splitter can read them. */
export const CONFIG_FILES = [FARM_JSON, JSHINTRC, "package.json", ".eslintrc.yaml", ".eslintrc.yml", ".eslintrc.json", ".eslintrc", ".eslintignore"];

const VENDORED = /(^|\/)(node_modules|bower_components|vendor|vendors|third_party|jspm_packages)\//;
const MINIFIED = /[.-]min\.[cm]?js$|\.bundle\.js$/;
// Regular files only: symlinks (120000) and submodules (160000) are not content.
const REGULAR = new Set(["100644", "100755"]);
const SPECIAL: Record<string, string> = { "120000": "a symbolic link", "160000": "a submodule" };

export interface TreeFile {
  path: string;
  size: number;
  mode: string;
}

export function hasLintableExtension(name: string): boolean {
  // A C-quoted (non-UTF-8) name is matched by the text it stands for.
  const path = matchablePath(name);
  const dot = path.lastIndexOf(".");
  return dot > path.lastIndexOf("/") && LINTABLE_EXTENSIONS.includes(path.slice(dot).toLowerCase());
}

/** A git mode of a file with content: neither a symbolic link (whose blob is its target's name) nor a submodule. */
export function isRegularFile(mode: string): boolean {
  return REGULAR.has(mode);
}

/** What a tree entry that is not a regular file is, for notes: "a symbolic link", "a submodule". */
export function entryKind(mode: string): string {
  return SPECIAL[mode] ?? `not a regular file (mode ${mode})`;
}

export function isLintable(f: TreeFile, maxFileSize: number): boolean {
  return isRegularFile(f.mode) && f.size <= maxFileSize && hasLintableExtension(f.path) && !VENDORED.test(f.path) && !MINIFIED.test(f.path);
}

export function isConfigFile(path: string): boolean {
  const base = path.slice(path.lastIndexOf("/") + 1);
  return CONFIG_FILES.includes(base) && !VENDORED.test(path);
}

/** Content that is not source: NUL bytes in the first 8 KiB. */
export function isBinary(content: Uint8Array): boolean {
  return content.subarray(0, 8192).includes(0);
}

/** Minified by content: very long average lines. */
export function looksMinified(text: string): boolean {
  if (text.length < 4096) return false;
  const lines = text.split("\n").length;
  return text.length / lines > 500;
}
