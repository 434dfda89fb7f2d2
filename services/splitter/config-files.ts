/**
 * The texts a commit's plan reads: its regular .farm.json, .jshintrc, eslintrc
 * and package.json files, and the files their relative `extends` name (an
 * extended file may extend another: asked again, a few rounds at most), from
 * the blob store where ingest put them, cached by blob.
 */
import { mapLimit } from "../../shared/fabric/concurrency.js";
import { ConfigTexts, readExtended, repoConfigPaths, type ReadBlobs } from "../../shared/lint/index.js";
import type { ManifestEntry } from "../../shared/pipeline/contract.js";
import { objectNames } from "../../shared/pipeline/names.js";
import type { Objects } from "../../shared/pipeline/stores/index.js";

/** A config file ingest skipped (e.g. oversized) reads as this: empty rather than a failed commit. */
const ABSENT = "{}";

export class ConfigFiles {
  /** One history reads the same package.json for most of its commits. */
  private readonly texts = new ConfigTexts();
  private readonly read: ReadBlobs;

  constructor(objects: Objects) {
    this.read = async function* (blobs) {
      const data = await mapLimit(blobs, 16, (blob) => objects.getBytes(objectNames.blob(blob)));
      for (const [i, d] of data.entries()) if (d) yield [blobs[i], d] as const;
    };
  }

  /** The text of one file of the tree (undefined when the store has none). */
  async text(entry: ManifestEntry): Promise<string | undefined> {
    return (await this.texts.byPath([entry], this.read)).get(entry.path);
  }

  /** Texts by path, of the config files of `tree` (its entries not in `notRegular`) and of what they extend. */
  async of(tree: readonly ManifestEntry[], notRegular: ReadonlyMap<string, string>): Promise<Map<string, string>> {
    const byPath = new Map(tree.map((e) => [e.path, e]));
    const textsOf = (paths: readonly string[]) =>
      this.texts.byPath(
        paths.map((p) => byPath.get(p)!),
        this.read,
        ABSENT,
      );
    const contents = await textsOf(repoConfigPaths([...byPath.keys()], notRegular));
    const regular = new Set([...byPath.keys()].filter((p) => !notRegular.has(p)));
    await readExtended(regular, contents, textsOf);
    return contents;
  }
}
