/**
 * Planning a commit without holding the event loop: the async planner gives
 * the same plan as the one-go planner, yields between slices, gives a commit
 * up with a permanent error once its budget is spent, and never reads a
 * symbolic link as configuration.
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import { describe, expect, test } from "vitest";
import { isPermanent } from "../../../shared/fabric/errors.js";
import { PlanBudgetError, PlanCache, planRepoLint, planRepoLintAsync, repoConfigPaths } from "../../../shared/lint/index.js";

const tree = (n: number) => [
  ".farm.json",
  "package.json",
  "lib/.jshintrc",
  ...Array.from({ length: n }, (_, i) => (i % 3 === 0 ? `lib/m${i}.js` : i % 3 === 1 ? `src/f${i}.ts` : `gen/g${i}.js`)),
];
const contents = {
  ".farm.json": JSON.stringify({ ignores: ["gen/"], rules: { "no-console": "warn" } }),
  "package.json": '{"type": "module"}',
  "lib/.jshintrc": JSON.stringify({ undef: true, overrides: { "lib/m3*.js": { esversion: 11 } } }),
};

describe("planRepoLintAsync", () => {
  test("commits with the same configuration files share a planner; a changed one plans anew, with its own result", async () => {
    const cache = new PlanCache();
    const paths = tree(300);
    const first = await planRepoLintAsync({ paths, contents }, { cache });
    // The next commit adds a file and keeps the configuration: the same plan objects for the old paths.
    const next = await planRepoLintAsync({ paths: [...paths, "lib/new.js"], contents }, { cache });
    expect(next.files.slice(0, first.files.length)).toEqual(first.files);
    expect(next.files[0]).toBe(first.files[0]);
    expect(next.files.at(-1)?.path).toBe("lib/new.js");
    // A changed .farm.json (gen/ no longer ignored, no-console off) is planned from scratch and equals the one-go plan.
    const changed = { ...contents, ".farm.json": JSON.stringify({ rules: { "no-console": "off" } }) };
    const replanned = await planRepoLintAsync({ paths, contents: changed }, { cache });
    expect(replanned.files).toEqual(planRepoLint({ paths, contents: changed }).files);
    expect(replanned.files.some((f) => f.path.startsWith("gen/"))).toBe(true);
    expect(replanned.files[0]).not.toBe(first.files[0]);
    // A plan's configs are those of its own files, even when the planner has seen more.
    const back = await planRepoLintAsync({ paths: paths.filter((p) => !p.endsWith(".ts")), contents }, { cache });
    expect([...back.configs.values()].every((c) => back.files.some((f) => f.config === c))).toBe(true);
    expect(back.configs.size).toBe(2);
  });

  test("the same plan as planRepoLint, one config object per id", async () => {
    const paths = tree(3000);
    const sync = planRepoLint({ paths, contents });
    const sliced = await planRepoLintAsync({ paths, contents }, { sliceSize: 100 });
    expect(sliced.files).toEqual(sync.files);
    expect([...sliced.configs.keys()].sort()).toEqual([...sync.configs.keys()].sort());
    expect(sliced.configs.size).toBe(3); // lib with and without the override, TS
    for (const f of sliced.files) expect(f.config).toBe(sliced.configs.get(f.configId));
  });

  test("yields to the event loop between slices", async () => {
    let turns = 0;
    let planning = true;
    void (async () => {
      while (planning) {
        turns++;
        await nextTurn();
      }
    })();
    const before = turns;
    await planRepoLintAsync({ paths: tree(5000), contents }, { sliceSize: 100 });
    planning = false;
    // 50 slices: other work ran between them, not only after the whole plan.
    expect(turns - before).toBeGreaterThanOrEqual(40);
  });

  test("a commit whose planning exceeds its budget is given up with a permanent error", async () => {
    const err = await planRepoLintAsync({ paths: tree(50_000), contents }, { sliceSize: 1000, budgetMs: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlanBudgetError);
    expect(isPermanent(err)).toBe(true);
    expect((err as Error).message).toMatch(/planning the commit took more than its budget of 1 ms \(\d+ of 50003 paths planned\)/);
  });

  test("an aborted signal stops planning between slices", async () => {
    const ac = new AbortController();
    ac.abort(new Error("shutting down"));
    await expect(planRepoLintAsync({ paths: tree(10), contents }, { signal: ac.signal })).rejects.toThrow("shutting down");
  });
});

describe("symbolic links are never configuration", () => {
  const paths = [".farm.json", ".jshintrc", "package.json", "lib/package.json", "lib/a.js", "b.js"];
  const notRegular = new Map([
    [".farm.json", "a symbolic link"],
    [".jshintrc", "a symbolic link"],
    ["lib/package.json", "a symbolic link"],
  ]);

  test("their content is not asked for, they are skipped with a note, defaults apply", () => {
    expect(repoConfigPaths(paths, notRegular)).toEqual(["package.json"]);
    // The link's content would be its target's name: it must not be parsed.
    const plan = planRepoLint({ paths, contents: { "package.json": '{"type": "module"}' }, notRegular });
    expect(plan.settings.notes).toEqual([
      ".farm.json is a symbolic link: not used as configuration",
      ".jshintrc is a symbolic link: not used as configuration",
      "lib/package.json is a symbolic link: not used as configuration",
    ]);
    expect(plan.files.map((f) => [f.path, f.config.linters, f.config.sourceType, f.config.rules])).toEqual([
      // No lib/package.json: the root one decides; no .jshintrc: no JSHint.
      ["lib/a.js", ["eslint"], "module", {}],
      ["b.js", ["eslint"], "module", {}],
    ]);
  });
});
