/**
 * Real git repositories for tests, independent of the host's git config: the
 * environment every test's git runs with, and a builder of repositories with
 * commits. Synchronous (execFileSync), so a test that counts the git processes
 * farm spawns does not count these.
 */
import { execFileSync } from "node:child_process";
import { lstatSync, mkdirSync, rmSync, symlinkSync, writeFileSync, type Stats } from "node:fs";
import path from "node:path";

/**
 * A fixed identity and no global or system config (init.defaultBranch,
 * signing, hooks, credential helpers...); with `home`, HOME too, for the
 * children (farm itself) that read ~/.gitconfig.
 */
export function gitEnv(home?: string): Record<string, string> {
  return {
    GIT_AUTHOR_NAME: "Farm Test",
    GIT_AUTHOR_EMAIL: "test@farm.invalid",
    GIT_COMMITTER_NAME: "Farm Test",
    GIT_COMMITTER_EMAIL: "test@farm.invalid",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_CONFIG_NOSYSTEM: "1",
    ...(home ? { HOME: home } : {}),
  };
}

/** Runs git in `cwd` with {@link gitEnv} (plus `env`); its stdout as bytes. Throws on a non-zero exit. */
function run(cwd: string, args: string[], env: Record<string, string> = {}): Buffer {
  return execFileSync("git", args, { cwd, env: { ...process.env, ...gitEnv(), ...env }, maxBuffer: 256 * 1024 * 1024 });
}

/** `git <args>` in `cwd`: its stdout, trimmed. */
export function git(cwd: string, ...args: string[]): string {
  return run(cwd, args).toString("utf8").trim();
}

/** `git <args>` in `cwd`: its stdout as bytes (blobs, NUL-separated listings). */
export function gitBuffer(cwd: string, ...args: string[]): Buffer {
  return run(cwd, args);
}

/**
 * What a commit writes: a path's new content (string or bytes), or null to
 * delete it (a directory with all it holds). A new file replaces whatever was
 * at its path or in the way of it: a file where a directory goes, a link, a directory.
 */
export type Files = Record<string, string | Buffer | null>;

export interface RepoOptions {
  objectFormat?: "sha1" | "sha256";
  /**
   * Seconds between two commits' dates (from 2023-11-14T22:13:20Z). Default 60;
   * 0 dates every commit the same, so the same commit made again has the same sha.
   */
  step?: number;
}

/** What is at `p` (a link itself, not its target), or undefined. */
function stat(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

/** A non-bare repository on branch main; every commit has a fixed, increasing date, so its shas are reproducible. */
export class TestRepo {
  /** Every commit made through {@link commit}, oldest first. */
  readonly shas: string[] = [];
  private clock = 1_700_000_000;
  private readonly step: number;

  constructor(
    readonly dir: string,
    opts: RepoOptions = {},
  ) {
    this.step = opts.step ?? 60;
    mkdirSync(dir, { recursive: true });
    this.git("init", "--quiet", "-b", "main", `--object-format=${opts.objectFormat ?? "sha1"}`);
  }

  /** Writes the files (null deletes), stages everything and commits (an empty commit too); returns the sha. */
  commit(subject: string, files: Files = {}, renames: [from: string, to: string][] = []): string {
    for (const [from, to] of renames) {
      mkdirSync(path.dirname(path.join(this.dir, to)), { recursive: true });
      this.git("mv", from, to);
    }
    this.write(files);
    this.git("add", "--all");
    this.tick();
    this.git("commit", "--quiet", "--allow-empty", "-m", subject);
    const sha = this.head();
    this.shas.push(sha);
    return sha;
  }

  /** Writes the files into the working tree (see {@link Files}), without staging them. */
  write(files: Files): void {
    for (const [rel, content] of Object.entries(files)) {
      if (content === null) rmSync(path.join(this.dir, rel), { recursive: true, force: true });
      else writeFileSync(this.clear(rel), content);
    }
  }

  /** A symbolic link at `rel` to `target`, in place of what was there. */
  symlink(target: string, rel: string): void {
    symlinkSync(target, this.clear(rel));
  }

  /** Makes way for a new entry at `rel`: its parents directories, nothing at `rel` itself. Returns its path. */
  private clear(rel: string): string {
    const abs = path.join(this.dir, rel);
    const parts = rel.split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = path.join(this.dir, ...parts.slice(0, i));
      if (stat(parent) && !stat(parent)!.isDirectory()) rmSync(parent);
    }
    mkdirSync(path.dirname(abs), { recursive: true });
    rmSync(abs, { recursive: true, force: true });
    return abs;
  }

  head(): string {
    return this.git("rev-parse", "HEAD");
  }

  /** `git <args>` in the repository, dated like its latest commit (a merge made here gets that date). */
  git(...args: string[]): string {
    return this.gitBuffer(...args)
      .toString("utf8")
      .trim();
  }

  gitBuffer(...args: string[]): Buffer {
    const date = `@${this.clock} +0000`;
    return run(this.dir, args, { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date });
  }

  /** Moves the clock on, so that the next git command (a merge, a commit of the index) gets a fresh date. */
  tick(): void {
    this.clock += this.step;
  }

  /** The commit's tree as plain files in a fresh directory (`git archive`, no .git). */
  checkout(sha: string, into: string): string {
    mkdirSync(into, { recursive: true });
    execFileSync("tar", ["-x", "-C", into], { input: this.gitBuffer("archive", "--format=tar", sha), maxBuffer: 256 * 1024 * 1024 });
    return into;
  }
}

/**
 * Every git child of this process (farm's included) trusts `caFile`, a test
 * server's throwaway certificate; returns the undo.
 */
export function trustCertificate(caFile: string): () => void {
  const saved = process.env.GIT_SSL_CAINFO;
  process.env.GIT_SSL_CAINFO = caFile;
  return () => {
    if (saved === undefined) delete process.env.GIT_SSL_CAINFO;
    else process.env.GIT_SSL_CAINFO = saved;
  };
}

/**
 * Clone urls of `https://<host>/` read from `<dir>/<host>/` instead, for the
 * git this process spawns (and its children): `url.<base>.insteadOf` through
 * GIT_CONFIG_COUNT, as an operator's git config would. Returns that
 * directory and a function that puts the environment back.
 */
export function serveHostFromDisk(dir: string, host: string): { hosted: string; restore(): void } {
  const hosted = path.join(dir, host);
  const keys = ["GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_0"] as const;
  const saved = keys.map((k) => process.env[k]);
  Object.assign(process.env, { GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: `url.${hosted}/.insteadOf`, GIT_CONFIG_VALUE_0: `https://${host}/` });
  return {
    hosted,
    restore: () =>
      keys.forEach((k, i) => {
        if (saved[i] === undefined) delete process.env[k];
        else process.env[k] = saved[i];
      }),
  };
}
