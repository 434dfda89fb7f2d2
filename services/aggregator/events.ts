/** The aggregator's analysis events of one commit: `.progress` while its results come in, `.completed` once its report is stored. */
import type { Events } from "../../shared/fabric/events.js";
import { publishAnalysisEvent } from "../../shared/pipeline/announce.js";
import type { CommitFiles, CompletedEvent, CompletedToolchain } from "../../shared/pipeline/contract.js";
import { subjects } from "../../shared/pipeline/names.js";
import type { ReportToolchain } from "../../shared/pipeline/report.js";
import type { StoredReport } from "../../shared/pipeline/stores/index.js";

/** Default ms between progress events of one commit. */
export const DEFAULT_PROGRESS_EVERY_MS = 500;

type Publisher = Pick<Events, "publish">;

/** `.completed`, with the same id when a redelivered task announces the stored report again. */
export function announceCompleted(events: Publisher, c: CommitFiles, report: StoredReport): void {
  const event: CompletedEvent = {
    repo: c.repo,
    sha: c.sha,
    parent: c.parent,
    requested: c.requested,
    summary: report.summary,
    // Null exactly when the stored report's delta is (no parent, or no baseline).
    delta: report.newIssues === null || report.fixedIssues === null ? null : { new: report.newIssues, fixed: report.fixedIssues },
    ...(report.notes ? { notes: report.notes } : {}),
    ...(report.toolchain ? { toolchain: completedToolchain(report.toolchain) } : {}),
    stats: c.stats,
  };
  publishAnalysisEvent(events, subjects.completed, event, c.requestId, c.sha);
}

/** The toolchain as `.completed` names it: its id, ESLint's version and config file; the packages stay in the report, however many. */
function completedToolchain(t: ReportToolchain): CompletedToolchain {
  return { id: t.id, eslint: t.eslint, configFile: t.configFile };
}

/** Reports how many of `total` results are missing: `.progress` at most every `everyMs`, and once none is. */
export function progressOf(events: Publisher, c: CommitFiles, total: number, everyMs = DEFAULT_PROGRESS_EVERY_MS): (missing: number) => void {
  let last = 0;
  return (missing: number) => {
    const now = Date.now();
    if (missing > 0 && now - last < everyMs) return;
    last = now;
    const done = total - missing;
    publishAnalysisEvent(events, subjects.progress, { repo: c.repo, sha: c.sha, done, total }, c.requestId, c.sha, done);
  };
}
