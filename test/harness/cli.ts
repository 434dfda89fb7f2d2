/**
 * The real `farm` command line as a child process, and small git repositories
 * to point it at. One node process per command (no tsx wrapper relaying
 * signals): a signal sent to the child reaches farm itself.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

export const ROOT = path.resolve(import.meta.dirname, "../..");
export const FARM = ["--import", pathToFileURL(path.join(ROOT, "node_modules/tsx/dist/loader.mjs")).href, path.join(ROOT, "cli/farm.ts")];

/** Fixed identities and dates: the same commits make the same shas. */
export function gitEnv(home: string): Record<string, string> {
  return {
    GIT_AUTHOR_NAME: "Farm Test",
    GIT_AUTHOR_EMAIL: "farm@example.com",
    GIT_COMMITTER_NAME: "Farm Test",
    GIT_COMMITTER_EMAIL: "farm@example.com",
    GIT_AUTHOR_DATE: "2026-01-01T00:00:00Z",
    GIT_COMMITTER_DATE: "2026-01-01T00:00:00Z",
    GIT_CONFIG_NOSYSTEM: "1",
    HOME: home,
  };
}

export function git(repo: string, ...args: string[]): string {
  const r = spawnSync("git", ["-C", repo, ...args], { env: { ...process.env, ...gitEnv(repo) }, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
}

/** Writes (or, for null, deletes) the files and commits them; returns the new sha. */
export function commit(repo: string, files: Record<string, string | null>, message: string): string {
  for (const [file, content] of Object.entries(files)) {
    const full = path.join(repo, file);
    if (content === null) rmSync(full);
    else {
      mkdirSync(path.dirname(full), { recursive: true });
      writeFileSync(full, content);
    }
  }
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", message);
  return git(repo, "rev-parse", "HEAD");
}

export function initRepo(dir: string): string {
  mkdirSync(dir, { recursive: true });
  git(dir, "init", "-q", "-b", "main");
  return dir;
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts and reaps farm children; kill() ends what a failed test left running. */
export class FarmCli {
  readonly children: ChildProcessWithoutNullStreams[] = [];

  /** `env` is added to the test's environment, with NATS_URL cleared unless given. */
  constructor(private readonly base: { cwd: string; env: Record<string, string> }) {}

  spawn(args: string[], env: Record<string, string> = {}): ChildProcessWithoutNullStreams {
    const child = spawn(process.execPath, [...FARM, ...args], { cwd: this.base.cwd, env: { ...process.env, NATS_URL: "", ...this.base.env, ...env } });
    this.children.push(child);
    return child;
  }

  run(args: string[], env: Record<string, string> = {}): Promise<Run> {
    const child = this.spawn(args, env);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
  }

  kill(): void {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  }
}
