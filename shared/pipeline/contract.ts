/**
 * The contract: every message between the services and every event they
 * publish, declared once (see the data flow in docs/ARCHITECTURE.md; the wire
 * contract is docs/contract.md). Large lists travel as object-store references.
 */
import type { Lane } from "../fabric/fair.js";
import type { TreeEntry } from "../git/objects.js";
import type { Gate } from "./gate.js";
import type { FileMove, LintMessage, Report, ReportSummary, ReportToolchain } from "./report.js";
import type { SarifLog } from "./sarif.js";

/**
 * `repo.new_sha` as any client publishes it (JSON): `{repo, sha}` with a url or
 * local path, or `{owner, repo, sha}` with the operator's clone-url template.
 * Validated into a `RepoRef` (shared/git/validate.ts) by ingest.
 */
export interface AnalysisRequest {
  repo: string;
  owner?: string;
  sha: string;
  /** Informational only; never passed to git. */
  ref?: string;
  /** First-parent ancestors to analyze too. Default 0. */
  history?: number;
  /** "backfill" puts even a small request behind interactive work; "interactive" is honoured only for a few commits (shared/pipeline/lanes.ts). */
  lane?: Lane;
  /** Whose share the work takes; honoured only with FARM_TRUST_TENANT (default: the repository's owner). */
  tenant?: string;
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
  /** The analysis' lane and tenant at every stage (shared/pipeline/lanes.ts); absent in messages of an older farm. */
  lane?: Lane;
  tenant?: string;
  /** The branch the request's `ref` names (shared/pipeline/branches.ts), on its head commit only: recorded as that branch's newest analysed commit. */
  branch?: string;
  /**
   * Paths renamed or copied from the parent as git sees them (`-M`; copies
   * `-C -C`), for the delta to follow their issues; at most MAX_MOVES, the
   * inexact ones first (a move of unchanged content is found again by blob).
   */
  moves?: FileMove[];
}

/** One row of a commit's manifest: a tree entry as git lists it. */
export type ManifestEntry = TreeEntry;

/** ingest → splitter (`commit.manifest`): the tree lives in the object store. */
export interface CommitManifest extends CommitRef {
  manifest: string;
}

/**
 * A file of a commit as analyzed, and what a linter needs to know about it
 * besides its content: its result lives at `kvKeys.result(blob, configId)`.
 */
export interface FileRef {
  path: string;
  blob: string;
  configId: string;
}

/**
 * splitter → linter-runner (`lint.batch`). `settings` maps each config id of the
 * batch to the object-store name of its config (objectNames.lintConfig): a config
 * can be megabytes, a batch must fit one message.
 */
export interface LintBatch {
  settings: Record<string, string>;
  files: FileRef[];
}

/** linter-runner → aggregator (`results.lint`, as the batch task's result). */
export interface BatchDone {
  keys: string[];
  linted: number;
}

/** What the splitter did with a commit's files; travels on to `repo.analysis.completed`. */
export interface SplitStats {
  /** Lintable files of the commit. */
  files: number;
  /** Of those, files whose result was stored already. */
  cacheHits: number;
  /** Of those, files queued for linting. */
  queued: number;
}

/** splitter → aggregator (`results.commit_files`): the commit's full file list, by reference. */
export interface CommitFiles extends CommitRef {
  files: string;
  /** The commit's tree (the manifest table's name), kept with its report for history.file; absent when `failed`. */
  tree?: string;
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
  /** The commit's own lint toolchain, when its files were linted with it (absent: its config read as data). */
  toolchain?: ReportToolchain;
  /** The quality gate the commit's `.farm.json` sets (absent: the operator's applies). */
  gate?: Gate;
}

// ---- events (public, JSON; `id` is added by Events.publish) ----------------------------

/** `repo.analysis.started` from ingest: the history this request analyzes. */
export interface AnalysisStartedEvent {
  repo: string;
  sha: string;
  /** The requested commits, oldest first. */
  commits: string[];
  /** Analyzed too, for the oldest commit's delta; not reported. */
  baseline: string | null;
}

/** `repo.analysis.started` from the aggregator: one commit's files are being linted. */
export interface CommitStartedEvent {
  repo: string;
  sha: string;
  files: number;
}

/** `repo.analysis.progress`: results of one commit stored so far. */
export interface ProgressEvent {
  repo: string;
  sha: string;
  done: number;
  total: number;
}

/** `repo.analysis.completed` */
export interface CompletedEvent {
  repo: string;
  sha: string;
  parent: string | null;
  requested: boolean;
  summary: { files: number; errors: number; warnings: number };
  /** Counts of new and fixed issues; null exactly when the report's delta is null. */
  delta: { new: number; fixed: number } | null;
  notes?: string[];
  /** The commit's own lint toolchain, when its files were linted with it: what names it, not its packages (those are in the report). */
  toolchain?: CompletedToolchain;
  stats: SplitStats;
}

/** A toolchain as `.completed` names it: small, whatever the number of packages. */
export type CompletedToolchain = Pick<ReportToolchain, "id" | "eslint" | "configFile">;

/** `repo.analysis.failed`: `repo` and `sha` are null when the request did not say them. */
export interface FailedEvent {
  repo: string | null;
  sha: string | null;
  reason: string;
}

/** Each event subject and its payload. */
export interface AnalysisEvents {
  "repo.analysis.started": AnalysisStartedEvent | CommitStartedEvent;
  "repo.analysis.progress": ProgressEvent;
  "repo.analysis.completed": CompletedEvent;
  "repo.analysis.failed": FailedEvent;
}

export type AnalysisEventSubject = keyof AnalysisEvents;

/** Any analysis event, as a subscriber receives it (with its `id`). */
export type AnalysisEvent = AnalysisEvents[AnalysisEventSubject] & { id: string };

/**
 * An event as read off the wire from any client: every field unchecked. A
 * subscriber that acts on an event checks each field it uses.
 */
export type Unchecked<E> = { [K in keyof E]?: unknown };

// ---- the history API (request-reply, JSON; public: docs/contract.md) --------------

/** Errors, warnings and lintable files of one commit. */
export interface SummaryCounts {
  files: number;
  errors: number;
  warnings: number;
}

/** `history.repos` → one per repository farm has analysed, newest analysed commit first. */
export interface RepoOverview {
  repo: string;
  repoKey: string;
  /** The newest analysed commit (by author date) and what it found. */
  sha: string;
  date: string;
  subject: string;
  summary: SummaryCounts;
  completedAt: string;
}

export interface HistoryReposReply {
  repos: RepoOverview[];
}

/** `history.commits`: a repository's analysed first-parent history, newest first, a page at a time. */
export interface HistoryCommitsRequest {
  repo: string;
  /** The newest commit of the page. Default: the newest analysed commit of `branch`, else of the repository. */
  from?: string;
  /** A branch (`main`): the page starts at its newest analysed commit, as requests naming it (`ref`) were analysed. */
  branch?: string;
  /** Commits per page. Default 100, at most 1000. */
  limit?: number;
}

export interface HistoryCommit {
  sha: string;
  parent: string | null;
  date: string;
  subject: string;
  summary: SummaryCounts;
  /** New and fixed issues against the parent; null when the commit has no delta (no analysed parent). */
  new: number | null;
  fixed: number | null;
}

export interface HistoryCommitsReply {
  repo: string;
  commits: HistoryCommit[];
  /** The `from` of the next (older) page; null at the oldest analysed commit. */
  next: string | null;
}

/**
 * `history.issues`: where issues came from. For each fingerprint (as in a
 * report's messages and delta), the commit that introduced it (walking the
 * first-parent history back from `sha`) and the first later commit that fixed it
 * (walking back from the newest analysed commit to `sha`), from the stored deltas.
 */
export interface HistoryIssuesRequest {
  repo: string;
  /** A commit whose report has these issues. */
  sha: string;
  fingerprints: string[];
  /**
   * The file at `sha` the issues are in: followed back across renames and
   * forward to where it went. Without it a fingerprint is matched in any file
   * (fingerprints are unique within a file, not across files).
   */
  path?: string;
}

export interface CommitMention {
  sha: string;
  date: string;
  subject: string;
}

export interface IssueOrigin {
  fingerprint: string;
  /**
   * The commit whose delta has it as new; the first analysed commit (no delta)
   * when it was there from the start. Null when the walk reached its limit, or
   * when a delta on the way fixed it (not an issue `sha` has).
   */
  introduced: CommitMention | null;
  /** Null while no later analysed commit fixed it. */
  fixed: CommitMention | null;
}

export interface HistoryIssuesReply {
  repo: string;
  issues: IssueOrigin[];
  /** Commits whose deltas were read. */
  searched: number;
}

/** `history.file`: a file's content at a commit, from the blob store (lintable and config files only). */
export interface HistoryFileRequest {
  repo: string;
  sha: string;
  path: string;
}

export interface HistoryFileReply {
  repo: string;
  sha: string;
  path: string;
  blob: string;
  size: number;
  /** UTF-8 text, cut at the size cap (`truncated`); empty for a binary file. */
  content: string;
  truncated: boolean;
  binary: boolean;
}

// ---- report.get and lint.file (request-reply, JSON; public: docs/contract.md) -----

/** `report.get`: a commit's report. */
export interface ReportQuery {
  repo: string;
  sha: string;
  format?: "json" | "sarif";
  /** "summary": the report without its files (ReportSummary). Default: the whole report. */
  view?: "summary";
}

/** `report.get` with `object` and `part`: one part of an answer too big for one message (a ReportReference). */
export interface ReportGetRequest extends ReportQuery {
  /** The object a ReportReference named. */
  object?: string;
  part?: number;
}

/** What report.get answers instead of the report when it would not fit in a message. */
export interface ReportReference {
  repo: string;
  sha: string;
  /** Object-store bucket and object holding the report's JSON. */
  object: { bucket: string; name: string };
  /** Bytes of the JSON, and how many report.get parts carry it. */
  size: number;
  parts: number;
}

/** One part of a big answer. */
export interface ReportPart {
  part: number;
  parts: number;
  /** Base64 of the part's bytes. */
  data: string;
}

/** A report as report.get answers it when it fits: the whole report, its summary view, or SARIF. */
export type ReportAnswer = Report | ReportSummary | SarifLog;

/** `lint.file`: one file's content, linted with the default config. */
export interface LintFileRequest {
  path: string;
  content: string;
}

export interface LintFileReply {
  messages: LintMessage[];
}

/**
 * Each request-reply subject with its request and reply, as AnalysisEvents is
 * for events: `request()` (shared/pipeline/request.ts) and the servers' handlers
 * are typed from it. A failed request answers `{error}` (a FarmError to the caller).
 */
export interface Requests {
  "report.get": { request: ReportGetRequest; reply: ReportAnswer | ReportReference | ReportPart };
  "lint.file": { request: LintFileRequest; reply: LintFileReply };
  "history.repos": { request: Record<string, never>; reply: HistoryReposReply };
  "history.commits": { request: HistoryCommitsRequest; reply: HistoryCommitsReply };
  "history.issues": { request: HistoryIssuesRequest; reply: HistoryIssuesReply };
  "history.file": { request: HistoryFileRequest; reply: HistoryFileReply };
}

export type RequestSubject = keyof Requests;
