/**
 * Node child processes for tests: farm's CLI and services, fixtures, scripts.
 * One node process per child (`node --import tsx`, no wrapper relaying
 * signals): a signal sent to the child reaches the code under test. Every
 * child is tracked until it exits, so {@link killChildren} can reap what a
 * failed test left running; what it writes is kept, to wait on and to quote
 * in failure messages.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { pathToFileURL } from "node:url";

export const ROOT = path.resolve(import.meta.dirname, "../..");
/** node's arguments that load TypeScript through tsx, from any working directory. */
export const TSX = ["--import", pathToFileURL(path.join(ROOT, "node_modules/tsx/dist/loader.mjs")).href];
/** node's arguments that run the `farm` command line from its sources. */
export const FARM = [...TSX, path.join(ROOT, "cli/farm.ts")];

export interface SpawnOptions {
  /** Default: the project root. */
  cwd?: string;
  /** Added to this process's environment. */
  env?: Record<string, string | number>;
}

export interface Child {
  proc: ChildProcess;
  pid: number;
  /** Resolves with the exit code, or the signal's name, once the process is gone. */
  exited: Promise<number | string>;
  /** Resolves once the process is gone and all it wrote is read. */
  finished: Promise<Run>;
  stdout(): string;
  stderr(): string;
  /** stdout and stderr as they came. */
  output(): string;
  /**
   * Resolves with the first line of `stream` that matches, once the child has
   * written it; fails if the child exits first (or after `timeout` ms), quoting its output.
   */
  line(match: string | RegExp, opts?: { stream?: "stdout" | "stderr"; timeout?: number }): Promise<string>;
  /** Sends `signal` (unless the child is gone) and resolves with {@link exited}. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

const children = new Set<Child>();

/** `node <args>`, tracked until it exits. */
export function spawnNode(args: string[], opts: SpawnOptions = {}): Child {
  const env = Object.fromEntries(Object.entries(opts.env ?? {}).map(([k, v]) => [k, String(v)]));
  const proc = spawn(process.execPath, args, { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const text = { stdout: "", stderr: "", all: "" };
  for (const stream of ["stdout", "stderr"] as const) {
    proc[stream]!.on("data", (d: Buffer) => {
      text[stream] += d.toString();
      text.all += d.toString();
    });
  }
  let gone = false;
  const exited = new Promise<number | string>((resolve) => {
    proc.once("exit", (code, signal) => {
      gone = true;
      resolve(code ?? signal ?? "unknown");
    });
  });
  let closed = false;
  const finished = new Promise<Run>((resolve) => {
    proc.once("close", (code, signal) => {
      closed = true;
      resolve({ code: code ?? signal ?? "unknown", stdout: text.stdout, stderr: text.stderr });
    });
  });
  const child: Child = {
    proc,
    pid: proc.pid!,
    exited,
    finished,
    stdout: () => text.stdout,
    stderr: () => text.stderr,
    output: () => text.all,
    line: (match, { stream = "stdout", timeout = 60_000 } = {}) =>
      new Promise<string>((resolve, reject) => {
        const test = (l: string) => (typeof match === "string" ? l.includes(match) : match.test(l));
        const what = `a line matching ${match} on its ${stream}`;
        let ended = false;
        const look = () => {
          const lines = text[stream].split("\n");
          if (!ended) lines.pop(); // not a whole line yet
          const found = lines.find(test);
          if (found !== undefined) {
            settle();
            resolve(found);
          } else if (ended) {
            settle();
            reject(new Error(`the child exited (${proc.exitCode ?? proc.signalCode}) before writing ${what}; its output:\n${text.all}`));
          }
        };
        const onClose = () => {
          ended = true;
          look();
        };
        const timer = setTimeout(() => {
          settle();
          reject(new Error(`timed out after ${timeout} ms waiting for ${what}; its output:\n${text.all}`));
        }, timeout);
        const settle = () => {
          clearTimeout(timer);
          proc[stream]!.off("data", look);
          proc.off("close", onClose);
        };
        proc[stream]!.on("data", look);
        proc.once("close", onClose);
        ended = closed;
        look();
      }),
    stop: (signal = "SIGTERM") => {
      if (!gone && proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
  children.add(child);
  void exited.then(() => children.delete(child));
  return child;
}

/** `node --import tsx <script> <args>`. */
export function spawnTsx(script: string, args: string[] = [], opts: SpawnOptions = {}): Child {
  return spawnNode([...TSX, script, ...args], opts);
}

/** `farm <args>` from its sources. */
export function spawnFarm(args: string[], opts: SpawnOptions = {}): Child {
  return spawnNode([...FARM, ...args], opts);
}

/** `farm service <name>` against `url`, logging at info, the way a container runs it. */
export function spawnService(name: string, url: string, env: Record<string, string | number> = {}): Child {
  return spawnFarm(["service", name], { env: { NATS_URL: url, FARM_LOG_LEVEL: "info", ...env } });
}

/** `test/fixtures/<fixture>.ts` with `env` added to the environment. */
export function spawnFixture(fixture: string, env: Record<string, string | number>): Child {
  return spawnTsx(path.join(ROOT, "test/fixtures", `${fixture}.ts`), [], { env });
}

export interface Run {
  /** The exit code, or the signal's name. */
  code: number | string;
  stdout: string;
  stderr: string;
}

/** `node --import tsx <script> <args>` to its end: its stdout; rejects on a non-zero exit, with its stderr. */
export async function runTsx(script: string, args: string[] = [], opts: SpawnOptions = {}): Promise<string> {
  const r = await spawnTsx(script, args, opts).finished;
  if (r.code !== 0) throw new Error(`${script} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** SIGKILLs every child still alive and waits for each to be gone. */
export async function killChildren(): Promise<void> {
  await Promise.all([...children].map((c) => c.stop("SIGKILL")));
}
