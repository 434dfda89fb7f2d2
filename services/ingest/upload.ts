/**
 * Uploading an analysis' commits oldest first (parents reach the aggregator
 * before their children), in rounds of growing size: per round, the blobs the
 * store lacks, each commit's manifest, then the manifests queued for the
 * splitter. The first commits are being linted while the rest of a long
 * history uploads.
 */
import { mapLimit } from "../../shared/fabric/concurrency.js";
import { findCopies, firstParentTrees, readBlobs, type CommitTree, type PathMove } from "../../shared/git/index.js";
import { ConfigTexts } from "../../shared/lint/config-texts.js";
import { ExtendedFiles } from "../../shared/lint/extended-files.js";
import { isConfigFile, isLintable, isRegularFile } from "../../shared/lint/lintable.js";
import type { CommitManifest, CommitRef, ManifestEntry } from "../../shared/pipeline/contract.js";
import type { FileMove } from "../../shared/pipeline/report.js";
import { placementOf } from "../../shared/pipeline/names.js";
import { messageIds, objectNames, subjects } from "../../shared/pipeline/names.js";
import type { ServiceContext } from "../../shared/pipeline/service.js";
import type { Objects } from "../../shared/pipeline/stores/index.js";

/**
 * Commits uploaded and queued together (one git cat-file each round): few at
 * first, so that linting starts at once, then more, so that a long history
 * costs few processes.
 */
const FIRST_ROUND = 4;
const LAST_ROUND = 64;
/** Blob writes in flight at once. */
const UPLOAD_WINDOW = 16;

/** Moves a manifest carries at most: a commit's message must stay small (a renamed tree's pure moves are found again by blob). */
export const MAX_MOVES = 1000;

/** npm's lockfiles, which pin a toolchain's versions, are read up to this size (the resolver's own bound). */
const MAX_LOCKFILE_BYTES = 64 * 1024 * 1024;
const LOCKFILE = /(^|\/)(package-lock\.json|npm-shrinkwrap\.json)$/;

/**
 * With toolchains on, a commit's own ESLint decides what it lints (markdown,
 * JSON, any extension its config names) and its config may read any file:
 * every regular file up to the size bound is uploaded, and npm's lockfiles.
 */
function toolchainReads(e: ManifestEntry, maxFileSize: number): boolean {
  return isRegularFile(e.mode) && (e.size <= maxFileSize || (LOCKFILE.test(e.path) && e.size <= MAX_LOCKFILE_BYTES));
}

export interface UploadDeps extends Pick<ServiceContext, "farm" | "config"> {
  objects: Objects;
}

/** One analysis' commits to upload: `plan` (newest first) of `sha`'s history in `mirror`. */
export interface Upload {
  mirror: string;
  sha: string;
  /** The repo's store key. */
  key: string;
  plan: readonly CommitRef[];
  /** The analysis' part of the manifests' message ids (Joins.runOrJoin). */
  dedupeId: string;
}

export class Uploader {
  /** Manifests the COMMITS stream dropped as copies (another instance's identical request, an earlier attempt's). */
  readonly counts = { duplicateManifests: 0 };
  /**
   * Config files' texts by blob, for what their `extends` name. Every text
   * read is at most maxFileSize and each is kept: a round reads it once.
   */
  private readonly configTexts: ConfigTexts;

  constructor(private readonly deps: UploadDeps) {
    this.configTexts = new ConfigTexts({ maxTextBytes: deps.config.maxFileSize });
  }

  /** Uploads and queues every commit of `u.plan`; returns how many blobs were uploaded. */
  async upload(u: Upload): Promise<number> {
    const refs = new Map(u.plan.map((c) => [c.sha, c]));
    const extended = new ExtendedFiles({ texts: this.configTexts, read: (blobs) => readBlobs(u.mirror, blobs), maxFileSize: this.deps.config.maxFileSize });
    let uploaded = 0;
    let round: CommitTree[] = [];
    let roundSize = FIRST_ROUND;
    const flush = async () => {
      const named = await extended.of(round);
      // Only what changed can be new to the store: an unchanged blob was uploaded with an older commit.
      uploaded += await this.uploadBlobs(
        u.mirror,
        round.flatMap((c) => c.changed),
        named,
      );
      await this.queue(u, round, refs);
      round = [];
      roundSize = Math.min(LAST_ROUND, roundSize * 2);
    };
    // One git log for the whole history: each tree is its parent's plus the commit's changes.
    for await (const c of firstParentTrees(u.mirror, u.sha, u.plan.length - 1)) {
      if (!refs.has(c.sha)) throw new Error(`git log of ${u.sha} yielded ${c.sha}, which is not in the analysis' history`);
      round.push(c);
      if (round.length >= roundSize) await flush();
    }
    if (round.length > 0) await flush();
    return uploaded;
  }

  /** Stores the round's manifests and queues them for the splitter. */
  private async queue(u: Upload, round: readonly CommitTree[], refs: ReadonlyMap<string, CommitRef>): Promise<void> {
    const { objects, farm } = this.deps;
    const copies = await findCopies(
      u.mirror,
      round.filter((c) => c.adds && c.parents.length > 0).map((c) => c.sha),
    );
    const manifests: CommitManifest[] = await mapLimit(round, 8, async (c) => ({
      ...refs.get(c.sha)!,
      ...movesOf([...c.moves, ...(copies.get(c.sha) ?? [])]),
      manifest: await objects.tables.put(objectNames.manifest(u.key, c.sha), objectNames.chunks(u.key), c.tree, (e) => e.path),
    }));
    const costs = new Map(round.map((c) => [c.sha, Math.max(1, c.changed.length)]));
    const queued = await farm.jobs.enqueue(subjects.commitManifest, manifests, {
      // A commit's splitting costs about what it changed.
      placement: (m) => ({ ...placementOf(m), cost: costs.get(m.sha)! }),
      // Stable per analysis (see Joins.dedupeId): a redelivered repo.new_sha, or an identical one on
      // another instance, does not queue its commits twice.
      id: (m: CommitManifest) => messageIds.manifest(u.dedupeId, m.sha),
    });
    this.counts.duplicateManifests += queued.duplicates;
  }

  /** Uploads the contents of lintable and config blobs (and of `extended`, what configs extend) the store does not have. Returns how many. */
  private async uploadBlobs(mirror: string, entries: readonly ManifestEntry[], extended: readonly ManifestEntry[]): Promise<number> {
    const { objects, config } = this.deps;
    const wanted = new Set<string>();
    for (const e of entries)
      if (isLintable(e, config.maxFileSize) || isConfigFile(e.path) || (config.toolchains && toolchainReads(e, config.maxFileSize))) wanted.add(e.blob);
    for (const e of extended) wanted.add(e.blob);
    const candidates = [...wanted];
    const present = await mapLimit(candidates, 32, (blob) => objects.has(objectNames.blob(blob)));
    const missing = candidates.filter((_, i) => !present[i]);
    if (missing.length === 0) return 0;
    // Writes overlap (a window of them in flight) while git streams the contents.
    const window = new Set<Promise<void>>();
    let failure: Error | undefined;
    for await (const [blob, data] of readBlobs(mirror, missing)) {
      if (failure) break;
      const put: Promise<void> = objects
        .putOnce(objectNames.blob(blob), data, { absent: true })
        .then(
          () => {},
          (err: Error) => void (failure ??= err),
        )
        .finally(() => window.delete(put));
      window.add(put);
      if (window.size >= UPLOAD_WINDOW) await Promise.race(window);
    }
    await Promise.all(window);
    if (failure) throw failure;
    return missing.length;
  }
}

/** A manifest's `moves`: inexact ones first, up to MAX_MOVES; absent when none. */
function movesOf(found: readonly PathMove[]): { moves?: FileMove[] } {
  if (found.length === 0) return {};
  const kept = found.length <= MAX_MOVES ? found : [...found].sort((a, b) => Number(a.exact ?? false) - Number(b.exact ?? false)).slice(0, MAX_MOVES);
  return { moves: kept.map(({ from, to, copy }) => ({ from, to, ...(copy ? { copy } : {}) })) };
}
