/** The report store (KV `farm-reports`): report heads, failures and given-up keys; bodies in the object store. */
import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { decode, encode } from "../../fabric/codec.js";
import {
  countRules,
  publicMessages,
  summarize,
  unlintableResult,
  type Report,
  type ReportSummary,
  type ReportToolchain,
  type Summary,
  type Delta,
} from "../report.js";
import type { FileRef } from "../contract.js";
import type { Gate } from "../gate.js";
import { buckets, kvKeys, objectNames } from "../names.js";
import { mapLimit } from "../../fabric/concurrency.js";
import { LRUCache } from "lru-cache";
import type { Objects } from "./objects.js";
import { isRevisionConflict } from "./repos.js";
import type { ResultCache } from "./results.js";

/** What the reports bucket holds per commit: the summary, and where the rest is. */
export interface StoredReport {
  repo: string;
  repoKey: string;
  sha: string;
  parent: string | null;
  date: string;
  subject: string;
  linters: Record<string, string>;
  summary: Summary;
  /** Object holding `{files: FileRef[], delta}` (content-addressed, never replaced). */
  object: string;
  /** The commit's whole tree (a ManifestEntry table), for history.file; absent in reports stored before it was kept. */
  tree?: string;
  /** Counts of the delta; null when the report has none (a root commit, or no baseline). */
  newIssues: number | null;
  fixedIssues: number | null;
  /** What farm could not honour in the commit's configuration. */
  notes?: string[];
  /** The commit's own lint toolchain, when its files were linted with it. */
  toolchain?: ReportToolchain;
  /** The quality gate the commit's `.farm.json` sets. */
  gate?: Gate;
  /** Messages per "linter/rule"; absent in reports stored before it was kept. */
  rules?: Record<string, number>;
  completedAt: string;
}

export interface ReportBody {
  files: readonly FileRef[];
  delta: Delta | null;
  /** Result key → reason, for files whose lint work was given up (no result in the cache). */
  failures?: Record<string, string>;
}

/** A report body as stored: its files by table name (bodies stored before tables hold the list itself). */
type StoredBody = Omit<ReportBody, "files"> & { files: string | readonly FileRef[] };

export class ReportStore {
  /** Heads this instance stored or read lately (see recentHead): a child's parent is among the last few. */
  private readonly heads = new LRUCache<string, StoredReport>({ max: 256 });
  /** Bodies by object name: content-addressed, so never stale. */
  private readonly bodies = new LRUCache<string, ReportBody>({ max: 64 });

  constructor(
    private readonly kv: KV,
    private readonly objects: Objects,
    private readonly results: ResultCache,
  ) {}

  static async open(nc: NatsConnection, objects: Objects, results: ResultCache): Promise<ReportStore> {
    return new ReportStore(await new Kvm(nc).open(buckets.reports), objects, results);
  }

  async head(repoKey: string, sha: string): Promise<StoredReport | null> {
    const key = kvKeys.report(repoKey, sha);
    const e = await this.kv.get(key);
    if (!e || e.operation !== "PUT") return null;
    const head = decode<StoredReport>(e.value);
    this.heads.set(key, head);
    return head;
  }

  /**
   * The commit's head as this instance last stored or read it, else as
   * stored: a child's delta needs its parent's report, which this instance
   * has usually just stored. A re-run elsewhere may have replaced it since:
   * only for a baseline, never for an answer to a client.
   */
  async recentHead(repoKey: string, sha: string): Promise<StoredReport | null> {
    return this.heads.get(kvKeys.report(repoKey, sha)) ?? this.head(repoKey, sha);
  }

  /** Records that a commit could not be analyzed (its head, if any, stays: a report beats a failure). */
  async markFailed(repoKey: string, sha: string, reason: string): Promise<void> {
    await this.kv.put(kvKeys.reportFailed(repoKey, sha), encode({ reason, at: new Date().toISOString() }));
  }

  /** Why a commit could not be analyzed, when its last analysis was given up. */
  async failure(repoKey: string, sha: string): Promise<string | null> {
    const e = await this.kv.get(kvKeys.reportFailed(repoKey, sha));
    return e && e.operation === "PUT" ? decode<{ reason: string }>(e.value).reason : null;
  }

  /** Records that these result keys' lint work was given up, where every aggregator can find it. */
  async markGivenUp(keys: string[], reason: string): Promise<void> {
    const value = encode({ reason, at: Date.now() });
    await mapLimit(keys, 32, (k) => this.kv.put(kvKeys.givenUp(k), value));
  }

  /** Why a key's lint work was given up, if that was less than `maxAgeMs` ago (later, it may have been queued again). */
  async givenUp(key: string, maxAgeMs: number): Promise<string | null> {
    const e = await this.kv.get(kvKeys.givenUp(key));
    if (!e || e.operation !== "PUT") return null;
    const { reason, at } = decode<{ reason: string; at: number }>(e.value);
    return Date.now() - at < maxAgeMs ? reason : null;
  }

  /**
   * Stores a commit's report. With `ifAbsent`, only when the commit has none:
   * a commit analysed only as another's baseline must not replace the report
   * an analysis that requested it stored meanwhile (with its delta); the one
   * stored is returned then.
   */
  async put(head: Omit<StoredReport, "object">, body: ReportBody, { ifAbsent = false } = {}): Promise<StoredReport> {
    // The file list as a table: a commit shares all but its changed files' chunks with its parent.
    const files = await this.objects.tables.put(objectNames.files(head.repoKey, head.sha), objectNames.chunks(head.repoKey), body.files, (f) => f.path);
    const doc: StoredBody = { ...body, files };
    // A re-run stores the same body under the same name; a reader of the previous head is never disturbed.
    const object = await this.objects.putDocument(objectNames.report(head.repoKey, head.sha), doc);
    const stored = { ...head, object };
    const key = kvKeys.report(head.repoKey, head.sha);
    if (ifAbsent) {
      try {
        await this.kv.create(key, encode(stored));
      } catch (err) {
        const existing = isRevisionConflict(err) ? await this.head(head.repoKey, head.sha) : null;
        if (!existing) throw err;
        return existing;
      }
    } else await this.kv.put(key, encode(stored));
    this.heads.set(key, stored);
    this.bodies.set(object, body);
    return stored;
  }

  async body(stored: StoredReport): Promise<ReportBody> {
    const known = this.bodies.get(stored.object);
    if (known) return known;
    const doc = await this.objects.getValue<StoredBody>(stored.object);
    if (!doc) throw new Error(`report body ${stored.object} is missing from the object store`);
    const files = typeof doc.files === "string" ? await this.objects.tables.get<FileRef>(doc.files) : doc.files;
    if (!files) throw new Error(`file table ${doc.files as string} of report ${stored.object} is missing from the object store`);
    const body = { ...doc, files };
    this.bodies.set(stored.object, body);
    return body;
  }

  /** The report without its files: the stored head and the delta, no result read (but for heads stored without rule counts). */
  async summary(stored: StoredReport): Promise<ReportSummary> {
    const { delta } = await this.body(stored);
    const rules = stored.rules ?? countRules((await this.assemble(stored)).files);
    return { ...identity(stored), summary: stored.summary, delta, ...notesOf(stored), ...toolchainOf(stored), ...gateOf(stored), rules };
  }

  /** The full public report, assembled from the content-addressed results. */
  async assemble(stored: StoredReport): Promise<Report> {
    const { files, delta, failures = {} } = await this.body(stored);
    const out: Report["files"] = await mapLimit(files, 32, async (f) => {
      const key = kvKeys.result(f.blob, f.configId);
      // A result that arrived since (a replayed batch) wins over the recorded failure.
      const r = (await this.results.get(key)) ?? (failures[key] ? unlintableResult(failures[key]) : null);
      return { path: f.path, blob: f.blob, messages: publicMessages({ path: f.path, blob: f.blob, messages: r?.messages ?? [] }) };
    });
    // Summary counted from what is shown: results that arrived since (a replay) count too.
    return { ...identity(stored), summary: summarize(out), files: out, delta, ...notesOf(stored), ...toolchainOf(stored), ...gateOf(stored) };
  }
}

/** The fields a report and its summary view share, in the report's key order. */
function identity(stored: StoredReport) {
  const { repo, sha, parent, date, subject, linters } = stored;
  return { repo, sha, parent, date, subject, linters };
}

function notesOf(stored: StoredReport): { notes?: string[] } {
  return stored.notes?.length ? { notes: stored.notes } : {};
}

function gateOf(stored: StoredReport): { gate?: Gate } {
  return stored.gate ? { gate: stored.gate } : {};
}

function toolchainOf(stored: StoredReport): { toolchain?: ReportToolchain } {
  return stored.toolchain ? { toolchain: stored.toolchain } : {};
}
