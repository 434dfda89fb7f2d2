/**
 * The oracle for farm's reading of legacy ESLint configuration: ESLint 8.57
 * (the last release that reads `.eslintrc*` itself; installed as the `eslint8`
 * alias) run with `useEslintrc: true` on a checkout of real commits of mocha's
 * history (`.eslintrc.yml` with env, overrides, anchors, `.eslintignore`), and
 * farm's planner + lint engine on the same commit's tree (config files read
 * from git objects, as the splitter reads blobs). Messages must be equal file
 * by file.
 *
 * What the oracle's checkout changes before ESLint 8 runs, and why: ESLint 8
 * refuses to start when an `extends`, `plugins` or `parser` package is missing,
 * and farm bundles none of mocha's (semistandard, prettier, @babel/eslint-parser).
 * So the checkout's configs lose exactly what farm documents it drops (one note
 * each): unbundled `extends`, `plugins`, `parser`, plugin rules. Farm itself reads
 * the unmodified files.
 *
 * Rules excluded from the comparison: none are needed for these commits (mocha's
 * own rules exist in both versions with the same meaning). Had a config extended
 * `eslint:recommended`, the rules whose membership differs between 8.57 and
 * @eslint/js 10 (e.g. no-extra-semi, no-mixed-spaces-and-tabs, no-inner-declarations
 * out; no-unused-private-class-members, no-constant-binary-expression in) would be.
 * Parse errors (ruleId null) are compared by position only: espree's wording changed.
 * Excluded from farm's side, as ESLint 10 behaviour rather than configuration: "Rule X is
 * already configured by another configuration comment" (ESLint 9+ reports a second inline
 * `/* eslint rule: … *\/` for the same rule; ESLint 8 silently took the last one).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { LintEngine, planRepoLint, repoConfigPaths } from "../../../shared/lint/index.js";
import { ESLint8, type Message8 } from "../../harness/eslint8.js";

/** The mocha history (a git bundle in the steering folder beside the project, as the benchmarks use it): FARM_MOCHA_BUNDLE to say where else. */
const BUNDLE = path.resolve(process.env.FARM_MOCHA_BUNDLE || path.join(import.meta.dirname, "../../../../shared/bench/mocha.bundle"));
/**
 * Three eras of mocha's .eslintrc.yml: the last one (2024), 2021, 2020. (Its 2018 ones say `expect: no`,
 * which ESLint 8 refuses outright: no oracle there.)
 */
const COMMITS = ["8317f902^", "c17dd8c8", "2a1b6372"];

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

const key = (m: Message8) => `${m.line}:${m.column} ${m.severity} ${m.ruleId ?? "(parse)"} ${m.ruleId ? m.message : ""}`;

let repo: string;
let totalMessages = 0;
beforeAll(() => {
  if (!existsSync(BUNDLE)) throw new Error(`the mocha history is not at ${BUNDLE}: set FARM_MOCHA_BUNDLE to ../shared/bench/mocha.bundle's path`);
  repo = mkdtempSync(path.join(tmpdir(), "farm-oracle-"));
  execFileSync("git", ["clone", "-q", BUNDLE, path.join(repo, "git")]);
});
afterAll(() => {
  rmSync(repo, { recursive: true, force: true });
  // Mocha's code is clean under its own rules: few messages, but some (its rules do run, on both sides).
  expect(totalMessages).toBeGreaterThan(0);
});

describe("legacy ESLint configuration: farm against ESLint 8.57 on mocha's history", () => {
  for (const sha of COMMITS) {
    test(`${sha}: the same files linted and the same messages, file by file`, { timeout: 240_000 }, async () => {
      const git = (...args: string[]) => execFileSync("git", ["-C", path.join(repo, "git"), ...args], { encoding: "utf8", maxBuffer: 1 << 28 });
      const checkout = path.join(repo, sha.replace(/\W/g, "_"));
      mkdirSync(checkout);
      execFileSync("sh", ["-c", `git -C "$1" archive "$2" | tar -x -C "$3"`, "sh", path.join(repo, "git"), sha, checkout]);

      // Farm: the tree and the unmodified config files, from git objects.
      const paths = git("ls-tree", "-r", "-z", "--name-only", sha).split("\0").filter(Boolean);
      const contents = new Map(repoConfigPaths(paths).map((p) => [p, git("show", `${sha}:${p}`)]));
      const plan = planRepoLint({ paths, contents });
      expect(plan.settings.notes.join("\n")).toMatch(/ESLint configs farm does not bundle, not applied: .*\.eslintrc\.yml/);

      // The oracle: the checkout's configs without what farm documents it drops.
      for (const p of paths.filter((x) => /(^|\/)\.eslintrc\.ya?ml$/.test(x))) {
        const file = path.join(checkout, p);
        writeFileSync(file, stringifyYaml(withoutUnbundled(parseYaml(readFileSync(file, "utf8")) as Record<string, unknown>)));
      }
      const results = await new ESLint8({ cwd: checkout, useEslintrc: true }).lintFiles(["."]);
      const oracle = new Map(results.map((r) => [path.relative(checkout, r.filePath), r.messages.map(key).sort()]));

      // Same files: every .js file ESLint 8 lints farm lints, and the other way round (ignores, dotfiles).
      const farmJs = plan.files.map((f) => f.path).filter((p) => p.endsWith(".js"));
      expect(farmJs.sort()).toEqual([...oracle.keys()].filter((p) => p.endsWith(".js")).sort());

      const engine = new LintEngine();
      const byPath = new Map(plan.files.map((f) => [f.path, f]));
      const farm = new Map<string, string[]>();
      for (const file of oracle.keys()) {
        const f = byPath.get(file)!;
        const ms = await engine.lintFile({ path: file, content: git("show", `${sha}:${file}`), config: f.config });
        farm.set(
          file,
          ms
            .filter((m) => !(m.ruleId === null && DUPLICATE_INLINE.test(m.message)))
            .map((m) => key(m as Message8))
            .sort(),
        );
      }
      const messages = [...oracle.values()].reduce((n, ms) => n + ms.length, 0);
      console.log(`${sha}: ${oracle.size} files, ${messages} messages from ESLint 8.57`);
      expect(oracle.size).toBeGreaterThan(100); // the comparison compares something
      totalMessages += messages;
      expect(Object.fromEntries(farm)).toEqual(Object.fromEntries(oracle));
    });
  }
});
