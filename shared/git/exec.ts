/**
 * The one way this module runs git: child_process.spawn with an argument
 * array (never a shell), a scrubbed environment, and a timeout that kills
 * git together with its helpers (ssh, git-remote-https).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { scrubSecrets } from "./credentials.js";
import { GitError } from "./errors.js";

export interface RunGitOptions {
  /** Written to stdin, which is then closed. Default: stdin closed at once. */
  input?: string | Buffer;
  /** Kill git after this long. Default 60 s: local commands finish far sooner; network ones pass their own. */
  timeoutMs?: number;
  /** More environment for git (credentials: see gitCredentials). Default none. */
  env?: Record<string, string>;
  /** Strings that must not appear in a GitError (a clone url's credentials). Default none. */
  secrets?: readonly string[];
}

export interface RunGitResult {
  stdout: Buffer;
  stderr: string;
}

export const DEFAULT_LOCAL_TIMEOUT_MS = 60_000;
const STDERR_TAIL = 8 * 1024;

// Variables that would point git at another repository or object store than
// the one we name explicitly (they leak in when farm runs inside a git hook).
const REPO_LOCATION_VARS = [
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_COMMON_DIR",
  "GIT_NAMESPACE",
  "GIT_CEILING_DIRECTORIES",
  "GIT_DISCOVERY_ACROSS_FILESYSTEM",
];

/** The environment every git child gets: never prompts, never uses a repo we did not name. */
export function gitEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const name of REPO_LOCATION_VARS) delete env[name];
  // No terminal prompts: a service must fail on missing credentials, not hang.
  env.GIT_TERMINAL_PROMPT = "0";
  // Set to empty rather than deleted: an unset GIT_ASKPASS falls back to
  // core.askPass and SSH_ASKPASS, an empty one stops the lookup.
  env.GIT_ASKPASS = "";
  delete env.SSH_ASKPASS;
  // ssh must not ask for passwords or host-key confirmation either.
  if (!env.GIT_SSH_COMMAND && !env.GIT_SSH) env.GIT_SSH_COMMAND = "ssh -o BatchMode=yes";
  // Keep git's messages parseable regardless of the host's locale.
  env.LC_ALL = "C";
  return env;
}

/**
 * `-c` settings for commands that talk to a remote: only https and ssh (and
 * file with allowLocal). Everything else, notably ext:: (runs a shell command)
 * and unencrypted http/git, is refused by git itself as a second line of
 * defense behind validateRepoUrl. Redirects are covered too: git applies the
 * same allow-list to curl's redirect protocols.
 */
export function remoteConfigArgs(allowLocal: boolean): string[] {
  const settings = [
    "protocol.allow=never",
    "protocol.https.allow=always",
    "protocol.ssh.allow=always",
    "protocol.ext.allow=never",
    `protocol.file.allow=${allowLocal ? "always" : "never"}`,
  ];
  return settings.flatMap((kv) => ["-c", kv]);
}

/**
 * Starts git. `detached` puts it in its own process group (so a timeout can
 * kill its ssh/remote helpers too) and without a controlling terminal (so
 * nothing can prompt on it).
 */
export function spawnGit(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn("git", args, { env: { ...gitEnv(), ...env }, stdio: ["pipe", "pipe", "pipe"], detached: true });
}

/** Kills git and everything it started. */
export function killGit(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // No process group (already reaped, or not its leader): kill the child alone.
    child.kill("SIGKILL");
  }
}

/** Runs git to completion and returns its output; a non-zero exit or a timeout is a GitError. */
export function runGit(args: string[], opts: RunGitOptions = {}): Promise<RunGitResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_LOCAL_TIMEOUT_MS;
  const secrets = opts.secrets ?? [];
  const scrub = (s: string) => scrubSecrets(s, secrets);
  return new Promise((resolve, reject) => {
    const child = spawnGit(args, opts.env);
    const out: Buffer[] = [];
    let err = "";
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGit(child);
    }, timeoutMs);
    child.stdout!.on("data", (c: Buffer) => out.push(c));
    child.stderr!.on("data", (c: Buffer) => {
      err = (err + c.toString("utf8")).slice(-STDERR_TAIL);
    });
    // EPIPE when git exits before reading all input is reported by the exit code instead.
    child.stdin!.on("error", () => {});
    child.stdin!.end(opts.input);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new GitError(`could not start git: ${scrub(e.message)}`, { args: args.map(scrub) }, { cause: e }));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve({ stdout: Buffer.concat(out), stderr: err });
      const what = timedOut ? `timed out after ${timeoutMs} ms` : code === null ? `was killed (${signal})` : `failed (exit ${code})`;
      const stderr = scrub(err);
      reject(new GitError(`git ${gitSubcommand(args)} ${what}: ${lastLines(stderr)}`, { args: args.map(scrub), exitCode: code, stderr }));
    });
  });
}

/** The subcommand, for messages: the first argument that is not a global option. */
export function gitSubcommand(args: string[]): string {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "-c" || args[i] === "-C") i++;
    else if (!args[i].startsWith("-")) return args[i];
  }
  return "";
}

function lastLines(stderr: string): string {
  const text = stderr.trim().split("\n").slice(-3).join(" | ");
  return text || "(no output)";
}
