/**
 * The glob matcher behind `.farm.json` "ignores" and JSHint "overrides": git's
 * gitignore semantics (through the `ignore` package), linear time on patterns
 * built for backtracking, and malformed patterns reported instead of matching
 * nothing (or throwing a SyntaxError that looked transient).
 */
import { describe, expect, test } from "vitest";
import { isPermanent } from "../../../shared/fabric/errors.js";
import { RepoConfigError, compileGlobs, globProblem, loadRepoSettings, matchesAny, parseFarmJson, planRepoLint } from "../../../shared/lint/index.js";

describe("gitignore semantics", () => {
  test("anchoring, directories, depth, classes", () => {
    expect(matchesAny("dist/a.js", ["dist"])).toBe(true); // everything under a matching directory
    expect(matchesAny("src/dist", ["dist/"])).toBe(false); // a trailing slash wants a directory
    expect(matchesAny("lib/gen/x.js", ["lib/*.js"])).toBe(false); // `*` stays in one segment
    expect(matchesAny("lib/gen/x.js", ["lib/**/x.js"])).toBe(true);
    expect(matchesAny("lib/x.js", ["lib/**/x.js"])).toBe(true); // `**/` is zero or more directories
    expect(matchesAny("a/x1.js", ["x[0-9].js"])).toBe(true);
    expect(matchesAny("a/xa.js", ["x[!0-9].js"])).toBe(true);
    expect(matchesAny("a/x1.js", ["x?.js"])).toBe(true);
    expect(matchesAny("a/x/.js", ["x?.js"])).toBe(false); // `?` is never a slash
  });

  test("case-sensitive by default; nocase for JSHint overrides", () => {
    expect(matchesAny("Dist/A.js", ["dist/"])).toBe(false);
    expect(matchesAny("Dist/A.js", ["dist/"], { nocase: true })).toBe(true);
  });

  test("last match wins, but a file below an ignored directory cannot be re-included (as in git)", () => {
    expect(matchesAny("gen/keep.js", ["gen/*", "!gen/keep.js"])).toBe(false);
    // farm's own matcher re-included this one; git does not.
    expect(matchesAny("gen/keep.js", ["gen/", "!gen/keep.js"])).toBe(true);
    expect(matchesAny("node_modules/x/i.js", ["node_modules/", "!node_modules/"])).toBe(false);
  });

  test("blank patterns and comments match nothing; a leading ./ is not stripped (as in git)", () => {
    expect(matchesAny("a.js", ["", "   ", "#a.js"])).toBe(false);
    expect(matchesAny("a.js", ["\\#a.js"])).toBe(false);
    expect(matchesAny("#a.js", ["\\#a.js"])).toBe(true);
    expect(matchesAny("lib/a.js", ["./lib/a.js"])).toBe(false);
  });

  test("a path that is not repo-relative is never a throw", () => {
    const m = compileGlobs(["*.js"]);
    expect(() => m.matches("../x.js")).not.toThrow();
    expect(() => m.matches("./x.js")).not.toThrow();
    expect(m.matches("")).toBe(false);
  });
});

describe("linear time", () => {
  // Against names of 30–200 a's, farm's former hand-written RegExp backtracked for hours.
  test("a pattern built for catastrophic backtracking answers at once, on every long name", () => {
    const m = compileGlobs(["node_modules/", "**/*a*a*a*a*a*a*a*a*a*a*b"]);
    const paths = Array.from({ length: 200 }, (_, i) => `src/${"a".repeat(30 + Math.floor((i * 170) / 199))}.js`);
    expect(paths.filter((p) => m.matches(p))).toEqual([]);
    expect(m.matches(`src/${"a".repeat(200)}b`)).toBe(true);
  });

  test("through planning: the files are planned (not ignored) and the plan comes back", () => {
    const paths = [".farm.json", ...Array.from({ length: 200 }, (_, i) => `src/${"a".repeat(30 + i)}.js`)];
    const plan = planRepoLint({ paths, contents: { ".farm.json": JSON.stringify({ ignores: ["**/*a*a*a*a*a*a*a*a*a*a*b"] }) } });
    expect(plan.files).toHaveLength(200);
  });
});

describe("malformed patterns", () => {
  test.each([
    ["[z-a].js", /range "z-a" is out of order/],
    ["src/[abc", /unterminated character class/],
    ["x[[:nope:]].js", /unknown character class "\[:nope:\]"/],
    ["dist\\", /lone backslash/],
    ["a.js\nb.js", /line break/],
  ])("%j is refused: %s", (pattern, reason) => {
    expect(globProblem(pattern)).toMatch(reason);
  });

  test.each(["[a-z].js", "[]a].js", "[!]].js", "x[[:digit:]].js", "a\\[b\\].js", "dist\\ ", "[a-]", "**/*.min.js", "!keep/"])("%j is fine", (pattern) => {
    expect(globProblem(pattern)).toBeNull();
  });

  test("an invalid ignores pattern is a permanent RepoConfigError of .farm.json, at load", () => {
    let err: unknown;
    try {
      parseFarmJson(JSON.stringify({ ignores: ["dist/", "[z-a].js"] }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RepoConfigError);
    expect(isPermanent(err)).toBe(true);
    expect((err as Error).message).toBe('.farm.json: invalid ignores pattern "[z-a].js": character range "z-a" is out of order');
  });

  test("an invalid JSHint overrides pattern names its .jshintrc (only where JSHint can run)", () => {
    const paths = [".farm.json", "lib/.jshintrc", "lib/a.js"];
    const contents = { ".farm.json": "{}", "lib/.jshintrc": JSON.stringify({ overrides: { "[9-0]*.js": { undef: true } } }) };
    expect(() => loadRepoSettings({ paths, contents })).toThrow(/^lib\/\.jshintrc: invalid overrides pattern "\[9-0\]\*\.js"/);
    expect(() => loadRepoSettings({ paths, contents: { ...contents, ".farm.json": '{"linters": ["eslint"]}' } })).not.toThrow();
  });
});
