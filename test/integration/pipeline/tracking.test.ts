/**
 * Issue tracking through the real pipeline (git → ingest → splitter →
 * linter-runner → aggregator on a real nats-server): a history made here
 * where files are renamed, reformatted, reordered, moved with their
 * directory, copied and edited. Only real new issues and real fixes count.
 */
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { HistoryIssuesReply } from "../../../shared/pipeline/contract.js";
import type { Report } from "../../../shared/pipeline/report.js";
import { TestRepo } from "../../harness/git.js";
import { usePipeline } from "../../harness/pipeline.js";

const ALPHA = `function alpha (a, b) {
  const unusedA = a + b
  debugger
  return 'alpha'
}
`;
const BETA = `function beta (x) {
  const unusedB = x * 2
  return 'beta'
}
`;
const EXPORTS = "module.exports = { alpha, beta }\n";
const UTIL = `${ALPHA}\n${BETA}\n${EXPORTS}`;
// As Prettier writes it: statements split over lines, semicolons added, double quotes.
const UTIL_PRETTIER = `function alpha(
  a,
  b,
) {
  const unusedA =
    a +
    b;
  debugger;
  return "alpha";
}

function beta(x) {
  const unusedB = x * 2;
  return "beta";
}

module.exports = { alpha, beta };
`;
const [ALPHA_P, BETA_P] = UTIL_PRETTIER.split("\n\n");
const UTIL_REORDERED = `${BETA_P}\n\n${ALPHA_P}\n\nmodule.exports = { alpha, beta };\n`;
// Twelve issues: renamed and edited, only the edit is new.
const OTHER = Array.from({ length: 12 }, (_, i) => `exports.f${i} = function f${i} (v) {\n  debugger\n  return v + ${i}\n}\n`).join("");

const env = usePipeline({ prefix: "farm-tracking-" });
let repo: TestRepo;
const sha: Record<string, string> = {};
const reports = new Map<string, Report>();

beforeAll(async () => {
  repo = new TestRepo(path.join(env.work, "repo"));
  sha.start = repo.commit("start: three issues in src/util.js", { "package.json": '{"name":"tracking"}\n', "src/util.js": UTIL, "src/other.js": OTHER });
  sha.rename = repo.commit("rename util.js", {}, [["src/util.js", "src/helpers.js"]]);
  sha.reformat = repo.commit("reformat", { "src/helpers.js": UTIL_PRETTIER });
  sha.reorder = repo.commit("reorder functions", { "src/helpers.js": UTIL_REORDERED });
  sha.renameDir = repo.commit("rename src/ to lib/", {}, [["src", "lib"]]);
  sha.newIssue = repo.commit("a real new issue", { "lib/helpers.js": UTIL_REORDERED.replace('  return "beta";', '  const unusedC = 3;\n  return "beta";') });
  sha.fix = repo.commit("a real fix", {
    "lib/helpers.js": UTIL_REORDERED.replace('  return "beta";', '  const unusedC = 3;\n  return "beta";').replace("  debugger;\n", ""),
  });
  const current = repo.git("show", `${sha.fix}:lib/helpers.js`);
  sha.copy = repo.commit("copy helpers.js and edit the copy", { "lib/copy.js": current.replace("function alpha(", "const unusedD = 4;\nfunction alpha(") });
  sha.moveEdit = repo.commit("rename other.js and edit it", { "lib/other.js": null, "lib/renamed.js": `${OTHER}const unusedE = 5;\n` });
  repo.commit("edit a statement with an issue", { "lib/helpers.js": current.replace("const unusedB = x * 2;", "const unusedB = x * 3;") });
  sha.edit = repo.head();
  const shas = repo.shas;
  env.client.newSha({ repo: repo.dir, sha: sha.edit, history: shas.length - 1 });
  await env.client.completed(shas, 180_000);
  for (const s of shas) reports.set(s, await env.client.report(repo.dir, s));
}, 240_000);

/** A commit's delta as [new, fixed] messages. */
function delta(s: string): [string[], string[]] {
  const d = reports.get(s)!.delta!;
  return [d.new.map((e) => `${e.path}: ${e.message}`), d.fixed.map((e) => `${e.path}: ${e.message}`)];
}

describe("issue tracking", () => {
  it("starts with the three issues of src/util.js", () => {
    const util = reports.get(sha.start)!.files.find((f) => f.path === "src/util.js")!;
    expect(util.messages.map((m) => m.ruleId).sort()).toEqual(["no-debugger", "no-unused-vars", "no-unused-vars"]);
  });

  it("finds nothing new or fixed in a rename, a reformat, reordered functions and a renamed directory", () => {
    for (const s of [sha.rename, sha.reformat, sha.reorder, sha.renameDir]) expect(delta(s), reports.get(s)!.subject).toEqual([[], []]);
    expect(reports.get(sha.rename)!.delta!.moved).toEqual([{ from: "src/util.js", to: "src/helpers.js" }]);
    expect(reports.get(sha.renameDir)!.delta!.moved!.map((m) => m.to)).toEqual(["lib/helpers.js", "lib/other.js"]);
  });

  it("keeps each issue's fingerprint through the rename, the reformat and the move", () => {
    const prints = (s: string, file: string) =>
      reports
        .get(s)!
        .files.find((f) => f.path === file)!
        .messages.map((m) => m.fingerprint)
        .sort();
    const first = prints(sha.start, "src/util.js");
    expect(prints(sha.rename, "src/helpers.js")).toEqual(first);
    expect(prints(sha.reformat, "src/helpers.js")).toEqual(first);
    expect(prints(sha.renameDir, "lib/helpers.js")).toEqual(first);
  });

  it("sees a real new issue and a real fix exactly once each", () => {
    expect(delta(sha.newIssue)).toEqual([["lib/helpers.js: 'unusedC' is assigned a value but never used."], []]);
    expect(delta(sha.fix)).toEqual([[], ["lib/helpers.js: Unexpected 'debugger' statement."]]);
  });

  it("gives a copied and edited file exactly its edit, and a renamed and edited one exactly its edit", () => {
    expect(delta(sha.copy)).toEqual([["lib/copy.js: 'unusedD' is assigned a value but never used."], []]);
    expect(reports.get(sha.copy)!.delta!.moved).toEqual([{ from: "lib/helpers.js", to: "lib/copy.js", copy: true }]);
    expect(delta(sha.moveEdit)).toEqual([["lib/renamed.js: 'unusedE' is assigned a value but never used."], []]);
  });

  it("keeps an issue whose statement was edited, carrying it to its new fingerprint", () => {
    expect(delta(sha.edit)).toEqual([[], []]);
    expect(reports.get(sha.edit)!.delta!.carried).toHaveLength(1);
  });

  it("says every issue at the end was introduced where it really came in, across renames and edits", async () => {
    const helpers = reports.get(sha.edit)!.files.find((f) => f.path === "lib/helpers.js")!;
    const fingerprints = helpers.messages.map((m) => m.fingerprint!);
    const r = await env.client.request<HistoryIssuesReply>("history.issues", { repo: repo.dir, sha: sha.edit, fingerprints, path: "lib/helpers.js" });
    const introduced = Object.fromEntries(helpers.messages.map((m) => [m.message, r.issues.find((i) => i.fingerprint === m.fingerprint)!.introduced?.subject]));
    expect(introduced).toEqual({
      "'unusedA' is assigned a value but never used.": "start: three issues in src/util.js",
      "'unusedB' is assigned a value but never used.": "start: three issues in src/util.js",
      "'unusedC' is assigned a value but never used.": "a real new issue",
    });
  });

  it("says where a fixed issue was fixed, following it forward from before the renames", async () => {
    const util = reports.get(sha.start)!.files.find((f) => f.path === "src/util.js")!;
    const dbg = util.messages.find((m) => m.ruleId === "no-debugger")!;
    const r = await env.client.request<HistoryIssuesReply>("history.issues", {
      repo: repo.dir,
      sha: sha.start,
      fingerprints: [dbg.fingerprint],
      path: "src/util.js",
    });
    expect(r.issues[0].fixed?.sha).toBe(sha.fix);
  });
});
