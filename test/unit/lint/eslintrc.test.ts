/**
 * A repository's legacy ESLint configuration, read as data from the commit's
 * tree: each file form, the cascade up to `root: true`, overrides, ignores,
 * the notes for what farm cannot honour, farm's defaults when there is no
 * config, and that a JavaScript config is never run. Real planner, real
 * ESLint (the lint engine), no mocks.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { LintEngine, planRepoLint, repoConfigPaths, validateLintConfig, type LintMessage, type RepoLintPlan } from "../../../shared/lint/index.js";

const engine = new LintEngine();

/** Plans a tree given as path → content (every config file's content is provided, as the splitter does). */
function plan(tree: Record<string, string>): RepoLintPlan {
  const paths = Object.keys(tree);
  const contents = Object.fromEntries(repoConfigPaths(paths).map((p) => [p, tree[p]]));
  return planRepoLint({ paths, contents });
}

async function lint(tree: Record<string, string>, file: string): Promise<LintMessage[]> {
  const p = plan(tree);
  const f = p.files.find((x) => x.path === file);
  if (!f) throw new Error(`${file} is not planned`);
  validateLintConfig(f.config); // never a RepoConfigError for what an eslintrc says
  return engine.lintFile({ path: file, content: tree[file], config: f.config });
}

const rules = (ms: LintMessage[]) => ms.map((m) => m.ruleId).sort();
const planned = (p: RepoLintPlan) => p.files.map((f) => f.path).sort();

const CODE = 'var a = 1;\nif (a == 2) { console.log("x") }\n';

describe("config forms", () => {
  const forms: Record<string, string> = {
    ".eslintrc.json": '{ // comments are allowed\n "rules": { "eqeqeq": "error", "semi": ["error", "always"] } }',
    ".eslintrc.yaml": "rules:\n  eqeqeq: error\n  semi: [error, always]\n",
    ".eslintrc.yml": "rules:\n  eqeqeq: 2\n  semi:\n    - 2\n    - always\n",
    ".eslintrc": '{ "rules": { "eqeqeq": "error", "semi": ["error", "always"] } }',
    "package.json": JSON.stringify({ name: "x", eslintConfig: { rules: { eqeqeq: "error", semi: ["error", "always"] } } }),
  };
  for (const [name, text] of Object.entries(forms)) {
    test(`${name}: its rules, and nothing of farm's default (no implicit recommended)`, async () => {
      const ms = await lint({ [name]: text, "a.js": CODE }, "a.js");
      expect(rules(ms)).toEqual(["eqeqeq", "semi"]);
    });
  }

  test("package.json is read as JSON, as ESLint 8 reads it: a duplicate key (which YAML refuses) does not hide its eslintConfig", async () => {
    const pkg = '{ "name": "x", "name": "y", "eslintConfig": { "rules": { "eqeqeq": "error" } } }';
    expect(rules(await lint({ "package.json": pkg, "a.js": CODE }, "a.js"))).toEqual(["eqeqeq"]);
  });

  test(".eslintrc written as YAML is read as YAML", async () => {
    expect(rules(await lint({ ".eslintrc": "rules:\n  eqeqeq: error\n", "a.js": CODE }, "a.js"))).toEqual(["eqeqeq"]);
  });

  test("one file per directory, in ESLint 8's order: .eslintrc.yaml before .eslintrc.json before package.json", async () => {
    const tree = {
      ".eslintrc.yaml": "rules:\n  eqeqeq: error\n",
      ".eslintrc.json": '{ "rules": { "semi": "error" } }',
      "package.json": JSON.stringify({ eslintConfig: { rules: { "no-var": "error" } } }),
      "a.js": CODE,
    };
    expect(rules(await lint(tree, "a.js"))).toEqual(["eqeqeq"]);
  });

  test("env, globals, parserOptions and extends eslint:recommended are translated", async () => {
    const rc =
      "extends: eslint:recommended\nenv:\n  browser: true\nglobals:\n  myGlobal: readonly\nparserOptions:\n  ecmaVersion: 2020\n  sourceType: module\n";
    const code = 'import x from "x";\nwindow.alert(myGlobal + x + process);\nmyGlobal = 1;\n';
    const ms = await lint({ ".eslintrc.yml": rc, "a.js": code }, "a.js");
    // window: browser env; process: no node env → no-undef; assigning a readonly global: no-global-assign.
    expect(ms.map((m) => [m.ruleId, m.line])).toEqual([
      ["no-undef", 2],
      ["no-global-assign", 3],
    ]);
  });

  test("ESLint 8's defaults without parserOptions: ES5 script (const is a parse error)", async () => {
    const ms = await lint({ ".eslintrc.json": '{"rules": {}}', "a.js": "const a = 1;\n" }, "a.js");
    expect(ms).toHaveLength(1);
    expect(ms[0].fatal).toBe(true);
  });
});

describe("cascade and overrides", () => {
  const tree = {
    ".eslintrc.json": JSON.stringify({ rules: { eqeqeq: ["error", "smart"], "no-var": "error" }, env: { es6: true } }),
    "src/.eslintrc.yml": "rules:\n  no-var: off\n  eqeqeq: warn\n",
    "lib/.eslintrc.json": JSON.stringify({ root: true, rules: { semi: "error" } }),
    "test/.eslintrc.yml": "overrides:\n  - files: ['*.spec.js']\n    excludedFiles: ['skip.spec.js']\n    rules:\n      semi: error\n",
    "a.js": CODE,
    "src/a.js": CODE,
    "lib/a.js": CODE,
    "test/a.spec.js": CODE,
    "test/skip.spec.js": CODE,
    "test/plain.js": CODE,
  };

  test("nearest first, merged upward; root: true stops the walk", async () => {
    expect(rules(await lint(tree, "a.js"))).toEqual(["eqeqeq", "no-var"]);
    const src = await lint(tree, "src/a.js");
    expect(rules(src)).toEqual(["eqeqeq"]);
    expect(src[0].severity).toBe(1);
    expect(rules(await lint(tree, "lib/a.js"))).toEqual(["semi"]);
  });

  test("a nearer severity alone keeps the options set further up (ESLint 8's merge)", () => {
    const f = plan(tree).files.find((x) => x.path === "src/a.js")!;
    expect(f.config.eslintrc!.rules.eqeqeq).toEqual([1, "smart"]);
  });

  test("overrides: files and excludedFiles relative to the config's directory, base-name patterns at any depth", async () => {
    expect(rules(await lint(tree, "test/a.spec.js"))).toEqual(["eqeqeq", "no-var", "semi"]);
    expect(rules(await lint(tree, "test/skip.spec.js"))).toEqual(["eqeqeq", "no-var"]);
    expect(rules(await lint(tree, "test/plain.js"))).toEqual(["eqeqeq", "no-var"]);
  });

  test("the effective config is in the config id: a changed .eslintrc changes the ids of the files below it only", () => {
    const before = new Map(plan(tree).files.map((f) => [f.path, f.configId]));
    const after = new Map(plan({ ...tree, "src/.eslintrc.yml": "rules:\n  no-var: warn\n" }).files.map((f) => [f.path, f.configId]));
    const changed = [...before.keys()].filter((p) => before.get(p) !== after.get(p));
    expect(changed).toEqual(["src/a.js"]);
  });
});

describe("ignores", () => {
  test(".eslintignore (root), ignorePatterns (relative to the config's dir) and ESLint 8's dotfile default, with re-includes", () => {
    const p = plan({
      ".eslintrc.yml": "ignorePatterns: ['gen/']\nrules:\n  eqeqeq: error\n",
      ".eslintignore": "dist/\n*.fixture.js\n!.keep.js\n",
      "sub/.eslintrc.json": JSON.stringify({ ignorePatterns: ["/local.js"] }),
      "a.js": "",
      "gen/b.js": "",
      "dist/c.js": "",
      "x.fixture.js": "",
      ".hidden.js": "",
      ".keep.js": "",
      "sub/local.js": "",
      "local.js": "",
    });
    expect(planned(p)).toEqual([".keep.js", "a.js", "local.js"]);
  });

  test("a file ESLint ignores still gets JSHint when a .jshintrc applies", () => {
    const p = plan({ ".eslintignore": "legacy/\n", "legacy/.jshintrc": "{}", "legacy/a.js": "" });
    expect(p.files.map((f) => [f.path, f.config.linters])).toEqual([["legacy/a.js", ["jshint"]]]);
  });
});

describe("what farm cannot honour: one note each per commit, the rest still applies", () => {
  const tree: Record<string, string> = {
    ".eslintrc.yml": [
      "extends: [eslint:recommended, semistandard, plugin:react/recommended]",
      "plugins: [react-hooks]",
      "parser: '@babel/eslint-parser'",
      "env: { node: true, 'jest/globals': true }",
      "rules:",
      "  react-hooks/exhaustive-deps: warn",
      "  valid-jsdoc: error",
      "  require-jsdoc: error",
      "  eqeqeq: [error, bogus]",
      "  no-var: error",
    ].join("\n"),
    "a.js": "var a = 1;\nif (a == 2) { b(); }\n",
    "sub/.eslintrc.json": JSON.stringify({ rules: { "valid-jsdoc": "warn" } }),
    "sub/b.js": "var x = 1;\n",
  };

  test("notes, each said once for the commit, never a RepoConfigError", () => {
    const notes = plan(tree).settings.notes;
    expect(notes).toEqual([
      "ESLint configs farm does not bundle, not applied: semistandard (.eslintrc.yml); plugin:react/recommended (.eslintrc.yml)",
      "ESLint plugins farm does not bundle, their rules dropped: react-hooks (.eslintrc.yml)",
      "ESLint parsers farm does not bundle, files parsed with espree: @babel/eslint-parser (.eslintrc.yml)",
      "ESLint environments farm does not know, ignored: jest/globals (.eslintrc.yml)",
      expect.stringMatching(
        /^ESLint rules unknown to ESLint 10\.\d+\.\d+, dropped: valid-jsdoc \(\.eslintrc\.yml, sub\/\.eslintrc\.json\); require-jsdoc \(\.eslintrc\.yml\)$/,
      ),
      expect.stringMatching(/^ESLint rules with invalid settings, dropped: eqeqeq: .*\(\.eslintrc\.yml\)$/),
    ]);
  });

  test("the rules farm can run still run; the dropped ones give no message and no error per file", async () => {
    const ms = await lint(tree, "a.js");
    expect(rules(ms)).toEqual(["no-undef", "no-var"]);
    expect(ms.every((m) => !m.fatal)).toBe(true);
  });

  test("a config file that is not valid YAML/JSON is not used, with a note; its neighbours are still linted", async () => {
    const broken = { ".eslintrc.json": '{"rules": {"eqeqeq": "error"}}', "sub/.eslintrc.yml": "rules: [unclosed\n", "sub/a.js": CODE };
    const p = plan(broken);
    expect(p.settings.notes).toEqual([expect.stringMatching(/^sub\/\.eslintrc\.yml: not used \(/)]);
    expect(rules(await lint(broken, "sub/a.js"))).toEqual(["eqeqeq"]);
  });
});

describe("JavaScript configs are code: never run", () => {
  test("an .eslintrc.js that would write a file when required is never required; the report says it was found and not used", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "farm-eslintrc-js-"));
    try {
      const marker = path.join(dir, "ran");
      const evil = `require("fs").writeFileSync(${JSON.stringify(marker)}, "x"); module.exports = { rules: { semi: "error" } };\n`;
      writeFileSync(path.join(dir, ".eslintrc.js"), evil);
      writeFileSync(path.join(dir, ".eslintrc.cjs"), evil);
      writeFileSync(path.join(dir, "eslint.config.js"), evil.replace("module.exports = {", "module.exports = [{").replace("};", "}];"));
      const tree = { ".eslintrc.js": evil, ".eslintrc.cjs": evil, "eslint.config.js": evil, "package.json": "{}", "a.js": "var a = 1\n" };
      const p = plan(tree);
      expect(p.settings.notes).toContain("ESLint config found and not used (JavaScript is code, farm never runs it): .eslintrc.js");
      expect(p.settings.notes).toContain("not executed (repo JavaScript configs are code): eslint.config.js");
      const local = new LintEngine({ cwd: dir }); // ESLint resolves paths in the directory that holds the configs
      const f = p.files.find((x) => x.path === "a.js")!;
      const ms = await local.lintFile({ path: "a.js", content: tree["a.js"], config: f.config });
      expect(f.config.eslintrc).toBeUndefined(); // farm's default config, not the JavaScript one
      expect(rules(ms)).toEqual(["no-unused-vars"]);
      expect(existsSync(marker)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("farm's defaults without an ESLint config", () => {
  const TEST = 'describe("x", () => { it("y", () => { expect(1).toBe(1); }); });\n';

  test("test files get the globals of the test framework the nearest package.json that has one depends on", async () => {
    for (const [dep, file] of [
      ["mocha", "test/a.js"],
      ["jest", "__tests__/a.js"],
      ["vitest", "src/a.test.js"],
      ["jasmine", "spec/x/a.spec.js"],
    ]) {
      const tree = { "package.json": JSON.stringify({ devDependencies: { [dep]: "1" } }), "fixtures/package.json": "{}", [file]: TEST, "src/lib.js": TEST };
      const undef = (ms: LintMessage[]) => ms.filter((m) => m.ruleId === "no-undef").length;
      // mocha has no `expect`: chai's, imported. The others define it.
      expect(undef(await lint(tree, file)), `${dep} ${file}`).toBe(dep === "mocha" ? 1 : 0);
      expect(undef(await lint(tree, "src/lib.js")), `${dep} src/lib.js`).toBe(3); // not a test file
    }
  });

  test("node:test needs no globals: a repo without a framework keeps farm's default config (same config id as before)", () => {
    const p = plan({ "package.json": "{}", "test/a.js": TEST, "a.js": "" });
    const [a, t] = ["a.js", "test/a.js"].map((x) => p.files.find((f) => f.path === x)!);
    expect(t.config.extraGlobals).toBeUndefined();
    expect(t.configId).toBe(a.configId);
  });

  test("a package that is clearly for the browser (a browser field, or react/vue/…) gets browser globals", async () => {
    const code = "window.alert(document.title);\n";
    for (const pkg of [{ browser: "dist/x.js" }, { dependencies: { react: "18" } }]) {
      expect(await lint({ "package.json": JSON.stringify(pkg), "a.js": code }, "a.js")).toEqual([]);
    }
    expect(rules(await lint({ "package.json": "{}", "a.js": code }, "a.js"))).toEqual(["no-undef", "no-undef"]);
  });

  test("a file an .eslintrc governs gets no farm defaults: the repo's env decides", () => {
    const p = plan({ "package.json": JSON.stringify({ devDependencies: { mocha: "1" } }), "test/.eslintrc.yml": "env: { node: true }\n", "test/a.js": "" });
    expect(p.files[0].config.extraGlobals).toBeUndefined();
    expect(p.files[0].config.eslintrc!.envGlobals).toEqual(["es5", "node"]);
  });
});

describe("/* eslint-env */ comments", () => {
  test("under an .eslintrc (ESLint 8 honoured them) they are not reported, and the file's rules still run", async () => {
    const ms = await lint({ ".eslintrc.json": '{"rules": {"eqeqeq": "error"}}', "a.js": "/* eslint-env node */\nvar a = 1;\nif (a == 2) {}\n" }, "a.js");
    expect(ms.map((m) => [m.ruleId, m.line])).toEqual([["eqeqeq", 3]]);
  });

  test("without an .eslintrc farm's default config reports them, as ESLint 10 does", async () => {
    const ms = await lint({ "a.js": "/* eslint-env node */\n" }, "a.js");
    expect(ms.map((m) => m.message)).toEqual([expect.stringMatching(/eslint-env \*\/ comments are no longer supported/)]);
  });
});
