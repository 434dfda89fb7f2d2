/** The object store: write-once objects written in two publishes, read by stream message gets. */
import { hash } from "node:crypto";
import {
  JetStreamApiError,
  JetStreamApiCodes,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
  type DirectMsgRequest,
  type StoredMsg,
} from "@nats-io/jetstream";
import { Objm, type ObjectInfo, type ObjectStore } from "@nats-io/obj";
import { headers as natsHeaders, nuid, PermissionViolationError, RequestError, type NatsConnection } from "@nats-io/transport-node";
import { InFlight } from "../../fabric/concurrency.js";
import { decode, encode } from "../../fabric/codec.js";
import { BLOB_STORE, objectStream } from "../names.js";
import { ObjectReadError } from "../errors.js";
import { maxPayload } from "../../fabric/limits.js";
import { knownKeys } from "./known-keys.js";
import { Tables } from "./tables.js";

/** The store's stream. */
const STREAM = objectStream(BLOB_STORE);

/** The object store's own chunk size. */
const OBJECT_CHUNK_BYTES = 128 * 1024;

/** Padded base64url, as the object store names meta subjects and digests. */
function base64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
}

/** The subject of `name`'s meta record, as the object store names it. */
function metaSubject(name: string): string {
  return `$O.${BLOB_STORE}.M.${base64Url(Buffer.from(name, "latin1"))}`;
}

/** The object store: blob contents and msgpack documents that may be large. */
export class Objects {
  /**
   * Whether to ask any replica first (see {@link info}): when the store's
   * stream allows it (the object store creates it so), until the NATS user
   * turns out not to be allowed DIRECT.GET (an older auth config).
   */
  private direct: boolean;
  /** Names known to exist. */
  private known = knownKeys();
  /** Writes of write-once names in flight, by name. */
  private readonly writing = new InFlight<boolean>();
  /** Long lists (trees, file lists) stored as shared chunks: see tables.ts. */
  readonly tables: Tables;
  constructor(
    readonly store: ObjectStore,
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
    private readonly maxPayload: number,
    opts: { direct?: boolean } = {},
  ) {
    this.direct = opts.direct ?? false;
    this.tables = new Tables(this);
  }

  static async open(nc: NatsConnection): Promise<Objects> {
    const store = await new Objm(nc).open(BLOB_STORE);
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    // A stream that does not allow direct gets drops them unanswered: ask it once which it does.
    const { config } = await jsm.streams.info(STREAM);
    return new Objects(store, jsm, jetstream(nc), maxPayload(nc), { direct: config.allow_direct === true });
  }

  /**
   * `name`'s meta record. Objects are write-once and farm deletes none, so a
   * replica that has the record has the object and its chunks: any replica
   * may answer (a direct get: the record's bytes, not a JSON envelope with
   * them in base64, about half the server's work). When it has none, or a
   * deleted one, the stream's leader is asked: a replica may lag a write.
   * Null when there is none, or a deleted one.
   */
  private async info(name: string): Promise<ObjectInfo | null> {
    const near = (await this.nearest({ last_by_subj: metaSubject(name) }))?.json<ObjectInfo>();
    if (near && !near.deleted) return near;
    const info = await this.store.info(name);
    return info && !info.deleted ? info : null;
  }

  /** The first chunk on `subject` at or after `seq`: from any replica, else (a lagging one) from the leader. */
  private async chunk(subject: string, seq: number): Promise<StoredMsg | null> {
    // next_by_subj: the first chunk of this object at or after seq (the leader's API takes it too).
    const query = { seq, next_by_subj: subject };
    return (await this.nearest(query)) ?? (await this.jsm.streams.getMessage(STREAM, query));
  }

  /** A direct get from whichever replica answers; null when it has nothing, or direct gets are off (a user not allowed them turns them off). */
  private async nearest(query: DirectMsgRequest): Promise<StoredMsg | null> {
    if (!this.direct) return null;
    try {
      return await this.jsm.direct.getMessage(STREAM, query);
    } catch (err) {
      // The client wraps it in a RequestError.
      const why = err instanceof RequestError ? err.cause : err;
      if (!(why instanceof PermissionViolationError)) throw err;
      this.direct = false;
      return null;
    }
  }

  async has(name: string): Promise<boolean> {
    if (this.known.has(name)) return true;
    const info = await this.info(name);
    if (info) this.known.set(name, true);
    return info !== null;
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
    return this.writing.run(name, () => this.writeOnce(name, data, opts));
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
        digest: `SHA-256=${base64Url(hash("sha256", data, "buffer"))}`,
        deleted: false,
      };
      const h = natsHeaders();
      h.set("Nats-Expected-Last-Subject-Sequence", "0");
      h.set("Nats-Rollup", "sub");
      await this.js.publish(metaSubject(name), JSON.stringify(info), { headers: h });
    } catch (err) {
      // A publish whose ack timed out may still have been stored (an event loop stalled past the
      // timeout sees the timer before the ack): chunks the meta record names are the object.
      const stored = await this.store.info(name).then(
        (info) => info?.nuid === id,
        () => null,
      );
      if (stored) return;
      // Unknown (the look-up failed): leave them, as purging an object's chunks would break it.
      if (stored === null) throw err;
      await this.jsm.streams.purge(STREAM, { filter: chunks }).catch(() => {
        // Left behind, the chunks are unreachable (no meta record names them): only space is lost.
      });
      throw err;
    }
  }

  /**
   * Reads an object by message gets (its meta record, then each chunk; direct
   * gets first, see {@link info}) instead of the client's per-object ordered
   * consumer: a consumer is R1 and on nats-server 2.9 may be placed on a peer
   * that is down, stalling the read until that peer returns; a get is answered
   * by a replica that is up, or by the stream leader. It also saves a
   * consumer create/delete per blob.
   */
  async getBytes(name: string): Promise<Uint8Array | null> {
    const info = await this.info(name);
    if (!info) return null;
    const data = await this.chunksOf(info);
    if (data) return this.verified(name, info, data);
    // A chunk is missing: the meta record may be a lagging replica's, of an object deleted and written again since; the leader's is current.
    const current = await this.store.info(name);
    if (!current || current.deleted) return null;
    const again = await this.chunksOf(current);
    if (!again) throw new ObjectReadError(name, `a chunk of its ${current.chunks} is missing`);
    return this.verified(name, current, again);
  }

  /** The object's bytes, or null when one of its chunks is missing. */
  private async chunksOf(info: ObjectInfo): Promise<Uint8Array | null> {
    if (info.size === 0) return new Uint8Array(0);
    const subject = `$O.${BLOB_STORE}.C.${info.nuid}`;
    const parts: Uint8Array[] = [];
    let seq = 1;
    for (let i = 0; i < info.chunks; i++) {
      const m = await this.chunk(subject, seq);
      if (!m) return null;
      parts.push(m.data);
      seq = m.seq + 1;
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  private verified(name: string, info: ObjectInfo, data: Uint8Array): Uint8Array {
    const digest = `SHA-256=${hash("sha256", data, "base64url")}`;
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
    const name = `${prefix}/${hash("sha256", data, "hex").slice(0, 32)}`;
    await this.putOnce(name, data);
    return name;
  }

  async getValue<T>(name: string): Promise<T | null> {
    const data = await this.getBytes(name);
    return data ? decode<T>(data) : null;
  }
}
