/**
 * The full tree of every commit of a first-parent history from a constant
 * number of git processes: one `git log --raw` for the whole history, one
 * `ls-tree` for its oldest commit and one `cat-file --batch-check` for the
 * sizes of the blobs the history brings in. Each newer tree is the previous
 * one plus the commit's first-parent diff, so the work per commit follows
 * what it changed rather than the spawn of a process per tree.
 */
import { catFileBatch } from "./batch.js";
import { GitError, InvalidInputError } from "./errors.js";
import { DEFAULT_LOCAL_TIMEOUT_MS } from "./exec.js";
import { COMMIT_FORMAT, firstParentLogArgs, listTree, runLocal, type CommitInfo, type TreeEntry } from "./objects.js";
import { displayPath, pathBytes } from "./paths.js";
import { validateSha } from "./validate.js";

export interface CommitTree extends CommitInfo {
  /** The whole tree, exactly as listTree(mirror, sha) returns it (same entries, same order). */
  tree: readonly TreeEntry[];
  /** Entries of `tree` added or changed (blob or mode) since the previous commit yielded; for the first one yielded, the whole tree. */
  changed: readonly TreeEntry[];
  /** Paths git sees as renamed from the first parent (`-M`); copies come from findCopies. */
  moves: PathMove[];
  /** The commit adds a path that is not a rename: findCopies may find its source. */
  adds: boolean;
}

/** A path renamed or copied from the first parent, as git's similarity index sees it. */
export interface PathMove {
  from: string;
  to: string;
  /** The source stays. */
  copy?: true;
  /** Same content (similarity 100%): found again from blob ids alone. */
  exact?: true;
}

/** One path of a commit's first-parent diff. */
interface Change {
  path: string;
  /** What the path holds afterwards; null when it leaves listTree's view (deleted, or now a submodule). */
  to: { blob: string; mode: string } | null;
}

interface LoggedCommit {
  info: CommitInfo;
  /** Sorted by path bytes, one per path. */
  changes: Change[];
  moves: PathMove[];
  adds: boolean;
}

const GITLINK = "160000";
// setTimeout fires at once for anything bigger (with a warning), which would kill git immediately.
const MAX_TIMER_MS = 2 ** 31 - 1;
const LOG_MS_PER_COMMIT = 50;
// Past this many paths added or removed in one commit, rebuilding the tree in one pass beats splicing.
const MAX_SPLICES = 8;

/**
 * The commit `sha` and up to `n` of its first-parent ancestors (like
 * firstParentHistory(mirror, sha, n)), OLDEST FIRST, each with its full tree.
 * Trees are built incrementally: an entry the commit did not touch is the
 * same object as in the previous tree, so a consumer can skip it by identity.
 */
export async function* firstParentTrees(mirror: string, sha: string, n: number): AsyncGenerator<CommitTree> {
  const id = validateSha(sha);
  if (!Number.isInteger(n) || n < 0) throw new InvalidInputError("history", `history depth must be a non-negative integer, got ${n}`);
  const bytesOf = new PathBytes();
  const commits = await logHistory(mirror, id, n, bytesOf);
  if (commits.length === 0) return;

  // The oldest commit's diff is against a parent outside the range: its tree comes from ls-tree instead.
  const ids = new Set<string>();
  for (const c of commits.slice(1)) for (const ch of c.changes) if (ch.to) ids.add(ch.to.blob);
  // Started before ls-tree so both git processes run at once and sizes are ready by the second commit.
  const stop = new AbortController();
  const sizesP = blobSizes(mirror, [...ids], stop.signal);
  // Rethrown where awaited; without this, a failure while the consumer holds the first commit would be unhandled.
  sizesP.catch(() => {});
  try {
    let tree: readonly TreeEntry[] = await listTree(mirror, commits[0].info.sha);
    yield { ...commits[0].info, tree, changed: tree, moves: commits[0].moves, adds: commits[0].adds };
    if (commits.length === 1) return;
    const sizes = await sizesP;
    for (const c of commits.slice(1)) {
      const next = applyChanges(tree, c, sizes, bytesOf);
      tree = next.tree;
      yield { ...c.info, tree, changed: next.changed, moves: c.moves, adds: c.adds };
    }
  } finally {
    // A consumer that stops early (or a failed ls-tree) must not leave cat-file running.
    stop.abort();
  }
}

/**
 * Copies made by the given commits (sha → its copies), as `git log -C -C`
 * sees them: from any path of the first parent, changed by the commit or
 * not. That costs a comparison of each added path with the whole parent
 * tree, so it is asked only for commits that add paths (CommitTree.adds),
 * in one git process.
 */
export async function findCopies(mirror: string, shas: readonly string[]): Promise<Map<string, PathMove[]>> {
  const copies = new Map<string, PathMove[]>();
  if (shas.length === 0) return copies;
  const ids = shas.map((s) => validateSha(s));
  const args = [`--git-dir=${mirror}`, "log", "--no-show-signature", "--no-color", "--no-walk=unsorted", "--diff-merges=first-parent"];
  args.push("--raw", "-r", "-C", "-C", "--diff-filter=C", "--no-abbrev", "-z", COMMIT_FORMAT, "--end-of-options", ...ids, "--");
  const timeoutMs = Math.min(MAX_TIMER_MS, Math.max(DEFAULT_LOCAL_TIMEOUT_MS, ids.length * LOG_MS_PER_COMMIT));
  const { stdout } = await runLocal(args, mirror, ids[0], { timeoutMs });
  for (const c of parseLog(stdout, new PathBytes())) {
    const found = c.moves.filter((m) => m.copy);
    if (found.length > 0) copies.set(c.info.sha, found);
  }
  return copies;
}

/** Path bytes by display name, cached: every binary-search step compares two of them. */
class PathBytes {
  private readonly cache = new Map<string, Buffer>();
  set(name: string, bytes: Buffer): void {
    this.cache.set(name, bytes);
  }
  get(name: string): Buffer {
    let b = this.cache.get(name);
    if (b === undefined) {
      b = pathBytes(name);
      this.cache.set(name, b);
    }
    return b;
  }
}

/** The history, oldest first, with each commit's first-parent diff, from one `git log`. */
async function logHistory(mirror: string, id: string, n: number, bytesOf: PathBytes): Promise<LoggedCommit[]> {
  // A merge's diff against its first parent: exactly what turns the previous tree into its own.
  // The same commit fields as firstParentHistory, so both describe a commit identically.
  // -M: renames cost little (only a commit's added and removed paths are compared) and the delta follows them.
  const args = firstParentLogArgs(mirror, id, n, ["--diff-merges=first-parent", "--raw", "-r", "-M", "--no-abbrev"]);
  const timeoutMs = Math.min(MAX_TIMER_MS, Math.max(DEFAULT_LOCAL_TIMEOUT_MS, n * LOG_MS_PER_COMMIT));
  const { stdout } = await runLocal(args, mirror, id, { timeoutMs });
  return parseLog(stdout, bytesOf).reverse();
}

/**
 * Parses `git log -z --raw` output. Per commit: the four NUL-terminated
 * format fields; then, only when the diff is not empty, a "\n" and records
 * `:<srcmode> <dstmode> <srcoid> <dstoid> <status>\0<path>\0`, where a
 * rename or copy (status R or C with its score) names two paths, source then
 * destination. The next commit follows directly (its sha never starts with
 * ":"). Parsed as bytes: a path is bytes, not text.
 */
function parseLog(out: Buffer, bytesOf: PathBytes): LoggedCommit[] {
  const commits: LoggedCommit[] = [];
  let pos = 0;
  const bad = (at: number, what: string): GitError =>
    new GitError(`unexpected git log output (${what}) at byte ${at}: ${JSON.stringify(out.subarray(at, at + 120).toString("utf8"))}`);
  const field = (): Buffer => {
    const nul = out.indexOf(0, pos);
    if (nul < 0) throw bad(pos, "unterminated field");
    const f = out.subarray(pos, nul);
    pos = nul + 1;
    return f;
  };
  while (pos < out.length) {
    const start = pos;
    const sha = field().toString("latin1");
    if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(sha)) throw bad(start, "commit id");
    const parents = field().toString("latin1");
    const authorDate = field().toString("utf8");
    const subject = field().toString("utf8");
    const changes: Change[] = [];
    const moves: PathMove[] = [];
    let adds = false;
    const path = (): string => {
      const bytes = Buffer.from(field()); // a copy: the whole log need not stay alive for its paths
      const name = displayPath(bytes);
      bytesOf.set(name, bytes);
      return name;
    };
    if (out[pos] === 10) {
      pos++;
      while (pos < out.length && out[pos] === 0x3a) {
        const at = pos;
        const head = /^:(\d{6}) (\d{6}) ([0-9a-f]+) ([0-9a-f]+) ([ADMTRC])(\d{0,3})$/.exec(field().toString("latin1"));
        // Anything else means the model here is wrong.
        if (!head) throw bad(at, "raw diff record");
        const [, , dstMode, , dstOid, status, score] = head;
        const to = status === "D" || dstMode === GITLINK ? null : { blob: dstOid, mode: dstMode };
        if (status === "R" || status === "C") {
          const from = path();
          const dst = path();
          if (status === "R") changes.push({ path: from, to: null });
          changes.push({ path: dst, to });
          moves.push({ from, to: dst, ...(status === "C" ? { copy: true as const } : {}), ...(score === "100" ? { exact: true as const } : {}) });
          continue;
        }
        if (status === "A") adds = true;
        changes.push({ path: path(), to });
      }
    }
    commits.push({ info: { sha, parents: parents ? parents.split(" ") : [], authorDate, subject }, changes: sortedUnique(changes, bytesOf), moves, adds });
  }
  return commits;
}

/** Changes in tree order, the last one winning should git ever name a path twice. */
function sortedUnique(changes: Change[], bytesOf: PathBytes): Change[] {
  // git already emits them in tree order unless diff.orderFile says otherwise; the sort then costs one pass.
  changes.sort((a, b) => Buffer.compare(bytesOf.get(a.path), bytesOf.get(b.path)));
  return changes.filter((c, i) => i + 1 === changes.length || changes[i + 1].path !== c.path);
}

/** Sizes of the given blobs from one `git cat-file --batch-check`. */
async function blobSizes(mirror: string, ids: string[], signal: AbortSignal): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for await (const o of catFileBatch(mirror, ids, { contents: false })) {
    if (signal.aborted) break; // leaving the loop kills git
    if (o.type !== "blob") throw new GitError(`object ${o.spec} is ${o.type === null ? "missing from" : `a ${o.type} in`} mirror ${mirror}, not a blob`);
    sizes.set(o.spec, o.size);
  }
  return sizes;
}

/**
 * The next tree: `prev` with the commit's changes applied. A new array;
 * entries the commit does not touch are carried over as the same objects.
 * Binary search finds each change's place in `prev`; then a copy of `prev`
 * (a memcpy) with entries replaced in place, and paths that come or go
 * spliced in, or for many of those one merging pass.
 */
function applyChanges(
  prev: readonly TreeEntry[],
  commit: LoggedCommit,
  sizes: ReadonlyMap<string, number>,
  bytesOf: PathBytes,
): { tree: TreeEntry[]; changed: TreeEntry[] } {
  const changed: TreeEntry[] = [];
  // In path order: `at` is the position in prev; `replaces` whether prev[at] is the same path; entry null removes it.
  const edits: { at: number; replaces: boolean; entry: TreeEntry | null }[] = [];
  let moves = 0;
  let added = 0;
  let lo = 0;
  for (const ch of commit.changes) {
    const at = lowerBound(prev, lo, bytesOf.get(ch.path), bytesOf);
    const old = at < prev.length && prev[at].path === ch.path ? prev[at] : undefined;
    lo = old ? at + 1 : at;
    if (ch.to === null) {
      // A path outside listTree's view before (a submodule) needs nothing.
      if (old) {
        edits.push({ at, replaces: true, entry: null });
        moves++;
      }
      continue;
    }
    if (old && old.blob === ch.to.blob && old.mode === ch.to.mode) continue;
    const size = sizes.get(ch.to.blob);
    if (size === undefined) throw new GitError(`no size for blob ${ch.to.blob} of ${ch.path} in commit ${commit.info.sha}`);
    const entry: TreeEntry = { path: ch.path, blob: ch.to.blob, size, mode: ch.to.mode };
    changed.push(entry);
    edits.push({ at, replaces: old !== undefined, entry });
    if (!old) {
      moves++;
      added++;
    }
  }
  if (moves <= MAX_SPLICES) {
    const tree = prev.slice();
    // Back to front, so the positions found in prev still hold for what is left to do.
    for (let k = edits.length - 1; k >= 0; k--) {
      const { at, replaces, entry } = edits[k];
      if (replaces && entry) tree[at] = entry;
      else if (replaces) tree.splice(at, 1);
      else tree.splice(at, 0, entry!);
    }
    return { tree, changed };
  }
  // Each splice moves the rest of the array: past a few, one pass is cheaper.
  const tree = new Array<TreeEntry>(prev.length + added - (moves - added));
  let i = 0;
  let o = 0;
  for (const { at, replaces, entry } of edits) {
    while (i < at) tree[o++] = prev[i++];
    if (replaces) i++;
    if (entry) tree[o++] = entry;
  }
  while (i < prev.length) tree[o++] = prev[i++];
  return { tree, changed };
}

/** The first index in [lo, tree.length) whose path bytes are not below `bytes` (ls-tree -r sorts by path bytes). */
function lowerBound(tree: readonly TreeEntry[], lo: number, bytes: Buffer, bytesOf: PathBytes): number {
  let hi = tree.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (Buffer.compare(bytesOf.get(tree[mid].path), bytes) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
