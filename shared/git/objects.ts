/**
 * Reading a mirror: commit existence, first-parent history, trees, blobs.
 * All functions take the mirror's path (from Mirrors.ensure) and validated
 * hex ids; none of them touches the network.
 */
import { catFileBatch } from "./batch.js";
import { GitError, InvalidInputError, UnknownShaError } from "./errors.js";
import { runGit, type RunGitOptions } from "./exec.js";
import { displayPath, isQuotedPath, pathBytes } from "./paths.js";
import { validateSha } from "./validate.js";

export interface CommitInfo {
  sha: string;
  /** Parent ids in order; the first is the first parent. Empty for a root commit. */
  parents: string[];
  /** Author date, strict ISO 8601 with the author's UTC offset. */
  authorDate: string;
  /** First line (paragraph) of the message. */
  subject: string;
}

export interface TreeEntry {
  /**
   * Path from the repository root, "/"-separated: as is when its bytes are
   * UTF-8, git's C-quoted form (`"\377.js"`) otherwise (see paths.ts), so two
   * different files never share a name.
   */
  path: string;
  /** Blob id. Unchanged content keeps its id across commits: the unit of caching. */
  blob: string;
  /** Size in bytes. */
  size: number;
  /** "100644" file, "100755" executable, "120000" symlink (content is the target: do not lint). */
  mode: string;
}

/** Default size limit of readFileAt: it is meant for package.json, .farm.json and the like. */
export const DEFAULT_READ_FILE_MAX_BYTES = 1024 * 1024;

/** Whether the mirror has `sha` as a commit (an annotated tag pointing to one counts). */
export async function hasCommit(mirror: string, sha: string): Promise<boolean> {
  const id = validateSha(sha);
  // --batch-check answers "missing" with exit 0, which tells a missing commit
  // apart from a broken repository (cat-file -e exits non-zero for both).
  for await (const o of catFileBatch(mirror, [`${id}^{commit}`], { contents: false })) return o.type === "commit";
  return false;
}

/**
 * `git log` of `id` and up to `n` first-parent ancestors, newest first, each
 * commit as NUL-separated sha, parents, author date and subject (a subject
 * may contain anything but NUL), with `extra` options before the revision.
 * `id` must be validated.
 */
/** The fields git log gives of each commit, NUL-terminated with -z: sha, parents, author date, subject. */
export const COMMIT_FORMAT = "--format=%H%x00%P%x00%aI%x00%s";

export function firstParentLogArgs(mirror: string, id: string, n: number, extra: readonly string[] = []): string[] {
  return [
    `--git-dir=${mirror}`,
    "log",
    "--no-show-signature",
    "--no-color",
    "--first-parent",
    ...extra,
    `--max-count=${n + 1}`,
    "-z",
    COMMIT_FORMAT,
    "--end-of-options",
    id,
    "--",
  ];
}

/**
 * The commit and up to `n` of its first-parent ancestors, newest first.
 * First parents only: for a merge into main that is main's own line, which
 * is the history whose reports a user reads.
 */
export async function firstParentHistory(mirror: string, sha: string, n: number): Promise<CommitInfo[]> {
  const id = validateSha(sha);
  if (!Number.isInteger(n) || n < 0) throw new InvalidInputError("history", `history depth must be a non-negative integer, got ${n}`);
  const args = firstParentLogArgs(mirror, id, n);
  const fields = (await runLocal(args, mirror, id)).stdout.toString("utf8").split("\0");
  const commits: CommitInfo[] = [];
  for (let i = 0; i + 3 < fields.length; i += 4) {
    const [sha, parents, authorDate, subject] = fields.slice(i, i + 4);
    commits.push({ sha, parents: parents ? parents.split(" ") : [], authorDate, subject });
  }
  return commits;
}

/** Every blob of the commit's tree, recursively. Submodules (gitlinks, mode 160000) are skipped: their content is another repo. */
export async function listTree(mirror: string, sha: string): Promise<TreeEntry[]> {
  const id = validateSha(sha);
  const args = [`--git-dir=${mirror}`, "ls-tree", "-r", "-l", "-z", "--full-tree", "--end-of-options", id];
  const out = (await runLocal(args, mirror, id)).stdout;
  const entries: TreeEntry[] = [];
  // Records split as bytes: a path is bytes, and decoding the whole output at once would turn every undecodable name into the same U+FFFD.
  for (let start = 0; start < out.length;) {
    const nul = out.indexOf(0, start);
    const end = nul < 0 ? out.length : nul;
    const rec = out.subarray(start, end);
    start = end + 1;
    if (rec.length === 0) continue;
    // "<mode> SP <type> SP <oid> SP+ <size|-> TAB <path>"; -z: the path is not quoted.
    const tab = rec.indexOf(9);
    const m = tab < 0 ? null : /^(\d{6}) (\w+) ([0-9a-f]+) +(-|\d+)$/.exec(rec.subarray(0, tab).toString("latin1"));
    if (!m) throw new GitError(`unexpected git ls-tree output ${JSON.stringify(rec.subarray(0, 200).toString("utf8"))}`);
    const [, mode, type, blob, size] = m;
    if (type !== "blob") continue;
    entries.push({ path: displayPath(rec.subarray(tab + 1)), blob, size: Number(size), mode });
  }
  return entries;
}

/**
 * Streams `[blob id, content]` pairs (like a Map's entries) through one
 * `git cat-file --batch` process, in request order. A missing or non-blob id
 * is a GitError: ids should come from listTree of the same mirror.
 */
export async function* readBlobs(mirror: string, blobIds: Iterable<string>): AsyncGenerator<[blob: string, content: Buffer]> {
  const ids = Array.from(blobIds, (b) => validateSha(b, "blob"));
  for await (const o of catFileBatch(mirror, ids, { contents: true })) {
    if (o.type !== "blob" || o.content === null) {
      throw new GitError(`object ${o.spec} is ${o.type === null ? "missing from" : `a ${o.type} in`} mirror ${mirror}, not a blob`);
    }
    yield [o.spec, o.content];
  }
}

/** readBlobs collected into a Map (duplicates are read once). Mind memory on big sets. */
export async function readBlobMap(mirror: string, blobIds: Iterable<string>): Promise<Map<string, Buffer>> {
  const map = new Map<string, Buffer>();
  for await (const [blob, content] of readBlobs(mirror, new Set(blobIds))) map.set(blob, content);
  return map;
}

/**
 * The content of `path` at commit `sha`, or null when there is no such file
 * (or it is a directory or submodule). `path` as listTree names it (a quoted
 * name stands for its bytes). For small files: bigger than
 * `maxBytes` (default 1 MiB) is a FileTooLargeError.
 */
export async function readFileAt(mirror: string, sha: string, path: string, opts: { maxBytes?: number } = {}): Promise<Buffer | null> {
  const id = validateSha(sha);
  const bytes = pathBytes(path);
  validateRepoPath(isQuotedPath(path) ? bytes.toString("latin1") : path);
  const maxBytes = opts.maxBytes ?? DEFAULT_READ_FILE_MAX_BYTES;
  const spec = isQuotedPath(path) ? Buffer.concat([Buffer.from(`${id}:`), bytes]) : `${id}:${path}`;
  for await (const o of catFileBatch(mirror, [spec], { contents: true, maxBytes })) {
    return o.type === "blob" ? o.content : null;
  }
  return null;
}

// In "<rev>:<path>" git reads "./" and "../" relative to the current
// directory, and a newline would end the batch request.
function validateRepoPath(p: string): void {
  const segments = p.split("/");
  if (p === "" || /[\n\0]/.test(p) || p.startsWith("/") || segments.some((s) => s === "." || s === ".." || s === "")) {
    throw new InvalidInputError("path", `path ${JSON.stringify(p)} must be relative to the repository root, like "package.json" or "src/.farm.json"`);
  }
}

/** Runs a local read; "no such object" becomes UnknownShaError so callers can tell it from a broken mirror. */
export async function runLocal(args: string[], mirror: string, sha: string, opts: RunGitOptions = {}) {
  try {
    return await runGit(args, opts);
  } catch (e) {
    if (e instanceof GitError && /bad object|unknown revision|not a tree object|not a valid object name|bad revision/i.test(e.stderr)) {
      throw new UnknownShaError(mirror, sha, "not in the mirror; call Mirrors.ensure first");
    }
    throw e;
  }
}

/**
 * The commit id `rev` (default HEAD) names in a local repository or working
 * tree, e.g. for `farm analyze .`. Not for mirrors of untrusted urls: this
 * one runs in the user's own checkout.
 */
export async function resolveHead(repoPath: string, rev = "HEAD"): Promise<string> {
  if (rev === "" || rev.startsWith("-") || /[\s\p{Cc}]/u.test(rev)) {
    throw new InvalidInputError("ref", `${JSON.stringify(rev)} is not a revision name; use e.g. HEAD or main`);
  }
  try {
    const { stdout } = await runGit(["-C", repoPath, "rev-parse", "--verify", "--quiet", "--end-of-options", `${rev}^{commit}`]);
    return stdout.toString("utf8").trim();
  } catch (e) {
    if (e instanceof GitError && e.exitCode !== null) {
      throw new InvalidInputError("repo", `${repoPath} has no commit ${rev} (or is not a git repository): ${e.stderr.trim() || "rev-parse found nothing"}`);
    }
    throw e;
  }
}
