/**
 * Which files are lintable, in which language, and Node's own rules for their
 * module kind: `.mjs`/`.mts` are modules, `.cjs`/`.cts` CommonJS, and
 * `.js`/`.jsx`/`.ts`/`.tsx` follow the nearest package.json of the same commit
 * ("type": "module" → module, anything else → commonjs).
 */
import { posix } from "node:path";
import type { Language, SourceType } from "./types.js";
import { matchablePath } from "../git/paths.js";

export interface FileKind {
  language: Language;
  jsx: boolean;
  /** Fixed by the extension (.mjs/.cjs/.mts/.cts), or null when package.json decides. */
  fixedSourceType: SourceType | null;
}

const KINDS: Record<string, FileKind> = {
  ".js": { language: "js", jsx: false, fixedSourceType: null },
  ".jsx": { language: "js", jsx: true, fixedSourceType: null },
  ".mjs": { language: "js", jsx: false, fixedSourceType: "module" },
  ".cjs": { language: "js", jsx: false, fixedSourceType: "commonjs" },
  ".ts": { language: "ts", jsx: false, fixedSourceType: null },
  ".tsx": { language: "ts", jsx: true, fixedSourceType: null },
  ".mts": { language: "ts", jsx: false, fixedSourceType: "module" },
  ".cts": { language: "ts", jsx: false, fixedSourceType: "commonjs" },
};

/** Extensions the engine lints. */
export const LINTABLE_EXTENSIONS: readonly string[] = Object.keys(KINDS);

/** Language and JSX-ness of a path, or null when the engine does not lint it. */
export function fileKind(path: string): FileKind | null {
  return KINDS[posix.extname(matchablePath(path)).toLowerCase()] ?? null;
}

export function isLintable(path: string): boolean {
  return fileKind(path) !== null;
}

/** "type" field of each package.json in one commit, keyed by the directory that holds it ("" = root). */
export type PackageTypes = ReadonlyMap<string, string | undefined>;

/**
 * Indexes package.json files by directory. Input: repo-relative path → file
 * content. An unparsable package.json counts as one without "type" (Node would
 * refuse to run it, but the lint result of its neighbours must not depend on
 * how Node fails).
 */
export function packageTypes(packageJsons: Iterable<readonly [string, string]>): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  for (const [path, content] of packageJsons) {
    if (posix.basename(path) !== "package.json") continue;
    let type: string | undefined;
    try {
      const parsed: unknown = JSON.parse(content.replace(/^\uFEFF/, ""));
      const t = (parsed as { type?: unknown } | null)?.type;
      type = typeof t === "string" ? t : undefined;
    } catch {
      // Unreadable package.json: no "type", as Node itself would treat the files.
      type = undefined;
    }
    out.set(dirOf(path), type);
  }
  return out;
}

/** sourceType of one lintable path (commonjs for non-lintable ones, to stay total). */
export function sourceTypeOf(path: string, types: PackageTypes): SourceType {
  const kind = fileKind(path);
  if (kind?.fixedSourceType) return kind.fixedSourceType;
  // Node stops at the nearest package.json, even one without "type".
  for (let dir = dirOf(matchablePath(path)); ; dir = dirOf(dir)) {
    if (types.has(dir)) return types.get(dir) === "module" ? "module" : "commonjs";
    if (dir === "") return "commonjs";
  }
}

/**
 * sourceType of every lintable path of a tree. `packageJsons`: the contents of
 * the tree's package.json files (path → content), e.g. fetched for the paths
 * that {@link packageJsonPaths} returns.
 */
export function resolveSourceTypes(paths: Iterable<string>, packageJsons: Iterable<readonly [string, string]>): Map<string, SourceType> {
  const types = packageTypes(packageJsons);
  const out = new Map<string, SourceType>();
  for (const path of paths) if (isLintable(path)) out.set(path, sourceTypeOf(path, types));
  return out;
}

/** The package.json paths of a tree: the files whose contents sourceType resolution needs. */
export function packageJsonPaths(paths: Iterable<string>): string[] {
  return [...paths].filter((p) => posix.basename(p) === "package.json");
}

/** Parent directory of a repo-relative path; "" is the root and its own parent. */
export function dirOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i === -1 ? "" : path.slice(0, i);
}
