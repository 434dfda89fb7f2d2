/**
 * The oracle for farm's reading of legacy ESLint configuration: ESLint 8.57
 * (the last release that reads `.eslintrc*` itself; installed as the `eslint8`
 * alias) run with `useEslintrc: true` on a checkout, and farm's planner + lint
 * engine on the same commit's tree (config files read from git objects, as the
 * splitter reads blobs). Messages must be equal file by file.
 *
 * The commits: three eras of mocha's `.eslintrc.yml` and `.eslintignore`
 * (fixtures/mocha-eras: env, overrides by glob, YAML anchors, globals, negated
 * ignores, unbundled extends and parser), each in a repository this test builds
 * from the registry's packages of that era: mocha's own files (bin/, lib/, its
 * root) from `mocha@<era>`, and a test/ folder (a hundred-odd test files, `.mjs`
 * among them, and a fixture that does not parse) from pino's package, so the
 * test overrides (env mocha, `expect` global, ESM) have files to apply to.
 *
 * What the oracle's checkout changes before ESLint 8 runs, and why: ESLint 8
 * refuses to start when an `extends`, `plugins` or `parser` package is missing,
 * and farm bundles none of mocha's (semistandard, prettier, @babel/eslint-parser).
 * So the checkout's configs lose exactly what farm documents it drops (one note
 * each): unbundled `extends`, `plugins`, `parser`, plugin rules. Farm itself reads
 * the unmodified files.
 *
 * Rules excluded from the comparison: none are needed (these configs' rules exist
 * in both versions with the same meaning). Had a config extended
 * `eslint:recommended`, the rules whose membership differs between 8.57 and
 * @eslint/js 10 (e.g. no-extra-semi, no-mixed-spaces-and-tabs, no-inner-declarations
 * out; no-unused-private-class-members, no-constant-binary-expression in) would be.
 * Excluded from farm's side, as ESLint 10 behaviour rather than configuration: "Rule X is
 * already configured by another configuration comment" (ESLint 9+ reports a second inline
 * `/* eslint rule: … *\/` for the same rule; ESLint 8 silently took the last one).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { planRepoLint, repoConfigPaths } from "../../../shared/lint/index.js";
import { eslint8Messages, farmMessages } from "../../harness/eslint8.js";
import { TestRepo } from "../../harness/git.js";
import { unpackNpmPackage } from "../../harness/npm-package.js";

const ERAS_DIR = path.join(import.meta.dirname, "fixtures/mocha-eras");
/**
 * mocha's releases whose configs fixtures/mocha-eras holds: 2020 (ES5, no `es6` env), 2021, 2024; and
 * rules each era's messages must hold, so that its configs' rules are seen to run on both sides.
 */
const ERAS = [
  { version: "7.0.1", rules: ["(parse)", "no-undef", "strict"] },
  { version: "9.0.1", rules: ["(parse)", "no-undef", "strict"] },
  { version: "10.3.0", rules: ["(parse)", "no-undef", "strict"] },
];
/** The test/ folder's source: a package that publishes its tests. */
const TESTS_PACKAGE = "pino@10.4.0";

const DUPLICATE_INLINE = /is already configured by another configuration comment/;
const BUNDLED_EXTENDS = new Set(["eslint:recommended", "eslint:all"]);

/** Removes from an eslintrc object what farm drops (unbundled extends, plugins, parsers, plugin rules), recursively. */
function withoutUnbundled(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config };
  if (out.extends !== undefined) out.extends = [out.extends].flat().filter((e) => BUNDLED_EXTENDS.has(e as string));
  delete out.plugins;
  if (out.parser !== "espree") delete out.parser;
  if (out.rules) out.rules = Object.fromEntries(Object.entries(out.rules).filter(([id]) => !id.includes("/")));
  if (Array.isArray(out.overrides)) out.overrides = out.overrides.map((o) => withoutUnbundled(o as Record<string, unknown>));
  return out;
}

let work: string;
beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), "farm-oracle-"));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe("legacy ESLint configuration: farm against ESLint 8.57 on three eras of mocha's configs and code", () => {
  for (const { version: era, rules } of ERAS) {
    test(`mocha@${era}'s era: the same files linted and the same messages, file by file`, { timeout: 240_000 }, async () => {
      const repo = new TestRepo(path.join(work, era));
      unpackNpmPackage(`mocha@${era}`, repo.dir);
      unpackNpmPackage(TESTS_PACKAGE, path.join(repo.dir, "test"), "test");
      repo.write({
        ".eslintrc.yml": readFileSync(path.join(ERAS_DIR, era, "eslintrc.yml")),
        ".eslintignore": readFileSync(path.join(ERAS_DIR, era, "eslintignore")),
      });
      const sha = repo.commit(`mocha ${era} with ${TESTS_PACKAGE}'s tests`);

      // Farm: the tree and the unmodified config files, from git objects.
      const show = (p: string) => repo.gitBuffer("show", `${sha}:${p}`).toString("utf8");
      const paths = repo.git("ls-tree", "-r", "-z", "--name-only", sha).split("\0").filter(Boolean);
      const plan = planRepoLint({ paths, contents: new Map(repoConfigPaths(paths).map((p) => [p, show(p)])) });
      expect(plan.settings.notes.join("\n")).toMatch(/ESLint configs farm does not bundle, not applied: .*\.eslintrc\.yml/);

      // The oracle: a checkout whose configs lose what farm documents it drops.
      const checkout = repo.checkout(sha, path.join(work, `${era}-checkout`));
      const rc = path.join(checkout, ".eslintrc.yml");
      writeFileSync(rc, stringifyYaml(withoutUnbundled(parseYaml(readFileSync(rc, "utf8")) as Record<string, unknown>)));
      const oracle = await eslint8Messages(checkout);

      // Same files: every .js file ESLint 8 lints farm lints, and the other way round (ignores, dotfiles).
      const farmJs = plan.files.map((f) => f.path).filter((p) => p.endsWith(".js"));
      expect(farmJs.sort()).toEqual([...oracle.keys()].filter((p) => p.endsWith(".js")).sort());
      // Both halves of the tree are compared: mocha's code and the tests its overrides are for (.mjs ones included).
      expect([...oracle.keys()].filter((p) => p.startsWith("lib/")).length).toBeGreaterThan(40);
      expect([...oracle.keys()].filter((p) => p.startsWith("test/") && p.endsWith(".mjs")).length).toBeGreaterThan(3);

      const farm = await farmMessages(plan, oracle.keys(), show, (m) => m.ruleId === null && DUPLICATE_INLINE.test(m.message));
      const messages = [...oracle.values()].flat();
      console.log(`mocha@${era}: ${oracle.size} files, ${messages.length} messages from ESLint 8.57`);
      expect(oracle.size).toBeGreaterThan(100); // the comparison compares something
      expect([...new Set(messages.map((m) => m.split(" ")[2]))]).toEqual(expect.arrayContaining(rules));
      expect(Object.fromEntries(farm)).toEqual(Object.fromEntries(oracle));
    });
  }
});
