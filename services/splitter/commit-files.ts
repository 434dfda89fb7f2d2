/**
 * What the splitter tells the aggregator of a commit (`results.commit_files`):
 * its file list, or that it was given up, so that its children, which wait
 * for its report as their baseline, stop waiting.
 */
import type { TaskContext } from "../../shared/fabric/worker.js";
import { publishAnalysisFailed } from "../../shared/pipeline/announce.js";
import type { CommitFiles, CommitManifest, CommitRef } from "../../shared/pipeline/contract.js";
import { messageIds, placementOf, subjects } from "../../shared/pipeline/names.js";
import type { ServiceContext } from "../../shared/pipeline/service.js";

/** A commit file list without the commit's ref, which comes from its manifest. */
export type FileList = Omit<CommitFiles, keyof CommitRef>;

/** Queues `m`'s file list for the aggregator (once per request and commit). */
export async function sendCommitFiles(deps: Pick<ServiceContext, "farm">, m: CommitManifest, list: FileList): Promise<void> {
  const files: CommitFiles = { ...withoutManifest(m), ...list };
  await deps.farm.jobs.enqueue(subjects.commitFiles, [files], { id: () => messageIds.commitFiles(m.requestId, m.sha), placement: () => placementOf(m) });
}

/** `.failed` for a commit given up, and an empty file list that says why (best effort: logged when it cannot be queued). */
export async function giveUpCommit(deps: Pick<ServiceContext, "farm">, m: CommitManifest, reason: string, ctx: TaskContext): Promise<void> {
  publishAnalysisFailed(deps.farm.events, { repo: m.repo, sha: m.sha, reason }, m.requestId, m.sha);
  await sendCommitFiles(deps, m, { files: "", linters: {}, stats: { files: 0, cacheHits: 0, queued: 0 }, failed: reason }).catch((e: Error) =>
    ctx.log.warn({ sha: m.sha, err: e.message }, "could not record the failed commit"),
  );
}

/** The commit's ref without the manifest's object name (later messages carry their own references). */
function withoutManifest(m: CommitManifest): CommitRef {
  const ref: Partial<CommitManifest> = { ...m };
  delete ref.manifest;
  return ref as CommitRef;
}
