/**
 * What following a config through the tree shares: the bounded reads, the
 * limits, the notes, the files parsed so far (each once: an import cycle ends
 * there, and `maxFiles` counts them), and the packages found, each with the
 * first file that names it.
 */
import type { ResolveLimits } from "./limits.js";
import type { Notes } from "./notes.js";
import type { TreeFiles } from "./tree-files.js";

export class Scan {
  readonly parsed = new Set<string>();
  /** Package name → the file that names it first, and whether it imports it or names it as data. */
  readonly packages = new Map<string, { file: string; how: "imported" | "named" }>();
  private full = false;

  constructor(
    readonly files: TreeFiles,
    readonly limits: ResolveLimits,
    readonly notes: Notes,
  ) {}

  /** Claims `file` for parsing: false when parsed already, or when `maxFiles` are (noted once). */
  claim(file: string): boolean {
    if (this.parsed.has(file)) return false;
    if (this.parsed.size >= this.limits.maxFiles) {
      if (!this.full) this.notes.add(`more than ${this.limits.maxFiles} files of the config to read: ${file} and further ones not read`);
      this.full = true;
      return false;
    }
    this.parsed.add(file);
    return true;
  }

  /** Records a package `file` imports or names (the first file is kept). */
  name(pkg: string, file: string, how: "imported" | "named"): void {
    if (!this.packages.has(pkg)) this.packages.set(pkg, { file, how });
  }
}
