/**
 * CommitTrees for the toolchain resolver's tests: one held in memory (that
 * records what was read), and one read with git from a real repository.
 */
import type { CommitTree } from "../../shared/toolchain/types.js";
import { git, gitBuffer } from "./git.js";

/** A tree of `files` (path → text) dated `date`; `reads` lists every path asked for, in order. */
export function memoryTree(files: Record<string, string>, date = "2024-05-01T10:00:00Z"): CommitTree & { reads: string[] } {
  const reads: string[] = [];
  return {
    paths: Object.keys(files),
    date,
    reads,
    read(path: string) {
      reads.push(path);
      return Promise.resolve(Object.hasOwn(files, path) ? files[path] : null);
    },
  };
}

/** The tree of `rev` in the repository at `dir`, read with `git ls-tree` and `git cat-file`; regular files only. */
export function gitTree(dir: string, rev = "HEAD"): CommitTree {
  const paths: string[] = [];
  for (const entry of gitBuffer(dir, "ls-tree", "-r", "-z", "--full-tree", rev, "--").toString("utf8").split("\0")) {
    const m = /^(100644|100755) blob [0-9a-f]+\t(.*)$/s.exec(entry);
    if (m) paths.push(m[2]);
  }
  const known = new Set(paths);
  return {
    paths,
    date: git(dir, "show", "-s", "--format=%cI", rev, "--"),
    read: (path: string) => Promise.resolve(known.has(path) ? gitBuffer(dir, "cat-file", "blob", `${rev}:${path}`).toString("utf8") : null),
  };
}

/** A lockfile of `version` 1, 2 or 3 pinning `pins` at the top level. */
export function npmLock(version: 1 | 2 | 3, pins: Record<string, string>): string {
  const packages = Object.fromEntries(Object.entries(pins).map(([n, v]) => [`node_modules/${n}`, { version: v, dev: true }]));
  const dependencies = Object.fromEntries(Object.entries(pins).map(([n, v]) => [n, { version: v, dev: true }]));
  const lock =
    version === 1
      ? { name: "x", lockfileVersion: 1, requires: true, dependencies }
      : version === 2
        ? { name: "x", lockfileVersion: 2, requires: true, packages: { "": { name: "x" }, ...packages }, dependencies }
        : { name: "x", lockfileVersion: 3, requires: true, packages: { "": { name: "x" }, ...packages } };
  return JSON.stringify(lock, null, 2);
}
