/**
 * Config files' texts by blob, one cache for ingest (which reads them from
 * git) and the splitter (from the blob store): a history reads the same
 * package.json and eslintrc files for most of its commits, and a blob's text
 * never changes, so each is read once.
 */
import { LRUCache } from "lru-cache";

/** Default {@link ConfigTextsOptions.max}. */
export const DEFAULT_CONFIG_TEXTS = 1024;
/** Default {@link ConfigTextsOptions.maxTextBytes}. */
export const DEFAULT_CACHED_TEXT_BYTES = 64 * 1024;
/** Default {@link ConfigTextsOptions.maxBytes}. */
export const DEFAULT_CONFIG_TEXTS_BYTES = 2 * 1024 * 1024;

export interface ConfigTextsOptions {
  /** Texts kept (least recently used dropped first). Default DEFAULT_CONFIG_TEXTS. */
  max?: number;
  /** Texts of more bytes are read every time, not kept. Default DEFAULT_CACHED_TEXT_BYTES. */
  maxTextBytes?: number;
  /** Bytes of texts kept in all: what a long history holds stays what a short one does. Default DEFAULT_CONFIG_TEXTS_BYTES. */
  maxBytes?: number;
}

/** Reads blobs' contents; a blob it does not yield has none where it reads (e.g. not in the store). */
export type ReadBlobs = (blobs: readonly string[]) => AsyncIterable<readonly [blob: string, data: Uint8Array]>;

const utf8 = new TextDecoder();

export class ConfigTexts {
  private readonly texts: LRUCache<string, string>;

  constructor({ max = DEFAULT_CONFIG_TEXTS, maxTextBytes = DEFAULT_CACHED_TEXT_BYTES, maxBytes = DEFAULT_CONFIG_TEXTS_BYTES }: ConfigTextsOptions = {}) {
    this.texts = new LRUCache({ max, maxSize: maxBytes, maxEntrySize: Math.min(maxTextBytes, maxBytes) });
  }

  /** The texts of `blobs`: from the cache, the rest in one call of `read`. A blob `read` does not yield is absent. */
  async get(blobs: Iterable<string>, read: ReadBlobs): Promise<Map<string, string>> {
    const texts = new Map<string, string>();
    const unknown = new Set<string>();
    for (const blob of blobs) {
      const known = this.texts.get(blob);
      if (known === undefined) unknown.add(blob);
      else texts.set(blob, known);
    }
    if (unknown.size === 0) return texts;
    for await (const [blob, data] of read([...unknown])) {
      const text = utf8.decode(data);
      texts.set(blob, text);
      // One that is too big is not kept (maxEntrySize).
      this.texts.set(blob, text, { size: Math.max(1, data.length) });
    }
    return texts;
  }

  /** The texts of tree entries by path; an entry `read` has no text for gets `absent`, or is left out. */
  async byPath(entries: readonly { path: string; blob: string }[], read: ReadBlobs, absent?: string): Promise<Map<string, string>> {
    const texts = await this.get(
      entries.map((e) => e.blob),
      read,
    );
    const byPath = new Map<string, string>();
    for (const e of entries) {
      const text = texts.get(e.blob) ?? absent;
      if (text !== undefined) byPath.set(e.path, text);
    }
    return byPath;
  }
}
