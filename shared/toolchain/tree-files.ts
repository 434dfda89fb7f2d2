/**
 * Bounded reads of a commit's tree: a file's text when it is a regular file
 * under the size limit (else null, with a note), and the module kind Node
 * gives a path (its extension, or the nearest package.json's "type").
 */
import { dirOf, packageTypes, sourceTypeOf } from "../lint/source-type.js";
import type { SourceType } from "../lint/types.js";
import type { Notes } from "./notes.js";
import type { CommitTree } from "./types.js";

export class TreeFiles {
  readonly paths: ReadonlySet<string>;
  private readonly types = new Map<string, string | undefined>();

  constructor(
    private readonly tree: CommitTree,
    private readonly maxFileBytes: number,
    private readonly notes: Notes,
  ) {
    this.paths = new Set(tree.paths);
  }

  has(path: string): boolean {
    return this.paths.has(path);
  }

  /** The text of `path`, or null when absent, not a regular file, or over `maxBytes` (noted). */
  async text(path: string, maxBytes = this.maxFileBytes): Promise<string | null> {
    if (!this.paths.has(path)) return null;
    const text = await this.tree.read(path);
    if (text === null) return null;
    if (Buffer.byteLength(text) > maxBytes) {
      this.notes.add(`${path} is larger than ${maxBytes} bytes: not read`);
      return null;
    }
    return text;
  }

  /** How Node loads `path`: by extension, else by the "type" of the nearest package.json of the tree. */
  async sourceType(path: string): Promise<SourceType> {
    for (let dir = dirOf(path); ; dir = dirOf(dir)) {
      const pkg = dir === "" ? "package.json" : `${dir}/package.json`;
      if (!this.types.has(dir) && this.paths.has(pkg)) {
        const text = await this.text(pkg);
        const type = text === null ? undefined : packageTypes([[pkg, text]]).get(dir);
        this.types.set(dir, type);
      }
      if (this.types.has(dir) || dir === "") break;
    }
    return sourceTypeOf(path, this.types);
  }
}
