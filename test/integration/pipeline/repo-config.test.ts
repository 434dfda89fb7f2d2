/**
 * Repo JSON configuration through the whole pipeline: `.farm.json` ignores and
 * rule overrides (checked against ESLint run directly with the same
 * overrides), `.jshintrc` turning JSHint on, a config change making issues
 * of unchanged files new, and invalid rule options: the commit's configuration
 * error (`.failed` with the reason, at once), never a stuck or false report.
 */
import path from "node:path";
import { ESLint } from "eslint";
import js from "@eslint/js";
import globals from "globals";
import { beforeAll, describe, expect, it } from "vitest";
import type { Report } from "../../../shared/pipeline/report.js";
import { TestRepo } from "../../harness/git.js";
import { usePipeline } from "../../harness/pipeline.js";
import { waitFor } from "../../harness/wait.js";
import { reportAsOracle, sortMessages, type OracleMessage } from "./helpers.js";

const A_JS = "const unused = 1;\nmodule.exports = function (x) {\n  return x == 2;\n};\n";
const OLD_JS = "x = 1;\nmodule.exports = x;\n";

const env = usePipeline({ prefix: "farm-repo-config-" });
let repo: TestRepo;
const reports = new Map<string, Report>();

beforeAll(() => {
  repo = new TestRepo(path.join(env.work, "repo"));
  repo.commit("c0: broken settings", { ".farm.json": "{not json", "src/a.js": A_JS });
  repo.commit("c1: settings", {
    ".farm.json": JSON.stringify({ ignores: ["gen/"], rules: { "no-unused-vars": "warn" } }),
    "src/a.js": A_JS,
    "gen/out.js": "debugger;\n",
    "legacy/.jshintrc": JSON.stringify({ undef: true, node: true }),
    "legacy/old.js": OLD_JS,
  });
  repo.commit("c2: turn eqeqeq on", { ".farm.json": JSON.stringify({ ignores: ["gen/"], rules: { "no-unused-vars": "warn", eqeqeq: "error" } }) });
  repo.commit("c3: invalid rule options", { ".farm.json": JSON.stringify({ rules: { "no-unused-vars": ["error", { bogus: true }] } }) });
  repo.commit("c4: one more file, same invalid options", { "src/b.js": "module.exports = 2;\n" });
});

/** ESLint directly on one file's content with the documented default plus `rules`. */
async function oracle(file: string, content: string, rules: Record<string, unknown>): Promise<OracleMessage[]> {
  const eslint = new ESLint({
    cwd: env.work,
    overrideConfigFile: true,
    overrideConfig: [
      js.configs.recommended,
      { languageOptions: { ecmaVersion: "latest", sourceType: "commonjs", globals: globals.node } },
      { rules: rules as never },
    ],
  });
  const [r] = await eslint.lintText(content, { filePath: path.join(env.work, file) });
  return sortMessages(r.messages.map((m) => ({ ruleId: m.ruleId, severity: m.severity, line: m.line, column: m.column, message: m.message })));
}

const eslintOnly = (r: Report) =>
  new Map(reportAsOracle({ ...r, files: r.files.map((f) => ({ ...f, messages: f.messages.filter((m) => m.linter === "eslint") })) }));

describe(".farm.json and .jshintrc through the pipeline", () => {
  let c0: string;

  it("analyzes three commits; the baseline commit with an unreadable .farm.json fails without stalling its child", async () => {
    c0 = repo.shas.shift()!;
    const shas = repo.shas.slice(0, 2);
    const c3 = repo.shas[2];
    env.client.newSha({ repo: repo.dir, sha: c3, history: 2 });
    await env.client.completed(shas, 120_000, { expectFailed: [c0, c3] });
    for (const sha of shas) reports.set(sha, await env.client.report(repo.dir, sha));
    await waitFor("c3's failed event", () => env.client.of("failed").some((e) => e.sha === c3), 30_000);
    expect(env.client.of("failed")).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ repo: repo.dir, sha: c0, reason: expect.stringMatching(/\.farm\.json: invalid JSON/) }),
        expect.objectContaining({
          repo: repo.dir,
          sha: c3,
          reason: expect.stringMatching(/^\.farm\.json: invalid options for rule "no-unused-vars": .*"bogus"/),
        }),
      ]),
    );
    expect(env.client.of("failed")).toHaveLength(2);
    const r0 = await env.client.request<{ error?: string }>("report.get", { repo: repo.dir, sha: c0 });
    expect(r0.error).toMatch(/analysis .* failed: \.farm\.json: invalid JSON/);
    // No baseline: no delta, rather than every issue of the first good commit "new".
    expect(reports.get(shas[0])!.parent).toBe(c0);
    expect(reports.get(shas[0])!.delta).toBeNull();
  }, 180_000);

  it("ignores and rule overrides are honoured, as ESLint itself applies them", async () => {
    const r1 = reports.get(repo.shas[0])!;
    expect(r1.files.map((f) => f.path).sort()).toEqual(["legacy/old.js", "src/a.js"]);
    const e1 = eslintOnly(r1);
    expect(e1.get("src/a.js")).toEqual(await oracle("src/a.js", A_JS, { "no-unused-vars": "warn" }));
    expect(e1.get("src/a.js")!.map((m) => [m.ruleId, m.severity])).toEqual([["no-unused-vars", 1]]);
    expect(e1.get("legacy/old.js")).toEqual(await oracle("legacy/old.js", OLD_JS, { "no-unused-vars": "warn" }));
    // JSHint runs where a .jshintrc applies, and only there.
    const linters = (p: string) => new Set(r1.files.find((f) => f.path === p)!.messages.map((m) => m.linter));
    expect(linters("legacy/old.js")).toEqual(new Set(["eslint", "jshint"]));
    expect(r1.files.find((f) => f.path === "legacy/old.js")!.messages.find((m) => m.linter === "jshint")!.message).toMatch(/'x' is not defined/);
    expect(linters("src/a.js")).toEqual(new Set(["eslint"]));
    expect(Object.keys(r1.linters).sort()).toEqual(expect.arrayContaining(["eslint", "jshint"]));
  });

  it("a rule turned on in .farm.json makes the issues of unchanged files new", async () => {
    const r2 = reports.get(repo.shas[1])!;
    expect(r2.files.find((f) => f.path === "src/a.js")!.blob).toBe(reports.get(repo.shas[0])!.files.find((f) => f.path === "src/a.js")!.blob);
    expect(eslintOnly(r2).get("src/a.js")).toEqual(await oracle("src/a.js", A_JS, { "no-unused-vars": "warn", eqeqeq: "error" }));
    expect(r2.delta!.new).toEqual([expect.objectContaining({ path: "src/a.js", ruleId: "eqeqeq", line: 3 })]);
    expect(r2.delta!.fixed).toEqual([]);
  });

  it("invalid rule options fail the commit with the reason: no report, no per-file messages", async () => {
    const r3 = await env.client.request<{ error?: string }>("report.get", { repo: repo.dir, sha: repo.shas[2] });
    expect(r3.error).toMatch(/invalid options for rule "no-unused-vars"/);
  });

  it("a later commit with the same invalid options fails the same way, at once", async () => {
    const sha = repo.shas[3];
    const after = env.client.events.length;
    env.client.newSha({ repo: repo.dir, sha });
    const failed = await waitFor(
      "c4's failed event",
      () => env.client.events.slice(after).find((e) => e.subject === "repo.analysis.failed" && e.data.sha === sha),
      30_000,
    );
    expect(failed.data.reason).toMatch(/invalid options for rule "no-unused-vars"/);
    expect(env.client.events.slice(after).filter((e) => e.subject === "repo.analysis.completed" && e.data.sha === sha)).toEqual([]);
  }, 90_000);
});
