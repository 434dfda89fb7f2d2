/** Real git repositories for the git-layer tests, independent of the host's git config. */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

// Fixed identity, no global/system config (init.defaultBranch, signing, hooks...).
const baseEnv: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: "Farm Test",
  GIT_AUTHOR_EMAIL: "test@farm.invalid",
  GIT_COMMITTER_NAME: "Farm Test",
  GIT_COMMITTER_EMAIL: "test@farm.invalid",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_CONFIG_NOSYSTEM: "1",
};

// Deterministic, increasing dates: one minute per commit from 2023-11-14T22:13:20Z.
let clock = 1_700_000_000;

export function git(cwd: string, ...args: string[]): string {
  return gitBuffer(cwd, ...args).toString("utf8").trim();
}

export function gitBuffer(cwd: string, ...args: string[]): Buffer {
  const date = `@${clock} +0000`;
  return execFileSync("git", args, {
    cwd,
    env: { ...baseEnv, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date },
    maxBuffer: 64 * 1024 * 1024,
  });
}

export function tempDir(prefix = "farm-git-"): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A non-bare repository to commit in; mirrors clone it as their origin. */
export class TestRepo {
  private constructor(readonly dir: string) {}

  static init(dir: string, opts: { objectFormat?: "sha1" | "sha256" } = {}): TestRepo {
    mkdirSync(dir, { recursive: true });
    git(dir, "init", "--quiet", "-b", "main", `--object-format=${opts.objectFormat ?? "sha1"}`);
    return new TestRepo(dir);
  }

  /** Writes files (string or bytes; null deletes), commits everything, returns the commit id. */
  commit(subject: string, files: Record<string, string | Buffer | null> = {}): string {
    for (const [rel, content] of Object.entries(files)) {
      const abs = path.join(this.dir, rel);
      if (content === null) {
        rmSync(abs, { force: true });
        continue;
      }
      mkdirSync(path.dirname(abs), { recursive: true });
      writeFileSync(abs, content);
    }
    this.git("add", "--all");
    clock += 60;
    this.git("commit", "--quiet", "--allow-empty", "-m", subject);
    return this.head();
  }

  symlink(target: string, rel: string): void {
    symlinkSync(target, path.join(this.dir, rel));
  }

  head(): string {
    return this.git("rev-parse", "HEAD");
  }

  git(...args: string[]): string {
    return git(this.dir, ...args);
  }

  /** Advances the clock so the next git command (e.g. a merge) gets a fresh date. */
  tick(): void {
    clock += 60;
  }
}

/** Runs `node --import tsx <script> args...` and resolves with its stdout; rejects on a non-zero exit. */
export async function runTsx(script: string, args: string[]): Promise<string> {
  const { spawn } = await import("node:child_process");
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`${script} exited ${code}: ${err}`))));
  });
}
