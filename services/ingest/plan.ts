/**
 * Which commits an analysis lints: the requested history, plus the oldest
 * commit's parent as the baseline of its delta when that has no report yet;
 * and the `.started` event that says so.
 */
import { firstParentHistory, type CommitInfo } from "../../shared/git/index.js";
import type { AnalysisStartedEvent, CommitRef } from "../../shared/pipeline/contract.js";
import type { ReportStore } from "../../shared/pipeline/stores/index.js";

/** What every commit of one analysis shares. */
export type AnalysisRef = Pick<CommitRef, "requestId" | "repo" | "repoKey" | "lane" | "tenant">;

/** What only the request's head commit carries. */
export type HeadRef = Pick<CommitRef, "branch">;

/** The requested commits (`commits`, read from `mirror`), plus the oldest one's parent when it has no report yet (the delta needs it). */
export async function planCommits(
  reports: Pick<ReportStore, "head">,
  base: AnalysisRef,
  mirror: string,
  commits: CommitInfo[],
  head: HeadRef = {},
): Promise<CommitRef[]> {
  const oldestParent = commits.at(-1)?.parents[0];
  const baseline = oldestParent && !(await reports.head(base.repoKey, oldestParent)) ? (await firstParentHistory(mirror, oldestParent, 0))[0] : undefined;
  const all = baseline ? [...commits, baseline] : commits;
  const inPlan = new Set(all.map((c) => c.sha));
  // Newest first: the first commit is the request's own.
  return all.map((c, i) => ({ ...commitRef(base, c, c !== baseline, inPlan), ...(i === 0 && c !== baseline ? head : {}) }));
}

/** The `.started` event of a plan: the requested commits and the baseline analyzed with them. */
export function startedEvent(req: { repo: string; sha: string }, plan: readonly CommitRef[]): AnalysisStartedEvent {
  return {
    repo: req.repo,
    sha: req.sha,
    commits: plan.filter((c) => c.requested).map((c) => c.sha),
    // Analyzed too, for the first delta: its linting is part of what this request costs.
    baseline: plan.find((c) => !c.requested)?.sha ?? null,
  };
}

function commitRef(base: AnalysisRef, c: CommitInfo, requested: boolean, inPlan: Set<string>): CommitRef {
  const parent = c.parents[0] ?? null;
  return {
    ...base,
    sha: c.sha,
    parent,
    parentExpected: parent !== null && inPlan.has(parent),
    requested,
    date: c.authorDate,
    subject: c.subject,
  };
}
