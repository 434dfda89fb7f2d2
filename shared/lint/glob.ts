/**
 * gitignore-style globs for `.farm.json` "ignores" and JSHint "overrides",
 * matched by the `ignore` package: git's own wildmatch rules, compiled to
 * regular expressions that run in linear time (a hand-written translation let
 * `**\/*a*a*a*a*a*a*a*a*a*a*b` backtrack for hours on one long file name).
 *
 * - a pattern without a slash (except a trailing one) matches at any depth: `*.min.js`, `vendor/`
 * - a pattern with a leading or inner slash is anchored at the repo root: `/dist`, `lib/gen/*.js`
 * - a trailing slash matches a directory, i.e. everything under it
 * - a pattern also matches everything under a matching directory (`dist` ignores `dist/a.js`)
 * - `*` and `?` stay within one path segment, `**` crosses segments, `[abc]` / `[!a-z]` are
 *   character classes; braces are literal (`{a,b}` does not alternate, as in git)
 * - in a list, `!pattern` re-includes; the last matching pattern wins, except that a file below an
 *   ignored directory stays ignored (git cannot re-include it either)
 * - blank patterns and `#` comments match nothing; trailing spaces are dropped unless escaped
 *
 * Patterns git would silently treat as matching nothing (an out-of-order range, an unterminated
 * class, an unknown `[:class:]`, a lone trailing backslash) are reported by {@link globProblem}:
 * settings refuse them rather than ignore nothing without a word.
 */
import ignore, { type Ignore } from "ignore";

export interface GlobOptions {
  /** Case-insensitive matching (JSHint's overrides use it). Default false. */
  nocase?: boolean;
}

/** A compiled list of patterns: build once, test many paths. */
export interface GlobMatcher {
  readonly patterns: readonly string[];
  /** True when the list matches the repo-relative POSIX path (gitignore semantics over the list). */
  matches(path: string): boolean;
}

/** Compiles a list of patterns (`!` re-includes). Never throws: validate with {@link globProblem} first. */
export function compileGlobs(patterns: readonly string[], { nocase = false }: GlobOptions = {}): GlobMatcher {
  // allowRelativePaths: a path such as "../x.js" (a lint.file client's) is simply not matched, never a throw.
  const ig: Ignore = ignore({ ignorecase: nocase, allowRelativePaths: true }).add(patterns);
  return {
    patterns: [...patterns],
    matches: (path) => path !== "" && ig.ignores(path),
  };
}

/** True when `path` matches the single pattern. Compiles on every call: use {@link compileGlobs} in loops. */
export function globMatch(path: string, pattern: string, options?: GlobOptions): boolean {
  return compileGlobs([pattern], options).matches(path);
}

/** gitignore semantics over a list. Compiles on every call: use {@link compileGlobs} in loops. */
export function matchesAny(path: string, patterns: readonly string[], options?: GlobOptions): boolean {
  return compileGlobs(patterns, options).matches(path);
}

const POSIX_CLASSES = new Set(["alnum", "alpha", "blank", "cntrl", "digit", "graph", "lower", "print", "punct", "space", "upper", "xdigit"]);

/**
 * Why a pattern is malformed, or null when it is fine. Mirrors how git's
 * wildmatch reads a pattern, to catch what git (and `ignore`) would quietly
 * turn into "matches nothing" or into something other than what was written.
 */
export function globProblem(pattern: string): string | null {
  if (/[\r\n]/.test(pattern)) return "contains a line break";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === "\\") {
      if (i === pattern.length - 1) return "ends with a lone backslash";
      i++;
    } else if (ch === "[") {
      const scanned = scanClass(pattern, i);
      if (typeof scanned === "string") return scanned;
      i = scanned;
    }
  }
  return null;
}

/** Index of the `]` closing the class that opens at `start`, or what is wrong with it. */
function scanClass(p: string, start: number): number | string {
  let i = start + 1;
  if (p[i] === "!" || p[i] === "^") i++;
  let first = true; // a `]` right after `[` (or `[!`) is a member, as in git
  let prev: string | null = null; // the member a `-` would start a range from
  for (;;) {
    const ch = p[i];
    if (ch === undefined) return `unterminated character class at "${p.slice(start)}"`;
    if (ch === "]" && !first) return i;
    first = false;
    if (ch === "\\") {
      if (p[i + 1] === undefined) return `unterminated character class at "${p.slice(start)}"`;
      prev = p[i + 1];
      i += 2;
    } else if (ch === "-" && prev !== null && i + 1 < p.length && p[i + 1] !== "]") {
      let j = i + 1;
      if (p[j] === "\\") j++;
      const to = p[j];
      if (to === undefined) return `unterminated character class at "${p.slice(start)}"`;
      if (prev > to) return `character range "${prev}-${to}" is out of order`;
      prev = null;
      i = j + 1;
    } else if (ch === "[" && p[i + 1] === ":") {
      const end = p.indexOf("]", i + 2);
      if (end === -1) return `unterminated character class at "${p.slice(start)}"`;
      if (end > i + 2 && p[end - 1] === ":") {
        const name = p.slice(i + 2, end - 1);
        if (!POSIX_CLASSES.has(name)) return `unknown character class "[:${name}:]"`;
        prev = null;
        i = end + 1;
      } else {
        prev = "[";
        i++;
      }
    } else {
      prev = ch;
      i++;
    }
  }
}
