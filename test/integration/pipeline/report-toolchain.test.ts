/**
 * A commit's own lint toolchain, as the splitter names it in the commit's file
 * list, reaches every place a report is read: the stored report (full and
 * summary views, and its SARIF), and `.completed` by its id, ESLint's version
 * and config file only. The real aggregator over a real nats-server; the file
 * list and results put in the real stores as the splitter and linter-runner leave them.
 */
import { describe, expect, it } from "vitest";
import { repoKey as keyOf } from "../../../shared/git/validate.js";
import type { CommitFiles, FileRef } from "../../../shared/pipeline/contract.js";
import { kvKeys, messageIds, objectNames, subjects } from "../../../shared/pipeline/names.js";
import type { ReportToolchain } from "../../../shared/pipeline/report.js";
import type { SarifLog } from "../../../shared/pipeline/sarif.js";
import { Objects, ResultCache } from "../../../shared/pipeline/stores/index.js";
import { usePipeline } from "../../harness/pipeline.js";

const env = usePipeline({ prefix: "farm-report-toolchain-", services: ["aggregator"] });
const repo = "/nonexistent/report-toolchain";
const repoKey = keyOf(repo);

const toolchain: ReportToolchain = {
  id: "7e".repeat(32),
  configFile: "eslint.config.mjs",
  format: "flat",
  eslint: "9.12.0",
  packages: { eslint: "9.12.0", "eslint-plugin-n": "17.10.3", "@eslint/markdown": "6.2.1" },
};

let n = 0;

/** Queues a commit of one file, its result already stored, as the splitter would; `extra` on its file list. */
async function commit(extra: Partial<CommitFiles>): Promise<string> {
  const { farm } = env.cluster;
  const objects = await Objects.open(farm.nc);
  const results = await ResultCache.open(farm.nc, objects);
  const sha = (++n).toString(16).padStart(40, "7");
  const file: FileRef = { path: "a.js", blob: sha.replace(/^7/, "b"), configId: "toolchain-test" };
  await results.put(kvKeys.result(file.blob, file.configId), {
    messages: [
      { linter: "eslint", ruleId: "n/no-missing-require", severity: 2, line: 1, column: 1, message: "'x' is not found.", context: "h", lineHash: "h" },
    ],
  });
  const files = await objects.tables.put(objectNames.files(repoKey, sha), objectNames.chunks(repoKey), [file], (f) => f.path);
  const c: CommitFiles = {
    requestId: `toolchain-${sha}`,
    repo,
    repoKey,
    sha,
    parent: null,
    parentExpected: false,
    requested: true,
    date: new Date(0).toISOString(),
    subject: "unit",
    files,
    linters: { eslint: "10.15.0" },
    stats: { files: 1, cacheHits: 1, queued: 0 },
    ...extra,
  };
  await farm.jobs.enqueue(subjects.commitFiles, [c], { id: () => messageIds.commitFiles(c.requestId, sha) });
  return sha;
}

describe("a commit linted with its own toolchain", () => {
  it("its report, summary view and SARIF carry the toolchain; .completed names it by id, ESLint's version and config file", async () => {
    const after = env.client.events.length;
    const sha = await commit({ toolchain, notes: ["a note"] });
    const done = (await env.client.completed([sha], 60_000, { after })).get(sha)!;
    expect(done.toolchain).toEqual({ id: toolchain.id, eslint: "9.12.0", configFile: "eslint.config.mjs" });
    expect(done.notes).toEqual(["a note"]);

    const report = await env.client.report(repo, sha);
    expect(report.toolchain).toEqual(toolchain);
    expect(report.files.map((f) => f.messages.map((m) => m.ruleId))).toEqual([["n/no-missing-require"]]);
    const summary = await env.client.request<{ toolchain?: unknown; files?: unknown }>("report.get", { repo, sha, view: "summary" });
    expect(summary.files).toBeUndefined();
    expect(summary.toolchain).toEqual(toolchain);
    const sarif = await env.client.request<SarifLog>("report.get", { repo, sha, format: "sarif" });
    expect(sarif.runs[0].tool.driver).toMatchObject({ name: "ESLint", version: "9.12.0" });
  });

  it("a commit whose config was read as data has no toolchain anywhere", async () => {
    const after = env.client.events.length;
    const sha = await commit({});
    const done = (await env.client.completed([sha], 60_000, { after })).get(sha)!;
    expect("toolchain" in done).toBe(false);
    const report = await env.client.report(repo, sha);
    expect("toolchain" in report).toBe(false);
    const summary = await env.client.request<Record<string, unknown>>("report.get", { repo, sha, view: "summary" });
    expect("toolchain" in summary).toBe(false);
    const sarif = await env.client.request<SarifLog>("report.get", { repo, sha, format: "sarif" });
    expect(sarif.runs[0].tool.driver.name).toBe("farm");
  });
});
