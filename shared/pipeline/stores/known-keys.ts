/** A set of keys known to exist, for the stores that skip a look-up for them. */
import { LRUCache } from "lru-cache";

/** Characters of keys kept by default: 16 Mi, about 100,000–150,000 object names or result keys. */
const KNOWN_KEY_CHARS = 16 * 1024 * 1024;

/** Keys known to exist, bounded by their length in all, so a long history's keys take what a short one's do. */
export function knownKeys(maxChars = KNOWN_KEY_CHARS): LRUCache<string, true> {
  return new LRUCache<string, true>({ maxSize: maxChars, sizeCalculation: (_, key) => Math.max(1, key.length) });
}
