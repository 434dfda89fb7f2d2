/**
 * Content-addressed tables: a long list (a commit's tree, its file list)
 * stored as chunks cut where the content says, so that two lists differing in
 * a few items share every other chunk. A commit whose change is one file
 * writes one chunk and a short list of chunk names, not its whole tree: the
 * cost of storing a history grows with what changed, not with its size.
 */
import { decode, encode } from "../../fabric/codec.js";
import { LRUCache } from "lru-cache";

/** What tables need of the object store (stores/objects.ts): content-addressed writes and reads by name. */
export interface ContentStore {
  putContent(prefix: string, data: Uint8Array): Promise<string>;
  getBytes(name: string): Promise<Uint8Array | null>;
}

/** What a table's name points to: its chunks in order. */
interface TableDoc {
  table: 1;
  count: number;
  chunks: string[];
}

/**
 * What tables keep in memory, counted in items (a tree entry or file ref is
 * about a hundred bytes), so that a history of big trees holds what one of
 * small trees does.
 */
export interface TablesOptions {
  /** Items of decoded chunks kept (a history reads the same chunks for every commit). Default 32,768: a tree of 30,000 files. */
  chunkItems?: number;
  /** Items of whole tables kept (a child reads the table its parent just wrote), at most 64 tables. Default 65,536. */
  tableItems?: number;
}

/** Chunks and tables are sized by their items: an empty one still costs an entry. */
const itemsOf = (items: readonly unknown[]) => Math.max(1, items.length);

/** A chunk ends after an item whose key hashes to 0 mod this: 32 items on average. */
const BOUNDARY = 32;
/** …and after this many items at most, so one chunk stays far below a message. */
const MAX_CHUNK = 512;

/** A chunk this instance wrote or read, by its first item: see {@link Tables.put}. */
interface KnownChunk {
  items: readonly unknown[];
  name: string;
}

export class Tables {
  private readonly chunks: LRUCache<string, readonly unknown[]>;
  private readonly tables: LRUCache<string, readonly unknown[]>;
  /**
   * Chunks by their first item (the object, not its value): a history's
   * unchanged entries are the same objects commit after commit, so a chunk of
   * them is known by identity, without encoding or hashing it again.
   */
  private readonly byFirstItem: LRUCache<NonNullable<unknown>, KnownChunk>;

  constructor(
    private readonly objects: ContentStore,
    opts: TablesOptions = {},
  ) {
    const chunkItems = opts.chunkItems ?? 32_768;
    this.chunks = new LRUCache({ maxSize: chunkItems, sizeCalculation: itemsOf });
    this.tables = new LRUCache({ max: 64, maxSize: opts.tableItems ?? 65_536, sizeCalculation: itemsOf });
    this.byFirstItem = new LRUCache({ maxSize: chunkItems, sizeCalculation: (k) => itemsOf(k.items) });
  }

  /**
   * Stores `items` as a table under `<prefix>/<hash>`, its chunks under
   * `<chunkPrefix>/<hash>` (write-once: chunks another table already holds
   * are not written again), and returns the table's name. `keyOf` cuts the
   * chunks: items with the same keys in the same order cut the same way.
   * Items are never changed once stored (a chunk of the same objects is taken
   * to be the same chunk).
   */
  async put<T>(prefix: string, chunkPrefix: string, items: readonly T[], keyOf: (item: T) => string): Promise<string> {
    const names: string[] = [];
    for (const chunk of cut(items, keyOf)) {
      let name = this.knownName(chunkPrefix, chunk);
      if (name === undefined) {
        name = await this.objects.putContent(chunkPrefix, encode(chunk));
        this.remember(name, chunk);
      }
      names.push(name);
    }
    const doc: TableDoc = { table: 1, count: items.length, chunks: names };
    const name = await this.objects.putContent(prefix, encode(doc));
    this.tables.set(name, items);
    return name;
  }

  /**
   * The items of table `name`, or null when there is no such object. A plain
   * list stored whole (before tables existed) reads as itself. The array is
   * shared with later readers: do not change it.
   */
  async get<T>(name: string): Promise<readonly T[] | null> {
    const known = this.tables.get(name);
    if (known) return known as readonly T[];
    const data = await this.objects.getBytes(name);
    if (!data) return null;
    const doc = decode<TableDoc | T[]>(data);
    const items = Array.isArray(doc) ? doc : await this.read<T>(name, doc);
    this.tables.set(name, items);
    return items;
  }

  private async read<T>(name: string, doc: TableDoc): Promise<T[]> {
    const items: T[] = [];
    for (const chunk of doc.chunks) {
      let part = this.chunks.get(chunk) as readonly T[] | undefined;
      if (!part) {
        const data = await this.objects.getBytes(chunk);
        if (!data) throw new Error(`chunk ${chunk} of table ${name} is missing from the object store`);
        part = decode<T[]>(data);
        this.remember(chunk, part);
      }
      for (const item of part) items.push(item);
    }
    if (items.length !== doc.count) throw new Error(`table ${name} has ${items.length} items, its record says ${doc.count}`);
    return items;
  }

  /** The name of a chunk of exactly these objects under `chunkPrefix`, if this instance wrote or read one. */
  private knownName(chunkPrefix: string, chunk: readonly unknown[]): string | undefined {
    const first = chunk[0];
    const known = first === undefined || first === null ? undefined : this.byFirstItem.get(first);
    if (!known || known.items.length !== chunk.length || known.name.slice(0, known.name.lastIndexOf("/")) !== chunkPrefix) return undefined;
    for (let i = 0; i < chunk.length; i++) if (known.items[i] !== chunk[i]) return undefined;
    return known.name;
  }

  private remember(name: string, chunk: readonly unknown[]): void {
    this.chunks.set(name, chunk);
    const first = chunk[0];
    if (first !== undefined && first !== null) this.byFirstItem.set(first, { items: chunk, name });
  }
}

/** Content-defined chunks: a boundary depends only on an item's own key, so an edit moves no boundary but its own. */
function* cut<T>(items: readonly T[], keyOf: (item: T) => string): Generator<T[]> {
  let chunk: T[] = [];
  for (const item of items) {
    chunk.push(item);
    if (chunk.length >= MAX_CHUNK || fnv1a(keyOf(item)) % BOUNDARY === 0) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

/** 32-bit FNV-1a: fast, and stable across processes and versions (chunk names must be). */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
