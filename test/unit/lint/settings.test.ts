import { describe, expect, test } from "vitest";
import { isPermanent } from "../../../shared/fabric/errors.js";
import {
  LintUnsupportedError,
  RepoConfigError,
  fileLintConfig,
  isIgnored,
  loadRepoSettings,
  matchesAny,
  parseFarmJson,
  parseJshintrc,
  planRepoLint,
  repoConfigPaths,
  stripJsonComments,
} from "../../../shared/lint/index.js";

describe(".farm.json", () => {
  test("parses ignores, linters, rules (severities normalised) and jshint options", () => {
    const farm = parseFarmJson(
      JSON.stringify({
        ignores: ["dist/", "*.min.js"],
        linters: ["jshint", "eslint", "jshint"],
        rules: { "no-console": "warn", eqeqeq: ["error", "smart"], "no-debugger": "off" },
        jshint: { esversion: 11 },
        future: true,
      }),
    );
    expect(farm.ignores).toEqual(["dist/", "*.min.js"]);
    expect(farm.linters).toEqual(["eslint", "jshint"]); // deduplicated, fixed order
    expect(farm.rules).toEqual({ "no-console": 1, eqeqeq: [2, "smart"], "no-debugger": 0 });
    expect(farm.jshint).toEqual({ esversion: 11 });
    expect(farm.unknownKeys).toEqual(["future"]);
  });

  test("invalid JSON is a permanent RepoConfigError naming the file", () => {
    const err = catchError(() => parseFarmJson("{ ignores: [", ".farm.json"));
    expect(err).toBeInstanceOf(RepoConfigError);
    expect(err.message).toMatch(/^\.farm\.json: invalid JSON/);
    expect((err as RepoConfigError).file).toBe(".farm.json");
    expect(isPermanent(err)).toBe(true);
  });

  test.each([
    ["[]", /JSON object/],
    ['{"ignores": "dist"}', /"ignores" must be an array/],
    ['{"linters": ["eslint", "tslint"]}', /unknown linter "tslint"/],
    ['{"rules": {"semi": "loud"}}', /rule "semi": severity/],
    ['{"rules": {"semi": []}}', /rule "semi": severity/],
    ['{"jshint": true}', /"jshint" must be an object/],
  ])("rejects bad shape %s", (text, message) => {
    const err = catchError(() => parseFarmJson(text));
    expect(err).toBeInstanceOf(RepoConfigError);
    expect(err.message).toMatch(message);
  });
});

describe(".jshintrc", () => {
  test("accepts comments (and a BOM); positions survive comment stripping", () => {
    const text = '\uFEFF{\n  // line comment\n  "undef": true, /* block\n comment */ "url": "http://x//y"\n}';
    expect(parseJshintrc(text)).toEqual({ undef: true, url: "http://x//y" });
    expect(stripJsonComments('{"a": 1} // x')).toBe('{"a": 1}     ');
  });

  test("invalid JSON is a RepoConfigError naming the file", () => {
    const err = catchError(() => parseJshintrc('{"undef": true,}', "lib/.jshintrc"));
    expect(err).toBeInstanceOf(RepoConfigError);
    expect(err.message).toMatch(/^lib\/\.jshintrc: invalid JSON/);
  });

  test("a broken .jshintrc does not matter when .farm.json turns JSHint off", () => {
    const paths = [".farm.json", ".jshintrc", "a.js"];
    const contents = { ".farm.json": '{"linters": ["eslint"]}', ".jshintrc": "{ nope" };
    expect(() => loadRepoSettings({ paths, contents })).not.toThrow();
    expect(() => loadRepoSettings({ paths, contents: { ...contents, ".farm.json": "{}" } })).toThrow(RepoConfigError);
  });
});

describe("repo JS configs are never executed", () => {
  const paths = ["eslint.config.js", "src/a.js"];

  test("ignored by default, with a note", () => {
    const settings = loadRepoSettings({ paths, contents: {} });
    expect(settings.notes.join("\n")).toMatch(/not executed.*eslint\.config\.js/);
    expect(fileLintConfig("src/a.js", settings)?.rules).toEqual({});
  });

  test("trustRepoConfig is explicit and not implemented", () => {
    expect(() => loadRepoSettings({ paths, contents: {}, trustRepoConfig: true })).toThrow(LintUnsupportedError);
    expect(() => loadRepoSettings({ paths: ["a.js"], contents: {}, trustRepoConfig: true })).not.toThrow();
  });
});

describe("ignores and lintable files", () => {
  test("gitignore-style globs", () => {
    expect(matchesAny("dist/a.js", ["dist/"])).toBe(true);
    expect(matchesAny("src/dist/a.js", ["dist/"])).toBe(true);
    expect(matchesAny("src/dist/a.js", ["/dist/"])).toBe(false);
    expect(matchesAny("a/b/c.min.js", ["*.min.js"])).toBe(true);
    expect(matchesAny("lib/gen/x.js", ["lib/**/*.js", "!lib/gen/x.js"])).toBe(false);
    expect(matchesAny("lib/a/b/x.ts", ["lib/**/*.ts"])).toBe(true);
    // Braces are literal, as in git (farm's own matcher used to expand them).
    expect(matchesAny("lib/a/b/x.ts", ["lib/**/*.{js,ts}"])).toBe(false);
    expect(matchesAny("lib/x.ts", ["lib/*.js"])).toBe(false);
  });

  test("plan: node_modules and .farm.json ignores are skipped, non-JS files too", () => {
    const paths = [".farm.json", "a.js", "README.md", "node_modules/x/i.js", "vendor/jq.js", "src/b.ts"];
    const plan = planRepoLint({ paths, contents: { ".farm.json": '{"ignores": ["vendor/"]}' } });
    expect(plan.files.map((f) => f.path)).toEqual(["a.js", "src/b.ts"]);
    expect(isIgnored("vendor/jq.js", plan.settings)).toBe(true);
    expect(repoConfigPaths(["x/package.json", "x/.jshintrc", "sub/.farm.json", ".farm.json", "a.js"])).toEqual(["x/package.json", "x/.jshintrc", ".farm.json"]);
  });

  test("a listed config file without content is a caller bug, not a repo error", () => {
    const err = catchError(() => loadRepoSettings({ paths: [".farm.json"], contents: {} }));
    expect(err).toBeInstanceOf(TypeError);
  });
});

describe("JSHint settings per file", () => {
  const paths = [".jshintrc", "lib/.jshintrc", "a.js", "lib/b.js", "lib/c.ts", "lib/d.jsx"];
  const contents = {
    ".jshintrc": '{"undef": true, "globals": {"A": true}, "overrides": {"lib/*.js": {"esversion": 11}}}',
    "lib/.jshintrc": '{"esversion": 6, "globals": {"B": false}}',
  };

  test("a .jshintrc turns JSHint on for the files below it; nearest one wins", () => {
    const settings = loadRepoSettings({ paths, contents });
    expect(fileLintConfig("a.js", settings)).toMatchObject({
      linters: ["eslint", "jshint"],
      jshint: { undef: true, globals: { A: true } },
    });
    // lib/.jshintrc replaces the root one (JSHint does not merge them).
    expect(fileLintConfig("lib/b.js", settings)?.jshint).toEqual({ esversion: 6, globals: { B: false } });
    // JSHint cannot parse TypeScript or JSX.
    expect(fileLintConfig("lib/c.ts", settings)?.linters).toEqual(["eslint"]);
    expect(fileLintConfig("lib/d.jsx", settings)?.linters).toEqual(["eslint"]);
  });

  test("overrides apply by glob; .farm.json jshint options lay over .jshintrc", () => {
    const settings = loadRepoSettings({
      paths: [".jshintrc", ".farm.json", "lib/b.js", "c.js"],
      contents: { ".jshintrc": contents[".jshintrc"], ".farm.json": '{"jshint": {"undef": false, "globals": {"C": true}}}' },
    });
    expect(fileLintConfig("lib/b.js", settings)?.jshint).toEqual({ undef: false, esversion: 11, globals: { A: true, C: true } });
    expect(fileLintConfig("c.js", settings)?.jshint).toEqual({ undef: false, globals: { A: true, C: true } });
  });

  test("without .jshintrc JSHint runs only when .farm.json enables it", () => {
    const off = loadRepoSettings({ paths: ["a.js"], contents: {} });
    expect(fileLintConfig("a.js", off)?.linters).toEqual(["eslint"]);
    const on = loadRepoSettings({ paths: [".farm.json", "a.js"], contents: { ".farm.json": '{"linters": ["jshint"]}' } });
    expect(fileLintConfig("a.js", on)).toMatchObject({ linters: ["jshint"], rules: {}, jshint: {} });
  });
});

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a throw");
}
