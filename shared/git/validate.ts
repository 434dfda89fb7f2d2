/**
 * Validation of everything that reaches git from outside. Repo urls and shas end
 * up as git arguments, so anything git could read as an option, a transport
 * helper (`ext::`) or an unencrypted protocol is refused here, before any
 * process is started.
 */
import { createHash } from "node:crypto";
import path from "node:path";
import { redactUrl, repoIdentity } from "./credentials.js";
import { InvalidInputError } from "./errors.js";

export interface RepoRefOptions {
  /**
   * Accept file:// urls and plain local paths. Default false: reading the
   * host's filesystem is only for trusted setups (tests, `farm analyze .`).
   */
  allowLocal?: boolean;
  /**
   * Clone url for `{owner, repo}` payloads, with `{owner}` and `{repo}`
   * placeholders, e.g. "https://github.com/{owner}/{repo}.git".
   * Default: none, and such payloads are rejected.
   */
  cloneUrlTemplate?: string;
  /** Largest accepted `history`. Default 10000. */
  maxHistory?: number;
}

/** A validated repo.new_sha request. */
export interface RepoRef {
  /**
   * The repository's identity: the clone url without credentials (see
   * repoIdentity), or the local path. What every event, log line, report and
   * key uses. For `{owner, repo}` payloads, the url built from the template.
   */
  repo: string;
  /**
   * The url to clone from, credentials included: for git only (Mirrors.ensure),
   * never published, logged or stored. Not enumerable, so spreading,
   * serializing or logging a RepoRef leaves it out.
   */
  readonly cloneUrl: string;
  /** Lowercase hex commit id: 40 chars (SHA-1) or 64 (SHA-256). */
  sha: string;
  /** Informational only (e.g. "refs/heads/main"); never passed to git. */
  ref?: string;
  /** How many first-parent ancestors to analyze too; 0 = the commit alone. */
  history: number;
}

export type RepoUrlKind = "https" | "ssh" | "scp" | "file" | "local";

export const DEFAULT_MAX_HISTORY = 10_000;
const MAX_URL_LENGTH = 4096;
const MAX_REF_LENGTH = 1024;
const NAME_RE = /^[A-Za-z0-9_.-]+$/;
const SHA_RE = /^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/;
// Whitespace and control characters: git would split or mangle them, and in a
// url they are never legitimate (a space is %20).
const WS_OR_CTRL_RE = /[\s\p{Cc}]/u;
// What a local path may not contain: a directory name may have spaces, never a line break.
const CTRL_OR_NON_SPACE_WS_RE = /[\p{Cc}\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]/u;
// Options that turn a clone into command execution if git ever parsed them.
const DANGEROUS_OPTION_RE = /--(?:upload-pack|receive-pack|config|exec|template|separate-git-dir)/i;
// `<transport>::<address>` runs git-remote-<transport> (ext:: runs a shell command).
const TRANSPORT_HELPER_RE = /^[A-Za-z][A-Za-z0-9+.-]*::/;
const SCHEME_RE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;
const HOST_RE = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/;
const SCP_USER_RE = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/;

const ALLOWED = "https://host/owner/name.git, ssh://user@host/path or user@host:path";

/**
 * Validates a `repo.new_sha` payload: `{repo, sha, ref?, history?}` or
 * `{owner, repo, sha, ref?, history?}`. Unknown fields are ignored so that
 * clients may send more than we use.
 * @throws InvalidInputError saying what is wrong and what to send instead.
 */
export function validateRepoRef(input: unknown, opts: RepoRefOptions = {}): RepoRef {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new InvalidInputError("payload", 'repo.new_sha payload must be a JSON object like {"repo": "<clone url>", "sha": "<commit id>"}');
  }
  const p = input as Record<string, unknown>;
  const sha = validateSha(p.sha);
  const history = validateHistory(p.history, opts.maxHistory ?? DEFAULT_MAX_HISTORY);
  const ref = validateInfoRef(p.ref);

  const repo = p.owner !== undefined ? buildCloneUrl(opts.cloneUrlTemplate, validateName("owner", p.owner), validateName("repo", p.repo)) : (p.repo as string);
  validateRepoUrl(repo, { allowLocal: opts.allowLocal });

  const out = { repo: repoIdentity(repo), sha, history } as RepoRef;
  if (ref !== undefined) out.ref = ref;
  Object.defineProperty(out, "cloneUrl", { value: repo, enumerable: false });
  return out;
}

/**
 * Normalizes a full 40/64-hex object id to lowercase. Abbreviated ids are
 * refused: they are ambiguous and need a lookup. Hex only, so an id can never
 * be read as an option or end a `cat-file --batch` request early.
 */
export function validateSha(sha: unknown, field = "sha"): string {
  if (typeof sha !== "string" || !SHA_RE.test(sha)) {
    const shown = typeof sha === "string" ? JSON.stringify(sha.slice(0, 80)) : typeof sha;
    const what = field === "sha" ? "commit id" : "object id";
    throw new InvalidInputError(
      field,
      `"${field}" must be a full ${what} (40 hex chars, or 64 for SHA-256 repos), got ${shown}; send the output of \`git rev-parse <ref>\``,
    );
  }
  return sha.toLowerCase();
}

function validateHistory(history: unknown, max: number): number {
  if (history === undefined || history === null) return 0;
  if (typeof history !== "number" || !Number.isInteger(history) || history < 0 || history > max) {
    throw new InvalidInputError(
      "history",
      `"history" must be an integer from 0 to ${max} (first-parent ancestors to analyze too), got ${JSON.stringify(history)}`,
    );
  }
  return history;
}

function validateInfoRef(ref: unknown): string | undefined {
  if (ref === undefined || ref === null) return undefined;
  if (typeof ref !== "string" || ref === "" || ref.length > MAX_REF_LENGTH || ref.startsWith("-") || WS_OR_CTRL_RE.test(ref)) {
    throw new InvalidInputError("ref", `"ref" must be a ref name like "refs/heads/main" (no leading "-", no whitespace), or be left out`);
  }
  return ref;
}

function validateName(field: "owner" | "repo", v: unknown): string {
  if (typeof v !== "string" || v.length === 0 || v.length > 100 || !NAME_RE.test(v) || v.startsWith("-") || v.startsWith(".")) {
    throw new InvalidInputError(
      field,
      `"${field}" must be a plain name of letters, digits, "_", "." or "-" (not starting with "-" or "."), got ${JSON.stringify(v)}`,
    );
  }
  return v;
}

function buildCloneUrl(template: string | undefined, owner: string, name: string): string {
  if (!template) {
    throw new InvalidInputError("owner", '{owner, repo} payloads need a clone url template configured on ingest; send {"repo": "<clone url>"} instead');
  }
  return template.replaceAll("{owner}", owner).replaceAll("{repo}", name);
}

/**
 * Checks that `url` is something git may safely clone from and says which kind
 * it is. Allowed: https://, ssh://, scp-like user@host:path; file:// and local
 * paths only with `allowLocal`.
 * @throws InvalidInputError
 */
export function validateRepoUrl(url: unknown, opts: { allowLocal?: boolean } = {}, field = "repo"): RepoUrlKind {
  const bad = (why: string): never => {
    throw new InvalidInputError(field, `"${field}" ${why}`);
  };
  if (typeof url !== "string") return bad(`must be a string: a clone url such as ${ALLOWED}`);
  if (url === "") return bad(`is empty: send a clone url such as ${ALLOWED}`);
  if (url.length > MAX_URL_LENGTH) return bad(`is longer than ${MAX_URL_LENGTH} characters`);
  // Most specific reason first: an attack gets named as one.
  if (url.startsWith("-")) return bad('starts with "-" and would be read as a git option; send a clone url');
  if (DANGEROUS_OPTION_RE.test(url)) return bad("contains a git command-line option (--upload-pack, --config, ...); send a plain clone url");
  if (TRANSPORT_HELPER_RE.test(url)) return bad(`uses a git transport helper ("${url.slice(0, url.indexOf("::"))}::"), which can run commands; use ${ALLOWED}`);
  if (CTRL_OR_NON_SPACE_WS_RE.test(url)) return bad("contains whitespace or control characters; percent-encode them or fix the url");

  const scheme = SCHEME_RE.exec(url)?.[1]?.toLowerCase();
  const isUrl = scheme !== undefined || isScpLike(url);
  // Spaces only in local paths (git gets its arguments as an array: a space splits nothing).
  if (isUrl && WS_OR_CTRL_RE.test(url)) return bad("contains whitespace or control characters; percent-encode them or fix the url");
  if (scheme !== undefined) return checkSchemeUrl(url, scheme, !!opts.allowLocal, bad);
  if (isScpLike(url)) return checkScp(url, bad);
  if (!opts.allowLocal) return bad(`is a local path, and local repositories are not enabled on this ingest; use ${ALLOWED}`);
  return "local";
}

function checkSchemeUrl(url: string, scheme: string, allowLocal: boolean, bad: (why: string) => never): RepoUrlKind {
  if (scheme === "http" || scheme === "git") {
    return bad(`uses ${scheme}://, which is unencrypted and unauthenticated; use https:// or ssh:// instead`);
  }
  if (scheme === "file" && !allowLocal) {
    return bad(`is a file:// url, and local repositories are not enabled on this ingest; use ${ALLOWED}`);
  }
  if (scheme !== "https" && scheme !== "ssh" && scheme !== "file") {
    return bad(`uses the unsupported scheme "${scheme}://"; use ${ALLOWED}`);
  }
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return bad(`is not a valid ${scheme}:// url`);
  }
  if (scheme === "file") {
    if (u.host !== "" && u.host !== "localhost") return bad("must be file:///absolute/path (no remote host)");
    return "file";
  }
  // A host or user starting with "-" becomes an ssh option (CVE-2017-1000117).
  if (u.hostname === "" || u.hostname.startsWith("-") || u.username.startsWith("-") || u.username.startsWith("%2D") || u.username.startsWith("%2d")) {
    return bad(`has an invalid host or user name; use ${ALLOWED}`);
  }
  if (u.pathname === "" || u.pathname === "/") return bad("has no repository path; use e.g. https://host/owner/name.git");
  return scheme;
}

/** git's own rule: a ":" before the first "/" makes it an ssh address, not a path. */
function isScpLike(url: string): boolean {
  const colon = url.indexOf(":");
  const slash = url.indexOf("/");
  return colon > 0 && (slash < 0 || colon < slash);
}

function checkScp(url: string, bad: (why: string) => never): RepoUrlKind {
  const colon = url.indexOf(":");
  const userHost = url.slice(0, colon);
  const repoPath = url.slice(colon + 1);
  const at = userHost.lastIndexOf("@");
  const user = at >= 0 ? userHost.slice(0, at) : undefined;
  const host = at >= 0 ? userHost.slice(at + 1) : userHost;
  if ((user !== undefined && !SCP_USER_RE.test(user)) || !HOST_RE.test(host)) {
    return bad(`looks like an ssh address (user@host:path) but "${userHost}" is not a valid user@host; use ${ALLOWED}`);
  }
  if (repoPath === "" || repoPath.startsWith("-")) {
    return bad('has an empty repository path or one starting with "-"; use user@host:owner/name.git');
  }
  return "scp";
}

/**
 * The repo's key in every store and file name: `<slug>-<16 hex of sha256>`,
 * so that one mirror and one set of reports serve every spelling of the same
 * url. The hash covers the whole identity: two repos get two keys even where
 * their slugs agree. The slug is for people reading keys, made of lowercase
 * letters, digits, "_" and "-" only (no ".": a KV key's tokens are separated
 * by dots, and "a..b" would make an empty one), so a key is at once a
 * directory name, a KV key token and a subject token. Keys of names without
 * dots are what they always were. Spellings that are unified: scheme and host
 * case, credentials and query, a trailing "/" or ".git", scp-like vs ssh://
 * for the same host and path, local path vs file:// url.
 */
export function repoKey(url: string): string {
  const normalized = normalizeRepoUrl(url);
  const hash = createHash("sha256").update(normalized).digest("hex").slice(0, 16);
  const slug = normalized
    .split("/")
    .filter(Boolean)
    .slice(-2)
    .join("-")
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/^-+/, "")
    .slice(0, 60);
  return `${slug || "repo"}-${hash}`;
}

/** The identity behind repoKey (no credentials, no query). Exported for logs and tests. */
export function normalizeRepoUrl(url: string): string {
  const trimRepoSuffix = (p: string) => p.replace(/\/+$/, "").replace(/\.git$/, "");
  const scheme = SCHEME_RE.exec(url)?.[1]?.toLowerCase();
  if (scheme === "file") {
    try {
      return `file://${path.resolve(decodeURIComponent(new URL(url).pathname)).replace(/\/+$/, "")}`;
    } catch {
      return redactUrl(url);
    }
  }
  if (scheme !== undefined) {
    try {
      const u = new URL(url);
      const port = u.port ? `:${u.port}` : "";
      return `${scheme}://${u.hostname.toLowerCase()}${port}${trimRepoSuffix(u.pathname)}`;
    } catch {
      // Not a url git would take either; never let its credentials into a key.
      return redactUrl(url);
    }
  }
  if (isScpLike(url)) {
    const colon = url.indexOf(":");
    const host = url.slice(0, colon).replace(/^.*@/, "").toLowerCase();
    return `ssh://${host}/${trimRepoSuffix(url.slice(colon + 1).replace(/^\/+/, ""))}`;
  }
  // Local paths: different directories are different repos, so keep ".git".
  return `file://${path.resolve(url).replace(/\/+$/, "")}`;
}
