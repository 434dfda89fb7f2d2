/**
 * Exact versions from the commit's npm lockfile (`npm-shrinkwrap.json` before
 * `package-lock.json`, as npm reads them), versions 1 to 3: the version of a
 * top-level package, `packages["node_modules/<name>"]` (v2, v3) or
 * `dependencies[<name>]` (v1). Other package managers' lockfiles are not
 * read: their presence is noted, and package.json's ranges are used.
 */
import { isPlainObject, parseRepoJson } from "../lint/jsonc.js";
import { reason, type Notes } from "./notes.js";
import { exactVersion } from "./package-name.js";
import type { TreeFiles } from "./tree-files.js";

export const NPM_LOCKFILES: readonly string[] = ["npm-shrinkwrap.json", "package-lock.json"];
export const OTHER_LOCKFILES: readonly string[] = ["yarn.lock", "pnpm-lock.yaml", "bun.lock", "bun.lockb"];

export class Lockfile {
  private constructor(
    /** The lockfile read, or null. */
    readonly file: string | null,
    private readonly raw: Record<string, unknown> | null,
  ) {}

  /** Reads the root npm lockfile (at most `maxBytes`); notes the lockfiles of other package managers. */
  static async read(files: TreeFiles, maxBytes: number, notes: Notes, date: string): Promise<Lockfile> {
    const file = NPM_LOCKFILES.find((f) => files.has(f)) ?? null;
    const others = OTHER_LOCKFILES.filter((f) => files.has(f));
    if (file === null && others.length > 0) notes.add(`${others.join(", ")} not read: package.json's ranges resolved as of ${date}`);
    else if (others.length > 0) notes.add(`${others.join(", ")} not read: ${file} used`);
    if (file === null) return new Lockfile(null, null);
    const text = await files.text(file, maxBytes);
    if (text === null) return new Lockfile(null, null);
    try {
      const raw = parseRepoJson(text, file);
      if (isPlainObject(raw)) return new Lockfile(file, raw);
      notes.add(`${file} is not an object: not used`);
    } catch (err) {
      notes.add(`${reason(err)}: not used`);
    }
    return new Lockfile(null, null);
  }

  /**
   * The exact version the lockfile installs of `name` at the top level, or
   * undefined: not locked, a link (a workspace), an alias of another package,
   * or a version that is no registry version (git, a tarball).
   */
  version(name: string): string | undefined {
    if (this.raw === null) return undefined;
    const own = (table: unknown, key: string) => (isPlainObject(table) && Object.hasOwn(table, key) ? table[key] : undefined);
    const entry = own(this.raw.packages, `node_modules/${name}`) ?? own(this.raw.dependencies, name);
    if (!isPlainObject(entry) || entry.link === true) return undefined;
    if (entry.name !== undefined && entry.name !== name) return undefined;
    return typeof entry.version === "string" ? (exactVersion(entry.version) ?? undefined) : undefined;
  }
}
