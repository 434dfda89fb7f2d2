/**
 * One bare mirror per repository under `<dataDir>/mirrors/<key>.git`: cloned
 * once, fetched only when a requested commit is missing, and never cloned or
 * fetched by two callers at once on one host. A clone url's credentials are
 * used for the clone or fetch at hand and stored nowhere: the mirror's remote
 * is the url without them (see credentials.ts).
 */
import { randomBytes } from "node:crypto";
import { readdir, rename, rm, mkdir, stat } from "node:fs/promises";
import path from "node:path";
import { KeyedMutex } from "../fabric/concurrency.js";
import { inSpan } from "../fabric/tracing.js";
import { gitCredentials, repoIdentity, type GitCredentials } from "./credentials.js";
import { GitError, InvalidInputError, UnknownShaError } from "./errors.js";
import { remoteConfigArgs, runGit } from "./exec.js";
import { withDirLock } from "./lock.js";
import { hasCommit } from "./objects.js";
import { repoKey, validateRepoUrl, validateSha } from "./validate.js";

export interface MirrorsOptions {
  /** Root for farm's data (FARM_DATA_DIR); mirrors live in `<dataDir>/mirrors`. */
  dataDir: string;
  /** Accept file:// urls and local paths. Default false (see RepoRefOptions.allowLocal). */
  allowLocal?: boolean;
  /** Kill a clone or fetch after this long. Default 10 min. */
  networkTimeoutMs?: number;
  /** How long to wait for another process working on the same repo. Default 3 × networkTimeoutMs. */
  lockTimeoutMs?: number;
  /**
   * Age after which a lock counts as abandoned even if its pid lives (pid
   * reuse). Default 3 × networkTimeoutMs: a holder runs at most two network
   * commands, each killed after networkTimeoutMs.
   */
  lockStaleMs?: number;
  /**
   * When fetching refs does not bring the commit, ask for it by id (works for
   * commits of deleted branches and pull requests on servers that allow it,
   * GitHub included). Default true.
   */
  fetchById?: boolean;
}

export interface MirrorStats {
  /** Clones started by this instance. */
  clones: number;
  /** Fetches started by this instance (ref fetches and fetches by id). */
  fetches: number;
}

export const DEFAULT_NETWORK_TIMEOUT_MS = 10 * 60_000;

// What a server says when it does not have (or will not serve) a requested id.
const NOT_SERVED_RE = /not our ref|unadvertised object|couldn't find remote ref|no such remote ref|did not send all necessary objects/i;

export class Mirrors {
  /** `<dataDir>/mirrors`. */
  readonly root: string;
  private readonly allowLocal: boolean;
  private readonly networkTimeoutMs: number;
  private readonly lockTimeoutMs: number;
  private readonly lockStaleMs: number;
  private readonly fetchById: boolean;
  private readonly mutex = new KeyedMutex();
  private readonly counts: MirrorStats = { clones: 0, fetches: 0 };

  constructor(opts: MirrorsOptions) {
    this.root = path.join(path.resolve(opts.dataDir), "mirrors");
    this.allowLocal = opts.allowLocal ?? false;
    this.networkTimeoutMs = opts.networkTimeoutMs ?? DEFAULT_NETWORK_TIMEOUT_MS;
    this.lockTimeoutMs = opts.lockTimeoutMs ?? 3 * this.networkTimeoutMs;
    this.lockStaleMs = opts.lockStaleMs ?? 3 * this.networkTimeoutMs;
    this.fetchById = opts.fetchById ?? true;
  }

  /** Where the mirror of `url` lives (whether or not it exists yet). */
  pathFor(url: string): string {
    return path.join(this.root, `${repoKey(url)}.git`);
  }

  stats(): MirrorStats {
    return { ...this.counts };
  }

  /**
   * Makes sure the mirror of `url` has commit `sha` and returns the mirror's path.
   * `url` may carry credentials: they reach git through its environment only.
   * @throws InvalidInputError bad url or sha (permanent)
   * @throws UnknownShaError the repo does not have the commit (permanent)
   * @throws GitError clone/fetch failed or timed out, lock wait timed out (transient)
   */
  async ensure(url: string, sha: string): Promise<string> {
    validateRepoUrl(url, { allowLocal: this.allowLocal });
    const id = validateSha(sha);
    const remote = credentialsOf(url);
    const key = repoKey(url);
    const dir = path.join(this.root, `${key}.git`);
    // Fast path without locks: reading objects while another process fetches
    // is safe in git, and a mirror only appears once complete (see clone).
    if ((await exists(dir)) && (await hasCommit(dir, id).catch(() => false))) return dir;
    // The mutex makes this process's callers wait in memory instead of polling
    // the file lock; the file lock covers other processes on the host.
    const lockDir = path.join(this.root, `${key}.lock`);
    const lockOpts = { timeoutMs: this.lockTimeoutMs, staleMs: this.lockStaleMs };
    return this.mutex.run(key, () => withDirLock(lockDir, lockOpts, () => this.update(remote, dir, id)));
  }

  /** Runs under both locks. Re-checks first: the previous holder may have fetched our commit. */
  private async update(remote: GitCredentials, dir: string, sha: string): Promise<string> {
    if ((await exists(dir)) && !(await isRepository(dir))) {
      // Damaged outside farm (disk trouble, manual edits): start over rather than fail forever.
      await rm(dir, { recursive: true, force: true });
    }
    if (!(await exists(dir))) await inSpan("git clone", () => this.clone(remote, dir));
    else if (await hasCommit(dir, sha)) return dir;
    else {
      await forgetStoredCredentials(dir);
      await inSpan("git fetch", () => this.fetchRefs(remote, dir));
    }
    if (await hasCommit(dir, sha)) return dir;
    if (this.fetchById && (await inSpan("git fetch", () => this.fetchOne(remote, dir, sha))) && (await hasCommit(dir, sha))) return dir;
    throw new UnknownShaError(remote.url, sha);
  }

  /** runGit options of a network command: its timeout, the credentials' environment, their secrets scrubbed from errors. */
  private network(remote: GitCredentials) {
    return { timeoutMs: this.networkTimeoutMs, env: remote.env, secrets: remote.secrets };
  }

  /**
   * `--mirror`, not `--bare`: a mirror copies every ref and records the
   * refspec +refs/*:refs/*, which our fetches use too, so clone and fetch
   * agree on what the mirror holds (a --bare clone records no fetch refspec:
   * a later plain `git fetch` would update nothing but FETCH_HEAD).
   * Cloned into a temporary directory and renamed into place, so a crash or
   * timeout never leaves a half mirror that looks complete.
   */
  private async clone(remote: GitCredentials, dir: string): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await this.removeLeftovers(dir);
    const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
    this.counts.clones++;
    try {
      // A local path (allowed only with allowLocal; protocol.file.allow still
      // gates it) is cloned by hard-linking its object files, or copying them
      // across file systems: no pack to build and index again, 0.01 s where
      // upload-pack took 2–4 s for mocha's history. Only objects and refs are
      // copied, never the source's config or hooks. The url without
      // credentials is what clone records as remote.origin.url.
      await runGit([...remoteConfigArgs(this.allowLocal), "clone", "--mirror", "--quiet", "--", remote.url, tmp], this.network(remote));
      await rename(tmp, dir);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
  }

  /**
   * Fetches all refs with the credentials of this request (not any stored at
   * clone time, so rotated credentials work). --prune drops deleted refs, which
   * would otherwise block new refs of the same name as directories (a/b vs a).
   */
  private async fetchRefs(remote: GitCredentials, dir: string): Promise<void> {
    this.counts.fetches++;
    await runGit(
      [...remoteConfigArgs(this.allowLocal), `--git-dir=${dir}`, "fetch", "--prune", "--quiet", "--no-write-fetch-head", "--", remote.url, "+refs/*:refs/*"],
      this.network(remote),
    );
  }

  /** Fetches one commit by id. False when the server does not have or will not serve it. */
  private async fetchOne(remote: GitCredentials, dir: string, sha: string): Promise<boolean> {
    this.counts.fetches++;
    try {
      await runGit(
        [...remoteConfigArgs(this.allowLocal), `--git-dir=${dir}`, "fetch", "--quiet", "--no-write-fetch-head", "--", remote.url, sha],
        this.network(remote),
      );
      return true;
    } catch (e) {
      if (e instanceof GitError && NOT_SERVED_RE.test(e.stderr)) return false;
      throw e;
    }
  }

  /** Temporary clones of a crashed process; safe to delete because we hold the repo's lock. */
  private async removeLeftovers(dir: string): Promise<void> {
    const prefix = `${path.basename(dir)}.tmp-`;
    for (const name of await readdir(this.root)) {
      if (name.startsWith(prefix)) await rm(path.join(this.root, name), { recursive: true, force: true });
    }
  }
}

/** The clone url's credentials for git; a url git itself would refuse (a newline in them) is bad input. */
function credentialsOf(url: string): GitCredentials {
  try {
    return gitCredentials(url);
  } catch (e) {
    throw new InvalidInputError("repo", `"repo" has credentials git cannot use: ${(e as Error).message}`);
  }
}

/** Mirrors cloned before credentials were kept out of them recorded the clone url: store the identity instead. */
async function forgetStoredCredentials(dir: string): Promise<void> {
  const stored = await runGit([`--git-dir=${dir}`, "config", "--get", "remote.origin.url"]).then(
    (r) => r.stdout.toString("utf8").trim(),
    () => "",
  );
  const clean = repoIdentity(stored);
  if (stored && clean !== stored) await runGit([`--git-dir=${dir}`, "config", "remote.origin.url", clean]);
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

async function isRepository(dir: string): Promise<boolean> {
  return runGit([`--git-dir=${dir}`, "rev-parse", "--git-dir"]).then(
    () => true,
    () => false,
  );
}
