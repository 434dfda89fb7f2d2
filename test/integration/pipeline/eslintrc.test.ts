/**
 * A repository's own .eslintrc through the whole pipeline: a config added in
 * a subdirectory re-lints exactly the files below it and makes their issues
 * new; changed again, they are fixed; what farm cannot honour is one note on
 * the commit (report and completed event), never an error per file.
 */
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Report } from "../../../shared/pipeline/report.js";
import { TestRepo } from "../../harness/git.js";
import { usePipeline } from "../../harness/pipeline.js";

// Each file its own blob: a result is keyed by (blob, config), so equal files would share one lint.
const eq = (n: number) => `module.exports = function (x) {\n  return x == ${n};\n};\n`;

const env = usePipeline({ prefix: "farm-eslintrc-" });
let repo: TestRepo;
const reports = new Map<string, Report>();

beforeAll(async () => {
  repo = new TestRepo(path.join(env.work, "repo"));
  repo.commit("c0: no eslintrc", { "src/a.js": eq(1), "src/deep/b.js": eq(2), "lib/c.js": eq(3), "d.js": eq(4) });
  repo.commit("c1: src turns eqeqeq on", { "src/.eslintrc.yml": "rules:\n  eqeqeq: error\n" });
  repo.commit("c2: src turns eqeqeq off, asks for a plugin farm does not bundle", {
    "src/.eslintrc.yml": "plugins: [react-hooks]\nrules:\n  eqeqeq: 'off'\n  react-hooks/exhaustive-deps: warn\n",
  });
  repo.commit("c3: src extends a shared config that turns eqeqeq on", {
    "src/.eslintrc.yml": "extends: ../config/base.yml\n",
    "config/base.yml": "rules:\n  eqeqeq: error\n",
  });
  repo.commit("c4: only the shared config changes", { "config/base.yml": "rules:\n  eqeqeq: warn\n" });
  const head = repo.shas[4];
  env.client.newSha({ repo: repo.dir, sha: head, history: 5 });
  await env.client.completed(repo.shas, 120_000);
  for (const sha of repo.shas) reports.set(sha, await env.client.report(repo.dir, sha));
}, 240_000);

const completedOf = (sha: string) => env.client.of("completed").find((e) => e.sha === sha)!;
const issues = (r: Report, ruleId: string) =>
  r.files
    .filter((f) => f.messages.some((m) => m.ruleId === ruleId))
    .map((f) => f.path)
    .sort();

describe("a repository's .eslintrc through the pipeline", () => {
  it("an .eslintrc.yml added in src/ re-lints exactly the files below it, whose issues are new", () => {
    const [c0, c1] = repo.shas;
    expect(issues(reports.get(c0)!, "eqeqeq")).toEqual([]);
    expect(issues(reports.get(c1)!, "eqeqeq")).toEqual(["src/a.js", "src/deep/b.js"]);
    // Only the two files whose effective config changed were linted again.
    expect(completedOf(c1).stats).toEqual({ files: 4, cacheHits: 2, queued: 2 });
    const added = reports.get(c1)!.delta!;
    expect(added.new.map((e) => [e.path, e.ruleId, e.line]).sort()).toEqual([
      ["src/a.js", "eqeqeq", 2],
      ["src/deep/b.js", "eqeqeq", 2],
    ]);
    expect(added.fixed).toEqual([]);
  });

  it("changed again, the issues it made are fixed, and an unbundled plugin is one note on the commit", () => {
    const c2 = repo.shas[2];
    const r2 = reports.get(c2)!;
    expect(issues(r2, "eqeqeq")).toEqual([]);
    expect(r2.delta!.fixed.map((e) => [e.path, e.ruleId]).sort()).toEqual([
      ["src/a.js", "eqeqeq"],
      ["src/deep/b.js", "eqeqeq"],
    ]);
    expect(r2.delta!.new).toEqual([]);
    // One note, in the report and the event; no file carries a message about the missing rule.
    const plugin = (r2.notes ?? []).filter((n) => n.includes("react-hooks"));
    expect(plugin).toHaveLength(1);
    expect(plugin[0]).toMatch(/src\/\.eslintrc\.yml/);
    expect(completedOf(c2).notes).toEqual(r2.notes);
    expect(r2.files.flatMap((f) => f.messages).filter((m) => /react-hooks|Definition for rule/.test(m.message))).toEqual([]);
  });

  it("a relative extends is read from the commit's tree: changing only the extended file re-lints the files below the config that extends it", () => {
    const [, , , c3, c4] = repo.shas;
    const r3 = reports.get(c3)!;
    expect(r3.notes ?? []).toEqual([]);
    expect(r3.delta!.new.map((e) => [e.path, e.ruleId, e.severity]).sort()).toEqual([
      ["src/a.js", "eqeqeq", 2],
      ["src/deep/b.js", "eqeqeq", 2],
    ]);
    const r4 = reports.get(c4)!;
    expect(completedOf(c4).stats).toEqual({ files: 4, cacheHits: 2, queued: 2 });
    const severity = (r: Report, file: string) => r.files.find((f) => f.path === file)!.messages.find((m) => m.ruleId === "eqeqeq")!.severity;
    expect([severity(r4, "src/a.js"), severity(r4, "src/deep/b.js")]).toEqual([1, 1]);
    expect(issues(r4, "eqeqeq")).toEqual(["src/a.js", "src/deep/b.js"]);
  });
});
