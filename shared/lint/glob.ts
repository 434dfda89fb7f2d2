/**
 * Small gitignore-style glob matcher for `.farm.json` "ignores" and JSHint
 * "overrides". Written here rather than pulled in (minimatch is only a
 * transitive dependency) and kept to the rules people expect from .gitignore:
 *
 * - a pattern without a slash (except a trailing one) matches at any depth: `*.min.js`, `vendor/`
 * - a pattern with a leading or inner slash is anchored at the repo root: `/dist`, `lib/gen/*.js`
 * - a trailing slash matches a directory, i.e. everything under it
 * - a pattern also matches everything under a matching directory (`dist` ignores `dist/a.js`)
 * - `*` and `?` stay within one path segment, `**` crosses segments, `{a,b}` alternates,
 *   `[abc]` is a character class
 * - in a list, `!pattern` re-includes; the last matching pattern wins
 */

export interface GlobOptions {
  /** Case-insensitive matching (JSHint's overrides use it). Default false. */
  nocase?: boolean;
}

const cache = new Map<string, RegExp>();

/** Compiles one pattern (without a leading `!`) to a RegExp over repo-relative POSIX paths. */
export function globToRegExp(pattern: string, { nocase = false }: GlobOptions = {}): RegExp {
  const key = `${nocase ? "i" : ""}:${pattern}`;
  const hit = cache.get(key);
  if (hit) return hit;

  let p = pattern.trim();
  if (p.startsWith("./")) p = p.slice(2);
  const dirOnly = p.endsWith("/");
  if (dirOnly) p = p.replace(/\/+$/, "");
  const anchored = p.includes("/");
  if (p.startsWith("/")) p = p.slice(1);

  const body = translate(p);
  // Unanchored patterns may start at any segment; every match may continue below a directory.
  const prefix = anchored ? "^" : "^(?:.*/)?";
  const suffix = dirOnly ? "/.*$" : "(?:/.*)?$";
  const re = new RegExp(prefix + body + suffix, nocase ? "i" : "");
  cache.set(key, re);
  return re;
}

function translate(p: string): string {
  let out = "";
  let depth = 0; // inside {…}
  for (let i = 0; i < p.length; i++) {
    const ch = p[i];
    if (ch === "*") {
      if (p[i + 1] === "*") {
        // `**/` matches zero or more directories; a bare `**` matches anything.
        if (p[i + 2] === "/") {
          out += "(?:.*/)?";
          i += 2;
        } else {
          out += ".*";
          i += 1;
        }
      } else {
        out += "[^/]*";
      }
    } else if (ch === "?") {
      out += "[^/]";
    } else if (ch === "[") {
      const end = p.indexOf("]", i + 1);
      if (end === -1) {
        out += "\\[";
      } else {
        const cls = p.slice(i + 1, end).replace(/\\/g, "\\\\");
        out += cls.startsWith("!") ? `[^/${cls.slice(1)}]` : `[${cls}]`;
        i = end;
      }
    } else if (ch === "{") {
      depth++;
      out += "(?:";
    } else if (ch === "}" && depth > 0) {
      depth--;
      out += ")";
    } else if (ch === "," && depth > 0) {
      out += "|";
    } else if (ch === "\\" && i + 1 < p.length) {
      out += escapeRe(p[++i]);
    } else {
      out += escapeRe(ch);
    }
  }
  return out + ")".repeat(depth);
}

function escapeRe(ch: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(ch) ? `\\${ch}` : ch;
}

/** True when `path` matches the single pattern. */
export function globMatch(path: string, pattern: string, options?: GlobOptions): boolean {
  return globToRegExp(pattern, options).test(path);
}

/** gitignore semantics over a list: last matching pattern wins, `!` re-includes. */
export function matchesAny(path: string, patterns: readonly string[], options?: GlobOptions): boolean {
  let matched = false;
  for (const raw of patterns) {
    const negated = raw.startsWith("!");
    const pattern = negated ? raw.slice(1) : raw;
    if (pattern.trim() === "") continue;
    if (globMatch(path, pattern, options)) matched = !negated;
  }
  return matched;
}
