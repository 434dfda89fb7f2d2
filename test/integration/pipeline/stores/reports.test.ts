/**
 * The report store against a real nats-server: a commit analysed only as
 * another's baseline never replaces the report an analysis that requested it
 * stored (with its delta), whichever of the two is stored first.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { Objects, ReportStore, ResultCache } from "../../../../shared/pipeline/stores/index.js";
import type { StoredReport } from "../../../../shared/pipeline/stores/index.js";
import { useFarms } from "../../../harness/farms.js";

const env = useFarms(["farm"], { pipeline: true });
let reports: ReportStore;

beforeAll(async () => {
  const objects = await Objects.open(env.farm.nc);
  reports = await ReportStore.open(env.farm.nc, objects, await ResultCache.open(env.farm.nc, objects));
});

function head(sha: string, newIssues: number | null): Omit<StoredReport, "object"> {
  return {
    repo: "/repos/a",
    repoKey: "repos-a",
    sha,
    parent: "p".repeat(40),
    date: "2026-12-07T00:00:00Z",
    subject: "s",
    linters: {},
    summary: { files: 1, errors: 1, warnings: 0 },
    newIssues,
    fixedIssues: newIssues === null ? null : 0,
    completedAt: new Date().toISOString(),
  };
}

const delta = { new: [], fixed: [] };

describe("ReportStore.put", () => {
  it("ifAbsent keeps a report stored before it: the requested commit's, with its delta", async () => {
    const sha = "a".repeat(40);
    const requested = await reports.put(head(sha, 1), { files: [], delta });
    const baseline = await reports.put(head(sha, null), { files: [], delta: null }, { ifAbsent: true });
    expect(baseline.object).toBe(requested.object);
    expect((await reports.head("repos-a", sha))!.newIssues).toBe(1);
  });

  it("ifAbsent stores when there is none, and a requested commit's report replaces it after", async () => {
    const sha = "b".repeat(40);
    const baseline = await reports.put(head(sha, null), { files: [], delta: null }, { ifAbsent: true });
    expect((await reports.head("repos-a", sha))!.object).toBe(baseline.object);
    await reports.put(head(sha, 2), { files: [], delta });
    expect((await reports.head("repos-a", sha))!.newIssues).toBe(2);
  });
});
