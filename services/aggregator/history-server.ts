/**
 * The history API (`history.repos|commits|issues|file`): what farm knows of a
 * repository's analysed first-parent history, read from the stored report
 * heads, their deltas, the repository index and the blob store.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { encode } from "../../shared/fabric/codec.js";
import { ErrorCodes, PermanentError } from "../../shared/fabric/errors.js";
import { repoIdentity, repoKey } from "../../shared/git/index.js";
import { maxBody } from "../../shared/fabric/limits.js";
import { isBinary } from "../../shared/lint/lintable.js";
import type { CommitMention, HistoryCommit, IssueOrigin, ManifestEntry } from "../../shared/pipeline/contract.js";
import { isBranchName } from "../../shared/pipeline/branches.js";
import type { RequestHandler } from "../../shared/pipeline/request.js";
import type { Objects, RepoIndex, ReportStore, StoredReport } from "../../shared/pipeline/stores/index.js";
import { objectNames } from "../../shared/pipeline/names.js";
import type { Delta } from "../../shared/pipeline/report.js";
import { stepBack, stepForward, type Followed } from "./lineage.js";

/** What the history server needs: report heads and bodies, the repository index, trees and blobs, the message limit. */
export interface HistoryServerDeps {
  reports: Pick<ReportStore, "head" | "body">;
  repos: Pick<RepoIndex, "get" | "list" | "branch">;
  objects: Pick<Objects, "getBytes"> & { tables: Pick<Objects["tables"], "get"> };
  nc: Pick<NatsConnection, "info">;
  /** Commits one walk of history.issues reads at most. Default 5000. */
  maxWalk?: number;
  /** Bytes of a file's content history.file answers at most. Default 512 KiB. */
  maxFileBytes?: number;
  /** Largest answer. Default: the server's max payload less headroom. */
  maxReplyBytes?: number;
}

/** The fields of any request as read off the wire (an IncomingRequest), for the checks they share. */
type Fields = Record<string, unknown> | null | undefined;

const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;
const MAX_FINGERPRINTS = 1000;
/** Longer than any repository url or path a client means; bounds what a request may make us hash and echo. */
const MAX_STRING = 4096;
/** Where binary content shows itself (as the linters decide: shared/lint/lintable.ts). */
const BINARY_SNIFF_BYTES = 8192;

export class HistoryServer {
  constructor(private readonly deps: HistoryServerDeps) {}

  /** `history.repos`: `{}` → every analysed repository with its newest analysed commit. */
  onRepos: RequestHandler<"history.repos"> = async () => ({ repos: await this.deps.repos.list() });

  /** `history.commits`: `{repo, from?, limit?}` → a page of the first-parent history, newest first. */
  onCommits: RequestHandler<"history.commits"> = async (q) => {
    const subject = "history.commits";
    const repo = repoOf(q, subject);
    const key = repoKey(repo);
    const limit = limitOf(q, subject);
    const branch = branchField(q, subject);
    const from = q?.from !== undefined && q.from !== null ? shaOf(q.from, subject, "from") : await this.newest(repo, key, branch);
    let head = await this.deps.reports.head(key, from);
    if (!head) throw notFound(`no report for ${repo} at ${from}: it was not analysed (or its analysis failed)`);
    const commits: HistoryCommit[] = [];
    // A page fits one message whatever the subjects' lengths (a hostile repository's may be long).
    const budget = this.maxReplyBytes() - 1024;
    let bytes = 0;
    let next: string | null = null;
    while (head) {
      const c = commitOf(head);
      bytes += encode(c, "json").length + 1;
      if (commits.length > 0 && bytes > budget) {
        next = head.sha;
        break;
      }
      commits.push(c);
      if (!head.parent) break;
      // A parent without a report ends the history farm knows: no next page.
      const parent = await this.deps.reports.head(key, head.parent);
      if (parent && commits.length >= limit) {
        next = parent.sha;
        break;
      }
      head = parent;
    }
    return { repo, commits, next };
  };

  /**
   * `history.issues`: `{repo, sha, fingerprints, path?}` → for each
   * fingerprint the commit that introduced it (back from `sha`: the delta
   * that has it as new, or the start of the analysed history, where it is
   * first seen) and the first later commit that fixed it (forward from `sha`
   * to the newest commit). Followed across renames and edits (lineage.ts).
   */
  onIssues: RequestHandler<"history.issues"> = async (q) => {
    const subject = "history.issues";
    const { repo, key, sha } = commitNamed(q, subject);
    const fingerprints = fingerprintsOf(q, subject);
    const path = pathOf(q, subject);
    const start = await this.deps.reports.head(key, sha);
    if (!start) throw notFound(`no report for ${repo} at ${sha}: it was not analysed (or its analysis failed)`);
    const followed = (): Followed[] => fingerprints.map((fp) => ({ asked: fp, fingerprint: fp, path }));
    const introduced = new Map<string, CommitMention>();
    const fixed = new Map<string, CommitMention>();
    let searched = 0;
    if (fingerprints.length > 0) {
      // Back from sha: each issue it has came in with a delta's `new`, or was there from the start.
      let pending = followed();
      for await (const { head, delta } of this.walk(key, start)) {
        searched++;
        if (delta === null) {
          for (const it of pending) introduced.set(it.asked, mention(head));
          break;
        }
        const step = stepBack(pending, delta);
        for (const it of step.introduced) introduced.set(it.asked, mention(head));
        pending = step.rest;
        if (pending.length === 0) break;
      }
      // The deltas from sha up to the newest commit, then forward through them: the first fix after sha.
      const newest = (await this.deps.repos.get(key))?.sha;
      const top = newest && newest !== sha ? await this.deps.reports.head(key, newest) : null;
      if (top) {
        const later: { head: StoredReport; delta: Delta }[] = [];
        let reached = false;
        for await (const { head, delta } of this.walk(key, top)) {
          if (head.sha === sha) {
            reached = true;
            break;
          }
          searched++;
          if (delta) later.push({ head, delta });
        }
        // The newest commit's line does not pass through sha: its fixes are another line's.
        if (reached || later.length >= this.maxWalk()) {
          let open = followed();
          for (const { head, delta } of later.reverse()) {
            const step = stepForward(open, delta);
            for (const it of step.fixed) fixed.set(it.asked, mention(head));
            open = step.rest;
            if (open.length === 0) break;
          }
        }
      }
    }
    const issues: IssueOrigin[] = fingerprints.map((fp) => ({ fingerprint: fp, introduced: introduced.get(fp) ?? null, fixed: fixed.get(fp) ?? null }));
    return { repo, issues, searched };
  };

  /** `history.file`: `{repo, sha, path}` → the file's content at the commit, capped; binary files without content. */
  onFile: RequestHandler<"history.file"> = async (q) => {
    const subject = "history.file";
    const { repo, key, sha } = commitNamed(q, subject);
    const path = q?.path;
    if (typeof path !== "string" || path === "" || path.length > MAX_STRING)
      throw badRequest(`${subject}: "path" must be a file's path in the commit (a non-empty string of at most ${MAX_STRING} characters)`);
    const head = await this.deps.reports.head(key, sha);
    if (!head) throw notFound(`no report for ${repo} at ${sha}: it was not analysed (or its analysis failed)`);
    // The whole tree; a report stored before trees were kept knows its linted files only.
    const tree: readonly { path: string; blob: string }[] | null = head.tree
      ? await this.deps.objects.tables.get<ManifestEntry>(head.tree)
      : (await this.deps.reports.body(head)).files;
    if (!tree) throw notFound(`the tree of ${repo} at ${sha} is missing from the object store`);
    const entry = tree.find((e) => e.path === path);
    if (!entry) throw notFound(`${path} is not in ${repo} at ${sha}`);
    const data = await this.deps.objects.getBytes(objectNames.blob(entry.blob));
    if (!data) throw notFound(`the content of ${path} at ${sha} is not stored: farm keeps only lintable and config files`);
    const base = { repo, sha, path, blob: entry.blob, size: data.length };
    if (isBinary(data.subarray(0, BINARY_SNIFF_BYTES))) return { ...base, content: "", truncated: false, binary: true };
    // Escapes can make JSON longer than the text: cut more until the answer fits one message.
    for (let cap = this.deps.maxFileBytes ?? 512 * 1024; ; cap = Math.floor(cap / 2)) {
      const cut = utf8Cut(data, cap);
      const reply = { ...base, content: Buffer.from(data.subarray(0, cut)).toString("utf8"), truncated: cut < data.length, binary: false };
      if (encode(reply, "json").length <= this.maxReplyBytes() || cap === 0) return reply;
    }
  };

  /** The repository's newest analysed commit, the default start of its history. */
  private async newest(repo: string, key: string, branch?: string): Promise<string> {
    if (branch !== undefined) {
      const head = await this.deps.repos.branch(key, branch);
      if (!head) throw notFound(`no analysed commit of branch ${JSON.stringify(branch)} of ${repo}: farm records a branch from requests that name it (ref)`);
      return head.sha;
    }
    const overview = await this.deps.repos.get(key);
    if (!overview) throw notFound(`${repo} was never analysed: publish repo.new_sha for it first`);
    return overview.sha;
  }

  /**
   * The first-parent chain from `start` with each commit's delta, at most
   * maxWalk commits; it ends at a commit whose parent has no report. The next
   * head is read while this one's body is.
   */
  private async *walk(key: string, start: StoredReport) {
    let head: StoredReport | null = start;
    for (let n = 0; head && n < this.maxWalk(); n++) {
      const parent: Promise<StoredReport | null> = head.parent ? this.deps.reports.head(key, head.parent) : Promise.resolve(null);
      const { delta } = await this.deps.reports.body(head);
      yield { head, delta };
      head = await parent;
    }
  }

  private maxWalk(): number {
    return this.deps.maxWalk ?? 5000;
  }

  private maxReplyBytes(): number {
    return this.deps.maxReplyBytes ?? maxBody(this.deps.nc);
  }
}

function commitOf(h: StoredReport): HistoryCommit {
  const { files, errors, warnings } = h.summary;
  return { sha: h.sha, parent: h.parent, date: h.date, subject: h.subject, summary: { files, errors, warnings }, new: h.newIssues, fixed: h.fixedIssues };
}

function mention(h: StoredReport): CommitMention {
  return { sha: h.sha, date: h.date, subject: h.subject };
}

/** Bytes of `data` up to `cap`, not cutting a UTF-8 character in two. */
function utf8Cut(data: Uint8Array, cap: number): number {
  if (data.length <= cap) return data.length;
  let cut = cap;
  // 10xxxxxx continues a character: back up to its first byte (at most 3).
  while (cut > 0 && cap - cut < 4 && (data[cut] & 0xc0) === 0x80) cut--;
  return cut;
}

function badRequest(message: string): PermanentError {
  return new PermanentError(message, ErrorCodes.InvalidInput);
}

function notFound(message: string): PermanentError {
  return new PermanentError(message, ErrorCodes.NotFound);
}

/** The repository and commit a request names: both validated. */
function commitNamed(q: Fields, subject: string): { repo: string; key: string; sha: string } {
  const repo = repoOf(q, subject);
  return { repo, key: repoKey(repo), sha: shaOf(q?.sha, subject, "sha") };
}

/** The repository's identity (a client's credentials are never echoed back). */
function repoOf(q: Fields, subject: string): string {
  if (typeof q !== "object" || q === null || Array.isArray(q)) throw badRequest(`${subject} needs a JSON object with "repo"`);
  if (typeof q.repo !== "string" || q.repo === "" || q.repo.length > MAX_STRING)
    throw badRequest(`${subject}: "repo" must be the clone url or path farm analysed (a non-empty string)`);
  return repoIdentity(q.repo);
}

function shaOf(v: unknown, subject: string, field: string): string {
  const sha = typeof v === "string" ? v.toLowerCase() : "";
  if (!SHA.test(sha)) throw badRequest(`${subject}: "${field}" must be a full commit id (40 or 64 hex)`);
  return sha;
}

function limitOf(q: Fields, subject: string): number {
  const v = q?.limit;
  if (v === undefined || v === null) return DEFAULT_LIMIT;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > MAX_LIMIT)
    throw badRequest(`${subject}: "limit" must be an integer from 1 to ${MAX_LIMIT}`);
  return v;
}

/** The branch whose newest analysed commit a page starts at, when the asker names it. */
function branchField(q: Fields, subject: string): string | undefined {
  const v = q?.branch;
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string" || !isBranchName(v)) throw badRequest(`${subject}: "branch" must be a branch name like "main" (not refs/heads/main)`);
  return v;
}

/** The file the fingerprints are in, when the asker names it; null: any file. */
function pathOf(q: Fields, subject: string): string | null {
  const v = q?.path;
  if (v === undefined || v === null) return null;
  if (typeof v !== "string" || v === "" || v.length > MAX_STRING)
    throw badRequest(`${subject}: "path" must be the file's path in the repository (a non-empty string)`);
  return v;
}

function fingerprintsOf(q: Fields, subject: string): string[] {
  const v = q?.fingerprints;
  const ok = Array.isArray(v) && v.length <= MAX_FINGERPRINTS && v.every((f) => typeof f === "string" && f !== "" && f.length <= 256);
  if (!ok) throw badRequest(`${subject}: "fingerprints" must be an array of at most ${MAX_FINGERPRINTS} fingerprints (strings, as in a report's messages)`);
  return [...new Set(v as string[])];
}
