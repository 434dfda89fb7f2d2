/**
 * The messages that flow between the services (see the data flow in
 * docs/ARCHITECTURE.md; the wire contract is the README's "Subjects"). Large lists travel as object-store references.
 */
import type { FarmConfig } from "./config.js";
import type { Farm } from "./farm.js";
import type { Logger } from "./logger.js";
import type { Stores } from "./stores.js";

/** `repo.new_sha` after validation. */
export interface AnalysisRequest {
  repo: string;
  sha: string;
  ref?: string;
  history: number;
}

/** Identifies one commit of one analysis; carried by every later message. */
export interface CommitRef {
  /** The `repo.new_sha` message this came from: keeps message ids unique per request. */
  requestId: string;
  repo: string;
  repoKey: string;
  sha: string;
  parent: string | null;
  /** The parent's report will be produced by this analysis (or already exists). */
  parentExpected: boolean;
  /** Asked for by the client (false for a parent analyzed only as the delta's baseline). */
  requested: boolean;
  date: string;
  subject: string;
}

export interface ManifestEntry {
  path: string;
  blob: string;
  size: number;
  mode: string;
}

/** ingest → splitter (`commit.manifest`): the tree lives in the object store. */
export interface CommitManifest extends CommitRef {
  manifest: string;
}

/** What a linter needs to know about a file besides its content. */
export interface BatchFile {
  path: string;
  blob: string;
  configId: string;
}

/**
 * splitter → linter-runner (`lint.batch`). `settings` maps each config id of the
 * batch to the object-store name of its config (objectNames.lintConfig): a config
 * can be megabytes, a batch must fit one message. Batches queued before configs
 * went by reference carry the config itself, which runners still accept.
 */
export interface LintBatch {
  settings: Record<string, unknown>;
  files: BatchFile[];
}

/** linter-runner → aggregator (`results.lint`, as the batch task's result). */
export interface BatchDone {
  keys: string[];
  linted: number;
}

export interface SplitStats {
  files: number;
  cacheHits: number;
  queued: number;
}

/** splitter → aggregator (`results.commit_files`): the commit's full file list, by reference. */
export interface CommitFiles extends CommitRef {
  files: string;
  linters: Record<string, string>;
  stats: SplitStats;
  /**
   * Set when the splitter gave the commit up (e.g. invalid `.farm.json`): no
   * files, just the reason, recorded so that children waiting for this
   * commit's report as their baseline stop waiting.
   */
  failed?: string;
  /** What the splitter could not honour in the commit's configuration (e.g. a symlinked config), said once per commit. */
  notes?: string[];
}

/** A running service: stops cleanly. */
export interface Service {
  name: string;
  close(): Promise<void>;
  /** Counters of this instance, for operators and tests (e.g. ingest's clones and fetches). */
  stats?(): Record<string, unknown>;
}

export interface ServiceContext {
  farm: Farm;
  config: FarmConfig;
  log: Logger;
  /**
   * Stores shared by the services of one process (the embedded default), so
   * that what one stage writes the next reads from memory. Default: each
   * service opens its own.
   */
  stores?: Stores;
}

/** `repo.analysis.completed` (public, JSON; `id` is added by Events.publish). */
export interface CompletedEvent {
  repo: string;
  sha: string;
  parent: string | null;
  requested: boolean;
  summary: { files: number; errors: number; warnings: number };
  /** Counts of new and fixed issues; null exactly when the report's delta is null. */
  delta: { new: number; fixed: number } | null;
  notes?: string[];
  stats: SplitStats;
}
