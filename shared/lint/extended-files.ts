/**
 * The files a history's legacy ESLint configs name in a relative `extends`
 * (and those extend, a few rounds deep), commit by commit, oldest first:
 * ingest uploads them with the config files so that the splitter reads them
 * like those. Only config texts are read, and ESLint is never loaded (ingest
 * runs this). A commit is looked at only when it changes a config or a file
 * the last one looked at named; the first commit, always.
 */
import type { CommitTree } from "../git/history.js";
import type { TreeEntry } from "../git/objects.js";
import type { ConfigTexts, ReadBlobs } from "./config-texts.js";
import { namedExtends, readExtended } from "./extends.js";
import { isConfigFile, isRegularFile } from "./lintable.js";

export interface ExtendedFilesOptions {
  /** Where config texts are cached (one cache for every history). */
  texts: ConfigTexts;
  /** Reads blobs the cache does not have (the history's mirror). */
  read: ReadBlobs;
  /** Files over this many bytes are neither read nor extended. */
  maxFileSize: number;
}

/** One history's: each round of commits must follow the one before. */
export class ExtendedFiles {
  private first = true;
  /** What the last commit looked at names in a relative `extends`: only a change to one of them, or to a config, can change what is extended. */
  private named = new Set<string>();

  constructor(private readonly o: ExtendedFilesOptions) {}

  /** The tree entries the configs of `round`'s commits extend (a commit not looked at adds none). */
  async of(round: readonly CommitTree[]): Promise<TreeEntry[]> {
    const readable = (e: TreeEntry) => isRegularFile(e.mode) && e.size <= this.o.maxFileSize;
    const configsOf = (t: CommitTree) => t.tree.filter((e) => readable(e) && isConfigFile(e.path));
    const changesConfig = (c: CommitTree) => c.changed.some((e) => isConfigFile(e.path));
    // One read for the round's new config texts (most rounds: none); each commit then finds them cached.
    await this.textsOf(round.filter((c) => this.first || changesConfig(c)).flatMap(configsOf));
    const extended: TreeEntry[] = [];
    for (const t of round) {
      if (!this.first && !changesConfig(t) && !t.changed.some((e) => this.named.has(e.path))) continue;
      this.first = false;
      const regular = new Map(t.tree.filter(readable).map((e) => [e.path, e]));
      const contents = await this.textsOf(configsOf(t));
      const added = await readExtended(new Set(regular.keys()), contents, (paths) => this.textsOf(paths.map((p) => regular.get(p)!)));
      extended.push(...added.map((p) => regular.get(p)!));
      this.named = namedExtends(contents);
    }
    return extended;
  }

  private textsOf(entries: readonly TreeEntry[]): Promise<Map<string, string>> {
    return this.o.texts.byPath(entries, this.o.read);
  }
}
