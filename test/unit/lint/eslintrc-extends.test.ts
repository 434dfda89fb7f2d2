/**
 * Relative `extends` of a legacy ESLint config ("./config/base.yml"): the
 * extended file read from the commit's tree as data, in ESLint 8's order
 * (extended elements, its overrides included, before the extending config's
 * own settings), checked against ESLint 8.57 itself on the same files; and
 * one note for each relative `extends` farm cannot follow.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { extendedConfigPaths, LintEngine, planRepoLint, repoConfigPaths, type RepoLintPlan } from "../../../shared/lint/index.js";
import { ESLint8, type Message8 } from "../../harness/eslint8.js";

const engine = new LintEngine();
const key = (m: Message8) => `${m.line}:${m.column} ${m.severity} ${m.ruleId} ${m.message}`;

/** Plans a tree as the splitter does: the config files, then the files their relative `extends` name, until none is new. */
function plan(tree: Record<string, string>): RepoLintPlan {
  const paths = Object.keys(tree);
  const contents = new Map(repoConfigPaths(paths).map((p) => [p, tree[p]]));
  for (let more = extendedConfigPaths(new Set(paths), contents); more.length > 0; more = extendedConfigPaths(new Set(paths), contents))
    for (const p of more) contents.set(p, tree[p]);
  return planRepoLint({ paths, contents });
}

const TREE: Record<string, string> = {
  ".eslintrc.json": JSON.stringify({
    root: true,
    extends: ["eslint:recommended", "./config/base.yml"],
    env: { node: true, es2022: true },
    rules: { "no-console": "warn" },
    overrides: [{ files: ["test/**"], extends: "./config/test.json" }],
  }),
  // Its own override of no-console loses to the extending config's own "warn" (ESLint 8's order).
  "config/base.yml":
    "parserOptions:\n  ecmaVersion: 2022\nrules:\n  eqeqeq: error\n  no-console: error\noverrides:\n  - files: ['lib/**/*.js']\n    rules:\n      no-var: error\n      no-console: 'off'\n",
  "config/test.json": JSON.stringify({ extends: "./mocha.yml", rules: { "no-unused-expressions": "error" } }),
  "config/mocha.yml": "env:\n  mocha: true\n",
  "lib/a.js": "var x = 1;\nif (x == 2) console.log(x);\nmodule.exports = x;\n",
  "test/a.test.js": 'describe("x", () => {\n  it("y", () => {\n    const x = 1;\n    x == 1;\n    console.log(x);\n  });\n});\n',
  "src/b.js": "console.log(1 == 2);\nundefinedThing();\n",
};

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("a relative extends", () => {
  test("is followed through the tree (a chain, and in an override) exactly as ESLint 8.57 applies it", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "farm-extends-"));
    dirs.push(dir);
    for (const [p, text] of Object.entries(TREE)) {
      mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
      writeFileSync(path.join(dir, p), text);
    }
    const results = await new ESLint8({ cwd: dir, useEslintrc: true }).lintFiles(["."]);
    const oracle = Object.fromEntries(results.map((r) => [path.relative(dir, r.filePath), r.messages.map(key).sort()]));

    const p = plan(TREE);
    expect(p.settings.notes).toEqual([]);
    const farm: Record<string, string[]> = {};
    for (const f of p.files)
      farm[f.path] = (await engine.lintFile({ path: f.path, content: TREE[f.path], config: f.config })).map((m) => key(m as Message8)).sort();
    expect(farm).toEqual(oracle);
    // What the comparison rests on: each part of the chain did something.
    const rulesOf = (file: string) => oracle[file].map((k) => k.split(" ")[2]);
    expect(rulesOf("lib/a.js")).toEqual(expect.arrayContaining(["eqeqeq", "no-var", "no-console"]));
    expect(oracle["lib/a.js"].find((k) => k.includes("no-console"))).toMatch(/ 1 no-console/);
    expect(rulesOf("test/a.test.js")).toContain("no-unused-expressions");
    expect(rulesOf("test/a.test.js")).not.toContain("no-undef");
    expect(oracle["src/b.js"].find((k) => k.includes("no-console"))).toMatch(/ 1 no-console/);
  });

  test("a changed extended file changes the config ids of the files it applies to, and only those", () => {
    const before = plan(TREE);
    const after = plan({ ...TREE, "config/test.json": JSON.stringify({ extends: "./mocha.yml", rules: { "no-unused-expressions": "off" } }) });
    const ids = (p: RepoLintPlan) => Object.fromEntries(p.files.map((f) => [f.path, f.configId]));
    const [a, b] = [ids(before), ids(after)];
    expect(Object.keys(a).filter((f) => a[f] !== b[f])).toEqual(["test/a.test.js"]);
  });

  test("what cannot be followed is one note each, and the rest of the config still applies", () => {
    const p = plan({
      ".eslintrc.yml": [
        "root: true",
        "extends:",
        "  - ./missing.yml",
        "  - ./base.js",
        "  - ../outside.yml",
        "  - ./loop-a.yml",
        "rules:",
        "  eqeqeq: error",
      ].join("\n"),
      "base.js": "module.exports = { rules: { 'no-var': 'error' } };\n",
      "loop-a.yml": "extends: ./loop-b.yml\n",
      "loop-b.yml": "extends: ./loop-a.yml\nrules:\n  no-var: error\n",
      "a.js": "var x = 1;\nmodule.exports = x == 2;\n",
    });
    expect(p.settings.notes).toEqual([
      '.eslintrc.yml: extends "./missing.yml" is not a file of the commit: not applied',
      '.eslintrc.yml: extends "./base.js" is JavaScript (code: farm never runs it): not applied',
      '.eslintrc.yml: extends "../outside.yml" points outside the repository: not applied',
      'loop-b.yml: extends "./loop-a.yml" extends itself (.eslintrc.yml → loop-a.yml → loop-b.yml → loop-a.yml): not applied',
    ]);
    const f = p.files.find((x) => x.path === "a.js")!;
    return engine.lintFile({ path: "a.js", content: "var x = 1;\nmodule.exports = x == 2;\n", config: f.config }).then((ms) => {
      // eqeqeq from the config itself, no-var from the loop's file that could be read.
      expect(ms.map((m) => m.ruleId).sort()).toEqual(["eqeqeq", "no-var"]);
    });
  });
});
