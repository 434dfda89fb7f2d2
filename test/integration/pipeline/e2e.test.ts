/**
 * The analysis pipeline end to end: a real repo, a real nats-server, the four
 * services in-process, a bare NATS client speaking raw JSON, and ESLint run
 * directly on each commit's checkout as the oracle.
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { countRules, type DeltaEntry, type Report, type ReportSummary } from "../../../shared/pipeline/report.js";
import { TestRepo } from "../../harness/git.js";
import { usePipeline, type AnalysisEvent } from "../../harness/pipeline.js";
import { eslintOracle, reportAsOracle } from "./helpers.js";

// ---- the repository -------------------------------------------------------------------

const UTIL_V1 = `"use strict";
const path = require("path");

function join(a, b) {
  return path.join(a, b);
}

function unused(x) {
  return x;
}

module.exports = { join };
`;

// An edit that keeps the existing issue on the same line.
const UTIL_V2 = UTIL_V1.replace("return path.join(a, b);", 'return path.join(a, b, "x");');

// Adds an unused variable above the existing issue: one new issue, the old one only moves.
const UTIL_V3 = UTIL_V2.replace('const path = require("path");\n', 'const path = require("path");\nconst unusedThing = 42;\n');

const SHIFT_V1 = `const value = 1;
if (value === 1) {
  console.log(undefinedThing);
}
module.exports = value;
`;

// Four clean lines inserted above the issue: same issue, new line number.
const SHIFT_V2 = `// a header comment
const other = 2;
module.exports.other = other;

${SHIFT_V1}`;

// The same statement again, unindented, further down: a second occurrence is a new issue.
const SHIFT_V3 = `${SHIFT_V2}console.log(undefinedThing);
`;

const TYPES_TS = `export function f(a: any): number {
  let b = 1;
  return a + b;
}
`;

const BINARY = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x01]);

function buildRepo(dir: string): TestRepo {
  const repo = new TestRepo(dir);
  repo.commit("c1: add files", {
    "package.json": JSON.stringify({ name: "fixture", version: "1.0.0" }, null, 2),
    "src/util.js": UTIL_V1,
    "src/shift.js": SHIFT_V1,
    "src/old-name.js": "debugger;\nmodule.exports = 1;\n",
    "src/broken.js": "function broken( {\n  return 1;\n}\n",
    "src/keep.js": "const x = 1;\nif (x) {\n}\nmodule.exports = x;\n",
    "src/modern.mjs": "export default function f(a) {\n  return a;\n}\n",
    "src/legacy.cjs": "module.exports = function (a, b) {\n  return a;\n};\n",
    "esm/package.json": JSON.stringify({ type: "module" }),
    "esm/mod.js": 'import fs from "node:fs";\nexport const read = (p) => fs.readFileSync(p);\nconst unusedEsm = 1;\n',
    "node_modules/dep/index.js": "debugger;\nundefinedVar;\n",
    "vendor/lib.js": "debugger;\n",
    "dist/app.min.js": "debugger;\n",
    "lib/packed.js": `debugger;${"var a=1;".repeat(1000)}\n`,
    "big/huge.js": `debugger;\n${"x;\n".repeat(200 * 1024)}`,
    "assets/logo.png": BINARY,
    "lib/data.js": Buffer.concat([Buffer.from("var x = 1;\n"), BINARY]),
    "README.md": "# fixture\n",
  });
  repo.commit("c2: edit util, add a TypeScript file", { "src/util.js": UTIL_V2, "src/types.ts": TYPES_TS });
  repo.commit("c3: unused variable, rename", { "src/util.js": UTIL_V3 }, [["src/old-name.js", "src/new-name.js"]]);
  repo.commit("c4: fix the unused variable, shift lines", { "src/util.js": UTIL_V2, "src/shift.js": SHIFT_V2 });
  repo.commit("c5: delete the broken file, repeat an issue", { "src/broken.js": null, "src/shift.js": SHIFT_V3 });
  return repo;
}

// ---- the run --------------------------------------------------------------------------

const env = usePipeline({ prefix: "farm-e2e-" });
let repo: TestRepo;
let shas: string[];
const firstRun = new Map<string, AnalysisEvent>();
const reports = new Map<string, Report>();

beforeAll(() => {
  repo = buildRepo(path.join(env.work, "repo"));
  shas = repo.shas;
});

const byPath = (entries: DeltaEntry[], p: string) => entries.filter((e) => e.path === p);

describe("pipeline end to end", () => {
  it("analyzes all five commits from one raw JSON repo.new_sha with history 4", async () => {
    env.client.newSha({ repo: repo.dir, sha: shas[4], ref: "refs/heads/main", history: 4 });
    const done = await env.client.completed(shas, 180_000);
    for (const [sha, e] of done) firstRun.set(sha, e);
    for (const sha of shas) {
      const e = firstRun.get(sha)!;
      expect(e.repo).toBe(repo.dir);
      expect(e.requested).toBe(true);
      expect(e.stats!.files).toBe(e.stats!.cacheHits + e.stats!.queued);
    }
    // The first commit has everything to lint; later ones only what changed.
    expect(firstRun.get(shas[0])!.parent).toBeNull();
    expect(firstRun.get(shas[1])!.parent).toBe(shas[0]);
    expect(env.client.of("failed")).toEqual([]);
    const started = env.client.of("started").find((e) => Array.isArray(e.commits));
    expect(started?.commits).toEqual(expect.arrayContaining(shas));

    for (const sha of shas) reports.set(sha, await env.client.report(repo.dir, sha));
  }, 240_000);

  it("every report equals ESLint run directly on that commit's checkout", async () => {
    expect(reports.size).toBe(5);
    for (const [i, sha] of shas.entries()) {
      const checkout = repo.checkout(sha, path.join(env.work, `checkout-${i + 1}`));
      const expected = await eslintOracle(checkout);
      const report = reports.get(sha)!;
      expect(report.sha).toBe(sha);
      expect(report.repo).toBe(repo.dir);
      expect(report.parent).toBe(i === 0 ? null : shas[i - 1]);
      expect(Object.keys(report.linters)).toContain("eslint");
      const actual = reportAsOracle(report);
      // Same files (node_modules, the binary .js, non-source files left out), same messages.
      expect([...actual.keys()].sort(), `files of commit ${i + 1}`).toEqual([...expected.keys()].sort());
      for (const [file, messages] of expected) expect(actual.get(file), `${file} at commit ${i + 1}`).toEqual(messages);
      const all = [...expected.values()].flat();
      expect(report.summary).toEqual({
        files: expected.size,
        errors: all.filter((m) => m.severity === 2).length,
        warnings: all.filter((m) => m.severity === 1).length,
      });
      expect(firstRun.get(sha)!.summary).toEqual(report.summary);
      expect(firstRun.get(sha)!.delta).toEqual(report.delta && { new: report.delta.new.length, fixed: report.delta.fixed.length });
    }
    // The engineered cases are really there (the oracle could otherwise agree on nothing).
    const c1 = reportAsOracle(reports.get(shas[0])!);
    expect(c1.get("src/broken.js")?.[0]).toMatchObject({ ruleId: null, severity: 2, line: 2 });
    expect(c1.get("src/broken.js")?.[0].message).toMatch(/Parsing error/);
    expect(c1.get("esm/mod.js")?.map((m) => m.ruleId)).toEqual(["no-unused-vars"]);
    // Vendored, minified (by name and by content), oversized and binary files are left out.
    for (const p of ["node_modules/dep/index.js", "vendor/lib.js", "dist/app.min.js", "lib/packed.js", "big/huge.js", "lib/data.js"])
      expect(c1.has(p), p).toBe(false);
    expect(
      reportAsOracle(reports.get(shas[1])!)
        .get("src/types.ts")
        ?.map((m) => m.ruleId),
    ).toEqual(expect.arrayContaining(["@typescript-eslint/no-explicit-any", "prefer-const"]));
  }, 120_000);

  it("deltas: new and fixed issues, a rename followed, a pure line shift is not new", () => {
    const [r1, r2, r3, r4, r5] = shas.map((s) => reports.get(s)!);
    expect(r1.delta).toBeNull();

    // c2: util.js edited without touching its issue; the TS file's issues are new.
    expect(byPath(r2.delta!.new, "src/util.js")).toEqual([]);
    expect(
      byPath(r2.delta!.new, "src/types.ts")
        .map((e) => e.ruleId)
        .sort(),
    ).toEqual(
      reports
        .get(shas[1])!
        .files.find((f) => f.path === "src/types.ts")!
        .messages.map((m) => m.ruleId)
        .sort(),
    );
    expect(r2.delta!.fixed).toEqual([]);

    // c3: the unused variable is new; the function that moved down a line is not.
    expect(byPath(r3.delta!.new, "src/util.js")).toEqual([
      expect.objectContaining({ ruleId: "no-unused-vars", line: 3, message: "'unusedThing' is assigned a value but never used." }),
    ]);
    // A renamed file: its issue is followed to the new path, neither new nor fixed, and keeps its fingerprint.
    expect(r3.delta!.moved).toEqual([{ from: "src/old-name.js", to: "src/new-name.js" }]);
    expect(r3.delta!.new).toHaveLength(1);
    expect(r3.delta!.fixed).toEqual([]);
    const debuggerIn = (r: Report, file: string) => r.files.find((f) => f.path === file)!.messages.find((m) => m.ruleId === "no-debugger")!;
    expect(debuggerIn(r3, "src/new-name.js").fingerprint).toBe(debuggerIn(r2, "src/old-name.js").fingerprint);

    // c4: the unused variable is fixed; shift.js's issue moved from line 3 to 7 and is neither new nor fixed.
    expect(r4.delta!.fixed).toEqual([expect.objectContaining({ path: "src/util.js", ruleId: "no-unused-vars", line: 3 })]);
    expect(r4.delta!.new).toEqual([]);
    const shifted = (r: Report) => r.files.find((f) => f.path === "src/shift.js")!.messages.find((m) => m.ruleId === "no-undef")!;
    expect(shifted(r3).line).toBe(3);
    expect(shifted(r4).line).toBe(7);
    expect(shifted(r4).fingerprint).toBe(shifted(r3).fingerprint);

    // c5: the deleted file's parse error is fixed; the second occurrence of the same line is new.
    expect(r5.delta!.fixed).toEqual([expect.objectContaining({ path: "src/broken.js", ruleId: null, severity: 2 })]);
    expect(r5.delta!.new).toEqual([expect.objectContaining({ path: "src/shift.js", ruleId: "no-undef", line: 10 })]);
  });

  it("a second run of the same commits lints nothing and gives identical reports", async () => {
    const after = env.client.events.length;
    env.client.newSha({ repo: repo.dir, sha: shas[4], history: 4 });
    const again = await env.client.completed(shas, 120_000, { after });
    for (const sha of shas) {
      const stats = again.get(sha)!.stats!;
      expect(stats.queued, `queued at ${sha}`).toBe(0);
      expect(stats.cacheHits).toBe(stats.files);
      expect(stats.files).toBe(firstRun.get(sha)!.stats!.files);
      expect(await env.client.report(repo.dir, sha)).toEqual(reports.get(sha));
    }
  }, 180_000);

  it("report.get with view summary is the report without its files, with its rule counts", async () => {
    for (const sha of shas) {
      const { files, ...rest } = reports.get(sha)!;
      const summary = await env.client.request<ReportSummary>("report.get", { repo: repo.dir, sha, view: "summary" });
      expect(summary).toEqual({ ...rest, rules: countRules(files) });
      expect(Object.values(summary.rules).reduce((a, b) => a + b, 0)).toBe(rest.summary.errors + rest.summary.warnings);
    }
  });

  it("report.get: an unknown commit or a bad request is an {error} JSON reply", async () => {
    const unknown = await env.client.request<{ error?: string }>("report.get", { repo: repo.dir, sha: "0".repeat(40) });
    expect(unknown.error).toMatch(/no report/);
    const bad = await env.client.request<{ error?: string }>("report.get", { repo: repo.dir });
    expect(bad.error).toMatch(/report\.get needs/);
    // Upper-case sha, the file:// spelling of the same repo, a trailing slash: the same report.
    expect(await env.client.report(repo.dir, shas[2].toUpperCase())).toEqual(reports.get(shas[2]));
    expect(await env.client.report(pathToFileURL(repo.dir).href, shas[2])).toEqual(reports.get(shas[2]));
    expect(await env.client.report(`${repo.dir}/`, shas[2])).toEqual(reports.get(shas[2]));
  });

  it("lint.file answers raw JSON with the file's messages", async () => {
    const r = await env.client.request<{ messages: { ruleId: string | null; line: number; column: number; message: string }[] }>("lint.file", {
      path: "x.js",
      content: "var a = 1;\nundefinedName();\n",
    });
    expect(r.messages.map((m) => [m.ruleId, m.line, m.column])).toEqual([
      ["no-unused-vars", 1, 5],
      ["no-undef", 2, 1],
    ]);
    const ts = await env.client.request<{ messages: { ruleId: string | null }[] }>("lint.file", { path: "y.ts", content: "let v: any = 1;\nexport { v };\n" });
    expect(ts.messages.map((m) => m.ruleId)).toEqual(expect.arrayContaining(["@typescript-eslint/no-explicit-any", "prefer-const"]));
    const bad = await env.client.request<{ error?: string }>("lint.file", { path: "x.js" });
    expect(bad.error).toMatch(/lint\.file needs/);
    // Answers that cannot fit in one reply are an {error}, not a silent timeout.
    const tooBig = await env.client.request<{ error?: string }>("lint.file", { path: "x.js", content: "x;\n".repeat(200 * 1024) });
    expect(tooBig.error).toMatch(/files over 524288 bytes are not linted/);
    const tooMany = await env.client.request<{ error?: string }>("lint.file", { path: "x.js", content: "debugger;\n".repeat(12_000) });
    expect(tooMany.error).toMatch(/12000 messages .* more than one reply can carry/);
  });

  it("report.get with format sarif is SARIF 2.1.0 with baseline states from the delta", async () => {
    const sarif = (await env.client.request<unknown>("report.get", { repo: repo.dir, sha: shas[2], format: "sarif" })) as {
      version: string;
      $schema: string;
      runs: {
        tool: { driver: { name: string; rules: { id: string }[] } };
        results: {
          ruleId: string;
          level: string;
          message: { text: string };
          baselineState?: string;
          locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number; startColumn: number } } }[];
        }[];
      }[];
    };
    expect(sarif.version).toBe("2.1.0");
    expect(sarif.$schema).toMatch(/sarif-2\.1\.0/);
    expect(sarif.runs).toHaveLength(1);
    const run = sarif.runs[0];
    expect(run.tool.driver.name).toBe("farm");
    const report = reports.get(shas[2])!;
    const issues = report.files.flatMap((f) => f.messages);
    // Every current issue, plus the fixed ones as "absent".
    expect(run.results).toHaveLength(issues.length + report.delta!.fixed.length);
    const ruleIds = new Set(run.tool.driver.rules.map((r) => r.id));
    for (const r of run.results) {
      expect(typeof r.ruleId).toBe("string");
      expect(["error", "warning", "note", "none"]).toContain(r.level);
      expect(r.message.text.length).toBeGreaterThan(0);
      expect(r.locations[0].physicalLocation.artifactLocation.uri).toMatch(/^[^/]/);
      expect(r.locations[0].physicalLocation.region.startLine).toBeGreaterThanOrEqual(1);
      expect(r.locations[0].physicalLocation.region.startColumn).toBeGreaterThanOrEqual(1);
      expect(["new", "unchanged", "updated", "absent"]).toContain(r.baselineState);
      if (r.baselineState !== "absent") expect(ruleIds.has(r.ruleId)).toBe(true);
    }
    const state = (uri: string, rule: string) =>
      run.results.filter((r) => r.locations[0].physicalLocation.artifactLocation.uri === uri && r.ruleId === rule).map((r) => r.baselineState);
    expect(state("src/util.js", "eslint/no-unused-vars").sort()).toEqual(["new", "unchanged"]);
    // Renamed: unchanged at its new path, nothing absent at the old one.
    expect(state("src/new-name.js", "eslint/no-debugger")).toEqual(["unchanged"]);
    expect(state("src/old-name.js", "eslint/no-debugger")).toEqual([]);
    expect(state("src/broken.js", "eslint/parse-error")).toEqual(["unchanged"]);
    expect(run.results.filter((r) => r.baselineState === "new")).toHaveLength(report.delta!.new.length);
    // The root commit has no baseline: no baselineState at all.
    const root = (
      await env.client.request<{ runs: { results: { baselineState?: string }[] }[] }>("report.get", { repo: repo.dir, sha: shas[0], format: "sarif" })
    ).runs[0];
    expect(root.results.length).toBeGreaterThan(0);
    expect(root.results.every((r) => r.baselineState === undefined)).toBe(true);
  });
});
