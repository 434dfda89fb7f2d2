/**
 * The ESLint 8.57 oracle on this project's own history: farm's code has a flat
 * `eslint.config.mjs` (JavaScript, which farm never runs), so the test gives two
 * of its commits the legacy `.eslintrc.json` below, with what such a config of a
 * TypeScript project holds: env, parserOptions, `eslint:recommended`,
 * typescript-eslint's recommended config and parser in an override, rules with
 * options, ignorePatterns and a directory override. ESLint 8 reads it from a
 * checkout (`useEslintrc: true`); farm reads it with the commit's tree from git
 * objects. Messages must be equal file by file.
 *
 * Rules excluded, and why: typescript-eslint's extension rules
 * (`@typescript-eslint/no-unused-vars`, `no-unused-expressions`,
 * `no-array-constructor`) wrap the core rule they get from `require("eslint")`,
 * which in this tree is ESLint 10: under ESLint 8 they crash or run ESLint 10's
 * rule, so ESLint 8 is no oracle for them. The oracle's copy turns them off and
 * farm's messages of them are not compared.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { planRepoLint, repoConfigPaths } from "../../../shared/lint/index.js";
import { eslint8Messages, farmMessages } from "../../harness/eslint8.js";

const ROOT = path.resolve(import.meta.dirname, "../../..");
/** The web app (issue 14) and the first commit of the services: 200 and 60-odd TypeScript files. */
const COMMITS = ["45b60cc", "eabf680"];

const TS_OVERRIDE = {
  files: ["*.ts"],
  parser: "@typescript-eslint/parser",
  plugins: ["@typescript-eslint"],
  extends: ["plugin:@typescript-eslint/recommended"],
  rules: { "no-undef": "off", "@typescript-eslint/no-explicit-any": "warn" },
};
const ESLINTRC = {
  root: true,
  env: { node: true, es2022: true },
  parserOptions: { ecmaVersion: 2022, sourceType: "module" },
  extends: ["eslint:recommended"],
  rules: { eqeqeq: ["error", "smart"], "no-console": "warn", "prefer-const": "error", curly: ["error", "multi-line"], "no-var": "error" },
  ignorePatterns: ["dist/", "test/fixtures/"],
  overrides: [TS_OVERRIDE, { files: ["test/**"], rules: { "no-console": "off" } }],
};
const EXTENSION_RULES = ["@typescript-eslint/no-unused-vars", "@typescript-eslint/no-unused-expressions", "@typescript-eslint/no-array-constructor"];
/** The oracle's copy: extension rules off; `*.mjs` named so ESLint 8 lints them too (it lints `.js` and override patterns only; farm lints every JavaScript extension). */
const ESLINTRC_8 = {
  ...ESLINTRC,
  overrides: [
    { ...TS_OVERRIDE, rules: { ...TS_OVERRIDE.rules, ...Object.fromEntries(EXTENSION_RULES.map((r) => [r, "off"])) } },
    ...ESLINTRC.overrides.slice(1),
    { files: ["*.mjs"] },
  ],
};

const git = (...args: string[]) => execFileSync("git", ["-C", ROOT, ...args], { encoding: "utf8", maxBuffer: 1 << 28 });

let work: string;
let totalMessages = 0;
beforeAll(() => {
  for (const sha of COMMITS) {
    try {
      git("cat-file", "-e", `${sha}^{commit}`);
    } catch {
      throw new Error(`commit ${sha} of farm's history is not in ${ROOT}: this test needs the full history (a clone that is not shallow)`);
    }
  }
  work = mkdtempSync(path.join(tmpdir(), "farm-own-oracle-"));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  expect(totalMessages).toBeGreaterThan(0);
});

describe("legacy ESLint configuration: farm against ESLint 8.57 on farm's own history", () => {
  for (const sha of COMMITS) {
    test(`${sha} with a TypeScript project's .eslintrc.json: the same files linted and the same messages`, { timeout: 300_000 }, async () => {
      const checkout = path.join(work, sha);
      execFileSync("sh", ["-c", `mkdir -p "$3" && git -C "$1" archive "$2" | tar -x -C "$3"`, "sh", ROOT, sha, checkout]);
      writeFileSync(path.join(checkout, ".eslintrc.json"), JSON.stringify(ESLINTRC_8));
      // ESLint 8 loads the parser and plugin relative to the config file: the project's own node_modules (ignored by default).
      symlinkSync(path.join(ROOT, "node_modules"), path.join(checkout, "node_modules"));

      const rc = JSON.stringify(ESLINTRC);
      const paths = [...git("ls-tree", "-r", "-z", "--name-only", sha).split("\0").filter(Boolean), ".eslintrc.json"];
      const show = (p: string) => (p === ".eslintrc.json" ? rc : git("show", `${sha}:${p}`));
      const plan = planRepoLint({ paths, contents: new Map(repoConfigPaths(paths).map((p) => [p, show(p)])) });
      // Nothing of this config is left out: no note about it (a flat eslint.config.mjs, where there is one, is).
      expect(plan.settings.notes.filter((n) => n.includes(".eslintrc"))).toEqual([]);

      const oracle = await eslint8Messages(checkout);
      expect(plan.files.map((f) => f.path).sort()).toEqual([...oracle.keys()].sort());

      const farm = await farmMessages(plan, oracle.keys(), show, (m) => EXTENSION_RULES.includes(m.ruleId ?? ""));
      const messages = [...oracle.values()].reduce((n, ms) => n + ms.length, 0);
      console.log(`${sha}: ${oracle.size} files, ${messages} messages from ESLint 8.57`);
      expect(oracle.size).toBeGreaterThan(50);
      totalMessages += messages;
      expect(Object.fromEntries(farm)).toEqual(Object.fromEntries(oracle));
    });
  }
});
