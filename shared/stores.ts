/**
 * Where farm keeps data: blob contents, manifests and file lists in the object
 * store (anything that may exceed one message), results and reports in KV.
 * Everything is content-addressed or keyed by commit, so writes are idempotent.
 */
import { createHash } from "node:crypto";
import { JetStreamApiError, JetStreamApiCodes, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type MsgRequest } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import { Objm, type ObjectStore } from "@nats-io/obj";
import { headers as natsHeaders, nuid, type NatsConnection } from "@nats-io/transport-node";
import { decode, encode } from "./codec.js";
import {
  countRules,
  publicMessages,
  resultKey,
  summarize,
  unlintableResult,
  type FileResult,
  type Report,
  type ReportSummary,
  type Summary,
  type Delta,
  type FileRef,
} from "./report.js";
import { BLOB_STORE, buckets, isValidKvKey, objectStream } from "./topology.js";
import { InvalidKeyError } from "./git/errors.js";
import { ObjectReadError } from "./errors.js";
import { mapLimit } from "./concurrency.js";
import { Lru } from "./lru.js";
import { Tables } from "./tables.js";

export { Lru };

// KV values and messages are capped at 1 MB; leave room for headers.
const INLINE_LIMIT = 512 * 1024;
/** The object store's own chunk size. */
const OBJECT_CHUNK_BYTES = 128 * 1024;

/** Padded base64url, as the object store names meta subjects and digests. */
function base64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
}

/** The object store: blob contents and msgpack documents that may be large. */
export class Objects {
  private known = new Lru<string, true>(200_000);
  /** Writes of write-once names in flight, by name. */
  private readonly writing = new Map<string, Promise<boolean>>();
  /** Long lists (trees, file lists) stored as shared chunks: see tables.ts. */
  readonly tables: Tables;
  constructor(
    readonly store: ObjectStore,
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
    private readonly maxPayload: number,
  ) {
    this.tables = new Tables(this);
  }

  static async open(nc: NatsConnection): Promise<Objects> {
    const store = await new Objm(nc).open(BLOB_STORE);
    return new Objects(store, await jetstreamManager(nc, { checkAPI: false }), jetstream(nc), nc.info?.max_payload ?? 1024 * 1024);
  }

  async has(name: string): Promise<boolean> {
    if (this.known.has(name)) return true;
    const info = await this.store.info(name);
    if (info && !info.deleted) this.known.set(name, true);
    return Boolean(info && !info.deleted);
  }

  /**
   * Writes or REPLACES `name`. Replacing purges the old chunks, and a reader
   * streaming them at that moment never finishes: the pipeline writes only
   * with {@link putOnce} and {@link putDocument}, whose names never change content.
   */
  async putBytes(name: string, data: Uint8Array): Promise<void> {
    await this.store.putBlob({ name }, data);
    this.known.set(name, true);
  }

  /**
   * Content-addressed names: writes only when nothing was ever written under
   * `name`, atomically (the server refuses the second of two concurrent
   * writers), so an object is never replaced under a reader. True when this
   * call wrote it.
   */
  async putOnce(name: string, data: Uint8Array, opts: { absent?: boolean } = {}): Promise<boolean> {
    // Two commits of a round share chunks: one write of a name in flight here, the other waits for it.
    const pending = this.writing.get(name);
    if (pending) return pending.then(() => false);
    const write = this.writeOnce(name, data, opts).finally(() => this.writing.delete(name));
    this.writing.set(name, write);
    return write;
  }

  private async writeOnce(name: string, data: Uint8Array, opts: { absent?: boolean }): Promise<boolean> {
    // `absent`: the caller has just seen has() say no; the write itself still refuses a second copy.
    if (!opts.absent && (await this.has(name))) return false;
    try {
      await this.create(name, data);
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamWrongLastSequence)) throw err;
      // A deleted object leaves a marker behind: nobody can be reading it, so write it again.
      if ((await this.store.info(name))?.deleted) {
        await this.putBytes(name, data);
        return true;
      }
      // Another writer stored it first; its copy is the same content.
      this.known.set(name, true);
      return false;
    }
    this.known.set(name, true);
    return true;
  }

  /**
   * Writes a new object as the object store does (its chunks, then its meta
   * record with a subject rollup), the meta record refused by the server when
   * `name` has one already. Two publishes: no look-up of an older version
   * first (there is none to replace), a native digest. On failure the chunks
   * go, so a refused copy leaves nothing behind.
   */
  private async create(name: string, data: Uint8Array): Promise<void> {
    const id = nuid.next();
    const chunks = `$O.${BLOB_STORE}.C.${id}`;
    const chunkSize = Math.min(OBJECT_CHUNK_BYTES, this.maxPayload);
    try {
      let count = 0;
      for (let at = 0; at < data.length; at += chunkSize, count++) await this.js.publish(chunks, data.subarray(at, at + chunkSize));
      const info = {
        bucket: BLOB_STORE,
        nuid: id,
        size: data.length,
        chunks: count,
        name,
        description: "",
        options: { max_chunk_size: chunkSize },
        mtime: new Date().toISOString(),
        digest: `SHA-256=${base64Url(createHash("sha256").update(data).digest())}`,
        deleted: false,
      };
      const h = natsHeaders();
      h.set("Nats-Expected-Last-Subject-Sequence", "0");
      h.set("Nats-Rollup", "sub");
      await this.js.publish(`$O.${BLOB_STORE}.M.${base64Url(Buffer.from(name, "latin1"))}`, JSON.stringify(info), { headers: h });
    } catch (err) {
      await this.jsm.streams.purge(objectStream(BLOB_STORE), { filter: chunks }).catch(() => {
        // Left behind, the chunks are unreachable (no meta record names them): only space is lost.
      });
      throw err;
    }
  }

  /**
   * Reads an object by stream message gets (its meta record, then each chunk)
   * instead of the client's per-object ordered consumer: a consumer is R1 and
   * on nats-server 2.9 may be placed on a peer that is down, stalling the read
   * until that peer returns; message gets are answered by the stream leader.
   * It also saves a consumer create/delete per blob.
   */
  async getBytes(name: string): Promise<Uint8Array | null> {
    const info = await this.store.info(name);
    if (!info || info.deleted) return null;
    if (info.size === 0) return new Uint8Array(0);
    const stream = objectStream(BLOB_STORE);
    const subject = `$O.${BLOB_STORE}.C.${info.nuid}`;
    const parts: Uint8Array[] = [];
    let seq = 1;
    for (let i = 0; i < info.chunks; i++) {
      // next_by_subj: the first chunk of this object at or after seq.
      const m = await this.jsm.streams.getMessage(stream, { seq, next_by_subj: subject } as unknown as MsgRequest);
      if (!m) throw new ObjectReadError(name, `chunk ${i + 1} of ${info.chunks} is missing`);
      parts.push(m.data);
      seq = m.seq + 1;
    }
    const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    const digest = `SHA-256=${createHash("sha256").update(data).digest("base64url")}`;
    if (data.length !== info.size || digest.replace(/=+$/, "") !== info.digest.replace(/=+$/, "")) {
      throw new ObjectReadError(name, `size or digest does not match its meta record`);
    }
    return data;
  }

  /**
   * Stores a msgpack document under `<prefix>/<hash of its bytes>` and returns
   * that name: writing it again (a re-run, a redelivery) never touches an
   * object someone may be reading.
   */
  async putDocument(prefix: string, value: unknown): Promise<string> {
    return this.putContent(prefix, encode(value));
  }

  /** Stores bytes under `<prefix>/<hash of the bytes>` (write-once) and returns that name. */
  async putContent(prefix: string, data: Uint8Array): Promise<string> {
    const name = `${prefix}/${createHash("sha256").update(data).digest("hex").slice(0, 32)}`;
    await this.putOnce(name, data);
    return name;
  }

  async getValue<T>(name: string): Promise<T | null> {
    const data = await this.getBytes(name);
    return data ? decode<T>(data) : null;
  }
}

/** The three stores a service works with. */
export interface Stores {
  objects: Objects;
  results: ResultCache;
  reports: ReportStore;
}

/** Opens the object store, the result cache and the report store on one connection. */
export async function openStores(nc: NatsConnection): Promise<Stores> {
  const objects = await Objects.open(nc);
  const results = await ResultCache.open(nc, objects);
  return { objects, results, reports: await ReportStore.open(nc, objects, results) };
}

export const objectNames = {
  blob: (id: string) => `blob/${id}`,
  manifest: (repoKey: string, sha: string) => `manifest/${repoKey}/${sha}`,
  files: (repoKey: string, sha: string) => `files/${repoKey}/${sha}`,
  report: (repoKey: string, sha: string) => `report/${repoKey}/${sha}`,
  /** A report.get answer too big for one message, as the JSON the client asked for. */
  reply: (repoKey: string, sha: string) => `reply/${repoKey}/${sha}`,
  result: (key: string) => `result/${key}`,
  /** Chunks of a repo's tables (trees, file lists): content-addressed, shared by its commits. */
  chunks: (repoKey: string) => `table/${repoKey}`,
  /** An effective lint config, by its id (a content hash): what a lint batch refers to. */
  lintConfig: (configId: string) => `lint-config/${configId}`,
};

/**
 * The result cache: (blob, config id) → result, forever. Large results spill to
 * the object store. A key's result never changes, so recent ones are kept in
 * memory: a history reads the same unchanged files' results for every commit.
 */
export class ResultCache {
  private hits = new Lru<string, true>(500_000);
  private values = new Lru<string, FileResult>(20_000);
  constructor(
    private readonly kv: KV,
    private readonly objects: Objects,
  ) {}

  static async open(nc: NatsConnection, objects: Objects): Promise<ResultCache> {
    return new ResultCache(await new Kvm(nc).open(buckets.results), objects);
  }

  /** True when this instance has seen a result for `key` (a result never goes away); false says nothing. */
  known(key: string): boolean {
    return this.hits.has(key);
  }

  async has(key: string): Promise<boolean> {
    if (this.hits.has(key)) return true;
    const e = await this.kv.get(key);
    const found = Boolean(e && e.operation === "PUT");
    if (found) this.hits.set(key, true);
    return found;
  }

  async get(key: string): Promise<FileResult | null> {
    const hit = this.values.get(key);
    if (hit) return hit;
    const e = await this.kv.get(key);
    if (!e || e.operation !== "PUT") return null;
    const v = decode<FileResult | { ref: string }>(e.value);
    const r = "ref" in v ? await this.objects.getValue<FileResult>(v.ref) : v;
    if (r) this.remember(key, r);
    return r;
  }

  private remember(key: string, r: FileResult) {
    this.hits.set(key, true);
    this.values.set(key, r);
  }

  async put(key: string, result: FileResult): Promise<void> {
    const data = encode(result);
    if (data.length > INLINE_LIMIT) {
      const ref = await this.objects.putDocument(objectNames.result(key), result);
      await this.kv.put(key, encode({ ref }));
    } else {
      await this.kv.put(key, data);
    }
    this.remember(key, result);
  }
}

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
  /** Counts of the delta; null when the report has none (a root commit, or no baseline). */
  newIssues: number | null;
  fixedIssues: number | null;
  /** What farm could not honour in the commit's configuration. */
  notes?: string[];
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
  /** Heads this instance stored or read lately (see recentHead). */
  private readonly heads = new Lru<string, StoredReport>(1024);
  /** Bodies by object name: content-addressed, so never stale. */
  private readonly bodies = new Lru<string, ReportBody>(64);

  constructor(
    private readonly kv: KV,
    private readonly objects: Objects,
    private readonly results: ResultCache,
  ) {}

  static async open(nc: NatsConnection, objects: Objects, results: ResultCache): Promise<ReportStore> {
    return new ReportStore(await new Kvm(nc).open(buckets.reports), objects, results);
  }

  /** Throws InvalidKeyError (permanent) for a key the store would refuse: retrying builds the same key. */
  static key(repoKey: string, sha: string): string {
    const key = `${repoKey}.${sha}`;
    if (!isValidKvKey(key)) throw new InvalidKeyError(key);
    return key;
  }

  async head(repoKey: string, sha: string): Promise<StoredReport | null> {
    const key = ReportStore.key(repoKey, sha);
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
    return this.heads.get(ReportStore.key(repoKey, sha)) ?? this.head(repoKey, sha);
  }

  /** Records that a commit could not be analyzed (its head, if any, stays: a report beats a failure). */
  async markFailed(repoKey: string, sha: string, reason: string): Promise<void> {
    await this.kv.put(`${ReportStore.key(repoKey, sha)}.failed`, encode({ reason, at: new Date().toISOString() }));
  }

  /** Why a commit could not be analyzed, when its last analysis was given up. */
  async failure(repoKey: string, sha: string): Promise<string | null> {
    const e = await this.kv.get(`${ReportStore.key(repoKey, sha)}.failed`);
    return e && e.operation === "PUT" ? decode<{ reason: string }>(e.value).reason : null;
  }

  /** Records that these result keys' lint work was given up, where every aggregator can find it. */
  async markGivenUp(keys: string[], reason: string): Promise<void> {
    const value = encode({ reason, at: Date.now() });
    await mapLimit(keys, 32, (k) => this.kv.put(`given-up.${k}`, value));
  }

  /** Why a key's lint work was given up, if that was less than `maxAgeMs` ago (later, it may have been queued again). */
  async givenUp(key: string, maxAgeMs: number): Promise<string | null> {
    const e = await this.kv.get(`given-up.${key}`);
    if (!e || e.operation !== "PUT") return null;
    const { reason, at } = decode<{ reason: string; at: number }>(e.value);
    return Date.now() - at < maxAgeMs ? reason : null;
  }

  async put(head: Omit<StoredReport, "object">, body: ReportBody): Promise<StoredReport> {
    // The file list as a table: a commit shares all but its changed files' chunks with its parent.
    const files = await this.objects.tables.put(objectNames.files(head.repoKey, head.sha), objectNames.chunks(head.repoKey), body.files, (f) => f.path);
    const doc: StoredBody = { ...body, files };
    // A re-run stores the same body under the same name; a reader of the previous head is never disturbed.
    const object = await this.objects.putDocument(objectNames.report(head.repoKey, head.sha), doc);
    const stored = { ...head, object };
    const key = ReportStore.key(head.repoKey, head.sha);
    await this.kv.put(key, encode(stored));
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
    if (!files) throw new Error(`file table ${String(doc.files)} of report ${stored.object} is missing from the object store`);
    const body = { ...doc, files };
    this.bodies.set(stored.object, body);
    return body;
  }

  /** The report without its files: the stored head and the delta, no result read (but for heads stored without rule counts). */
  async summary(stored: StoredReport): Promise<ReportSummary> {
    const { delta } = await this.body(stored);
    const rules = stored.rules ?? countRules((await this.assemble(stored)).files);
    return { ...identity(stored), summary: stored.summary, delta, ...notesOf(stored), rules };
  }

  /** The full public report, assembled from the content-addressed results. */
  async assemble(stored: StoredReport): Promise<Report> {
    const { files, delta, failures = {} } = await this.body(stored);
    const out: Report["files"] = await mapLimit(files, 32, async (f) => {
      const key = resultKey(f.blob, f.configId);
      // A result that arrived since (a replayed batch) wins over the recorded failure.
      const r = (await this.results.get(key)) ?? (failures[key] ? unlintableResult(failures[key]) : null);
      return { path: f.path, blob: f.blob, messages: publicMessages({ path: f.path, blob: f.blob, messages: r?.messages ?? [] }) };
    });
    // Summary counted from what is shown: results that arrived since (a replay) count too.
    return { ...identity(stored), summary: summarize(out), files: out, delta, ...notesOf(stored) };
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
