/**
 * The full tree of every commit of a first-parent history from a constant
 * number of git processes: one `git log --raw` for the whole history, one
 * `ls-tree` for its oldest commit, one `cat-file --batch-check` for the sizes
 * of the blobs the history adds. Each tree is its parent's plus the commit's
 * changes: the work per commit grows with what it changed, not with the tree.
 */
import { catFileBatch } from "./batch.js";
import { GitError } from "./errors.js";
import { DEFAULT_LOCAL_TIMEOUT_MS } from "./exec.js";
import { firstParentHistory, listTree, runLocal, type CommitInfo, type TreeEntry } from "./objects.js";
import { displayPath, pathBytes } from "./paths.js";
import { validateSha } from "./validate.js";

export interface CommitTree extends CommitInfo {
  /** The whole tree, exactly as listTree(mirror, sha) returns it (same entries, same order). */
  tree: readonly TreeEntry[];
  /** Entries of `tree` added or changed since the previous commit yielded; the whole tree for the first. */
  changed: readonly TreeEntry[];
}

interface RawChange {
  /** The path's bytes: trees sort by them. */
  bytes: Buffer;
  /** Null when the path leaves the tree (deleted, or now a submodule). */
  mode: string | null;
  blob: string;
}

const GITLINK = "160000";
/** The marker that starts each commit's header in the log (NUL-free, never in a sha). */
const MARK = "\u0001commit\u0001";

/**
 * The commit `sha` and up to `n` of its first-parent ancestors (as
 * firstParentHistory selects them), OLDEST FIRST, each with its full tree.
 */
export async function* firstParentTrees(mirror: string, sha: string, n: number): AsyncGenerator<CommitTree> {
  // Validates sha and n and maps an unknown sha, like every history read.
  const commits = (await firstParentHistory(mirror, sha, n)).reverse();
  if (commits.length === 0) return;
  const changes = await rawChanges(mirror, validateSha(sha), n, commits.length);
  const sizes = await blobSizes(mirror, changes);

  let tree: TreeEntry[] = await listTree(mirror, commits[0].sha);
  // ls-tree sorts by path bytes; a display name (quoted when not UTF-8) does not sort the same.
  const bytesOf = new Map<TreeEntry, Buffer>(tree.map((e) => [e, pathBytes(e.path)]));
  yield { ...commits[0], tree, changed: tree };
  for (const commit of commits.slice(1)) {
    const next = [...tree];
    const changed: TreeEntry[] = [];
    for (const c of changes.get(commit.sha) ?? []) {
      const at = search(next, bytesOf, c.bytes);
      const found = at >= 0;
      if (c.mode === null) {
        if (found) next.splice(at, 1);
        continue;
      }
      const size = sizes.get(c.blob);
      if (size === undefined) throw new GitError(`blob ${c.blob} of commit ${commit.sha} is missing from mirror ${mirror}`);
      const entry: TreeEntry = { path: displayPath(c.bytes), blob: c.blob, size, mode: c.mode };
      bytesOf.set(entry, c.bytes);
      if (found) next[at] = entry;
      else next.splice(-at - 1, 0, entry);
      changed.push(entry);
    }
    tree = next;
    yield { ...commit, tree, changed };
  }
}

/** Binary search by path bytes: the index of the entry, or -(insertion point) - 1. */
function search(tree: readonly TreeEntry[], bytesOf: Map<TreeEntry, Buffer>, bytes: Buffer): number {
  let lo = 0;
  let hi = tree.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const cmp = Buffer.compare(bytesOf.get(tree[mid])!, bytes);
    if (cmp === 0) return mid;
    if (cmp < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -lo - 1;
}

/**
 * Each commit's changes against its first parent, by sha, from one `git log`.
 * A merge's diff is against its first parent; a root commit lists nothing
 * (its tree comes from ls-tree).
 */
async function rawChanges(mirror: string, id: string, n: number, expected: number): Promise<Map<string, RawChange[]>> {
  const args = [
    `--git-dir=${mirror}`,
    "log",
    "--no-show-signature",
    "--no-color",
    "--first-parent",
    "--diff-merges=first-parent",
    "--raw",
    "-r",
    "--no-renames",
    "--no-abbrev",
    "-z",
    `--max-count=${n + 1}`,
    `--format=${MARK.replace(/\u0001/g, "%x01")}%H`,
    "--end-of-options",
    id,
    "--",
  ];
  const { stdout } = await runLocal(args, mirror, id, { timeoutMs: Math.max(DEFAULT_LOCAL_TIMEOUT_MS, n * 50) });
  const out = new Map<string, RawChange[]>();
  const mark = Buffer.from(MARK);
  let current: RawChange[] | null = null;
  for (let pos = 0; pos < stdout.length; ) {
    if (stdout[pos] === 0 || stdout[pos] === 10) {
      pos++;
      continue;
    }
    if (stdout.subarray(pos, pos + mark.length).equals(mark)) {
      const sha = stdout.subarray(pos + mark.length, pos + mark.length + 64).toString("latin1").match(/^[0-9a-f]+/)?.[0];
      if (!sha) throw new GitError(`unexpected git log output at byte ${pos}`);
      current = [];
      out.set(sha, current);
      pos += mark.length + sha.length;
      continue;
    }
    // ":<srcmode> <dstmode> <srcoid> <dstoid> <status>\0<path>\0"
    const nul = stdout.indexOf(0, pos);
    const end = stdout.indexOf(0, nul + 1);
    const head = /^:(\d{6}) (\d{6}) ([0-9a-f]+) ([0-9a-f]+) ([A-Z])\d*$/.exec(stdout.subarray(pos, nul).toString("latin1"));
    if (!head || current === null || nul < 0 || end < 0) throw new GitError(`unexpected git log --raw output ${JSON.stringify(stdout.subarray(pos, pos + 120).toString("utf8"))}`);
    const [, , dstMode, , dstBlob, status] = head;
    const bytes = Buffer.from(stdout.subarray(nul + 1, end));
    const gone = status === "D" || dstMode === GITLINK || dstMode === "000000";
    current.push({ bytes, mode: gone ? null : dstMode, blob: dstBlob });
    pos = end + 1;
  }
  if (out.size !== expected) throw new GitError(`git log listed ${out.size} commits of ${id}, expected ${expected}`);
  return out;
}

/** Sizes of every blob the changes add, from one `cat-file --batch-check`. */
async function blobSizes(mirror: string, changes: Map<string, RawChange[]>): Promise<Map<string, number>> {
  const ids = new Set<string>();
  for (const list of changes.values()) for (const c of list) if (c.mode !== null) ids.add(c.blob);
  const sizes = new Map<string, number>();
  for await (const o of catFileBatch(mirror, [...ids], { contents: false })) if (o.type === "blob") sizes.set(o.spec, o.size);
  return sizes;
}
