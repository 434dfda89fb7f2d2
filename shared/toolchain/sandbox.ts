/**
 * Runs a commit's own ESLint over its materialised files in a sandbox (issue 25).
 * The code of a repository's config and plugins is hostile until proven
 * otherwise: it runs under bubblewrap (no network, its own pid/ipc/uts/user
 * namespaces, a filesystem of read-only binds and a small scratch tmpfs, none
 * of this process's environment) and, inside, under Node's permission model (no
 * reads outside the toolchain and the files, writes only to the scratch, no
 * child processes; worker threads share all of it), with a heap and an address-space limit and a
 * wall-clock limit that kills the whole process group.
 */
import { execFile, spawn } from "node:child_process";
import { accessSync, constants, lstatSync, readlinkSync, realpathSync, statSync } from "node:fs";
import path from "node:path";
import { FarmError, PermanentError } from "../fabric/errors.js";
import { PipelineErrorCodes } from "../pipeline/errors.js";
import { INSIDE, sandboxArgv, type LaunchPlan } from "./sandbox-launch.js";
import type { PlannedFile, PlanRequest, PlanResult, SandboxFileResult, SandboxRequest, SandboxResult } from "./types.js";

export interface SandboxOptions {
  /** bubblewrap's binary. Default "/usr/bin/bwrap"; without it, runSandboxed throws {@link SandboxUnavailableError}. */
  bwrap?: string;
  /** prlimit's binary (util-linux), which sets the address-space, file-size and open-files limits. Default "/usr/bin/prlimit". */
  prlimit?: string;
  /** The node that runs inside. Default: this process's (`process.execPath`); its install dir is bound read-only. */
  node?: string;
  /** Size of the sandbox's only writable place, a tmpfs at /tmp, MiB. Default 64. */
  scratchMb?: number;
  /** Bytes of stdout kept before the run is killed as a flood. Default 64 MiB (the JSON result of a large commit). */
  maxStdoutBytes?: number;
  /** Bytes of stderr kept (the rest is dropped; only its last line is ever reported). Default 64 KiB. */
  maxStderrBytes?: number;
}

/** This machine cannot sandbox (no bubblewrap or prlimit, not Linux): the toolchain is not run at all. */
export class SandboxUnavailableError extends FarmError {
  constructor(message: string) {
    super(message, PipelineErrorCodes.SandboxUnavailable);
  }
}

/** The request itself is unusable (a path that leaves the work dir, no toolchain): no attempt would do better. */
export class SandboxRefusedError extends PermanentError {
  constructor(message: string) {
    super(message, PipelineErrorCodes.SandboxRefused);
  }
}

const RUNNER = path.join(import.meta.dirname, "sandbox-runner.mjs");
const MiB = 1024 * 1024;
/** What V8 and node print when the heap limit or the address-space limit kills them. */
export const OUT_OF_MEMORY = /JavaScript heap out of memory|Reached heap limit|Fatal process out of memory|Allocation failed/i;

/** Lints `req.paths` of `req.workDir` with the toolchain's own ESLint, sandboxed. Never throws for what the sandboxed code does. */
export async function runSandboxed(req: SandboxRequest, opts: SandboxOptions = {}): Promise<SandboxResult> {
  checkRequest(req);
  if (req.paths.length === 0) return { ok: true, files: [] };
  return outcome(await runMode("lint", req, opts), req, isFileResult);
}

/**
 * Which of `req.paths` the toolchain's ESLint lints as `eslint .` would, each with its effective
 * config's hash and the rules that are not run: the config is loaded in the sandbox, nothing is linted.
 */
export async function planSandboxed(req: PlanRequest, opts: SandboxOptions = {}): Promise<PlanResult> {
  checkRequest(req);
  if (req.paths.length === 0) return { ok: true, files: [] };
  return outcome(await runMode("plan", req, opts), req, isPlannedFile);
}

async function runMode(mode: "lint" | "plan", req: SandboxRequest | PlanRequest, opts: SandboxOptions): Promise<Run> {
  const plan = await launchPlan(req, opts);
  const request = JSON.stringify({
    mode,
    nodeModules: INSIDE.nodeModules,
    cwd: INSIDE.work,
    scratch: INSIDE.scratch,
    paths: req.paths,
    format: req.toolchain.spec.format,
    memoryMb: req.memoryMb,
    notRun: "notRun" in req ? (req.notRun ?? []) : [],
  });
  return runBounded(sandboxArgv(plan), request, req.timeoutMs, opts.maxStdoutBytes ?? 64 * MiB, opts.maxStderrBytes ?? 64 * 1024);
}

export function checkRequest(req: SandboxRequest | PlanRequest): void {
  if (!path.isAbsolute(req.workDir) || !isDir(req.workDir)) throw new SandboxRefusedError(`work dir ${req.workDir} is not a directory`);
  if (!isDir(path.join(req.toolchain.dir, "node_modules"))) throw new SandboxRefusedError(`toolchain ${req.toolchain.dir} has no node_modules`);
  for (const p of req.paths) {
    const clean = path.posix.normalize(p);
    if (p === "" || p.includes("\0") || path.posix.isAbsolute(p) || clean === ".." || clean.startsWith("../")) {
      throw new SandboxRefusedError(`path ${JSON.stringify(p)} is not inside the work dir`);
    }
  }
  if (!(req.timeoutMs > 0)) throw new SandboxRefusedError(`timeoutMs must be positive, got ${req.timeoutMs}`);
  if (!(req.memoryMb >= 32)) throw new SandboxRefusedError(`memoryMb must be at least 32, got ${req.memoryMb}`);
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export async function launchPlan(req: SandboxRequest | PlanRequest, opts: SandboxOptions): Promise<LaunchPlan> {
  const bwrap = opts.bwrap ?? "/usr/bin/bwrap";
  const prlimit = opts.prlimit ?? "/usr/bin/prlimit";
  if (process.platform !== "linux")
    throw new SandboxUnavailableError(`no sandbox on ${process.platform}: a repository's own toolchain runs only under bubblewrap on Linux`);
  for (const [what, bin] of [
    ["bubblewrap", bwrap],
    ["prlimit", prlimit],
  ]) {
    try {
      accessSync(bin, constants.X_OK);
    } catch {
      throw new SandboxUnavailableError(`${what} is not installed at ${bin}: a repository's own toolchain is never run unsandboxed`);
    }
  }
  const node = realpathSync(opts.node ?? process.execPath);
  const installDir = path.dirname(path.dirname(node));
  return {
    prlimit,
    bwrap,
    node,
    nodeDirs: node.startsWith("/usr/") ? [] : [installDir === "/" ? path.dirname(node) : installDir],
    rootLinks: Object.fromEntries(["/lib", "/lib64", "/bin"].map((d) => [d, rootLink(d)])),
    permissionFlag: await permissionFlag(node),
    toolchainNodeModules: realpathSync(path.join(req.toolchain.dir, "node_modules")),
    workDir: realpathSync(req.workDir),
    runner: RUNNER,
    memoryMb: Math.floor(req.memoryMb),
    scratchMb: opts.scratchMb ?? 64,
  };
}

function rootLink(dir: string): LaunchPlan["rootLinks"][string] {
  try {
    const st = lstatSync(dir);
    return st.isSymbolicLink() ? { symlinkTo: readlinkSync(dir) } : "dir";
  } catch {
    return "absent";
  }
}

const permissionFlags = new Map<string, Promise<string>>();

/** Node 20 spells it `--experimental-permission`, later Nodes `--permission`: ask the node that will run. */
function permissionFlag(node: string): Promise<string> {
  const pick = (hasNew: boolean) => (hasNew ? "--permission" : "--experimental-permission");
  if (node === realpathSync(process.execPath)) return Promise.resolve(pick(process.allowedNodeEnvironmentFlags.has("--permission")));
  let flag = permissionFlags.get(node);
  if (!flag) {
    flag = new Promise((resolve, reject) => {
      execFile(node, ["-p", 'process.allowedNodeEnvironmentFlags.has("--permission")'], { env: {} }, (err, stdout) =>
        err ? reject(new SandboxUnavailableError(`node at ${node} does not run: ${err.message}`)) : resolve(pick(stdout.trim() === "true")),
      );
    });
    permissionFlags.set(node, flag);
  }
  return flag;
}

interface Run {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  flooded: boolean;
}

/** Runs argv in its own process group with nothing of this process's environment; kills the group at the deadline or on a stdout flood. */
function runBounded(argv: string[], input: string, timeoutMs: number, maxStdout: number, maxStderr: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { env: { PATH: "/usr/bin:/bin" }, stdio: ["pipe", "pipe", "pipe"], detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let timedOut = false;
    let flooded = false;
    let exited = false;
    child.once("exit", () => (exited = true));
    // Once reaped, its pid (and group id) may belong to someone else: never signal it then.
    const killGroup = () => {
      if (exited) return;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    child.stdout.on("data", (d: Buffer) => {
      outBytes += d.length;
      if (outBytes > maxStdout) {
        flooded = true;
        killGroup();
      } else out.push(d);
    });
    child.stderr.on("data", (d: Buffer) => {
      if (errBytes < maxStderr) err.push(d.subarray(0, maxStderr - errBytes));
      errBytes += d.length;
    });
    child.stdin.on("error", () => {}); // the sandbox died before reading its request: its exit says why
    child.stdin.end(input);
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(new SandboxUnavailableError(`the sandbox did not start: ${e.message}`));
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), timedOut, flooded });
    });
  });
}

function outcome<F>(
  run: Run,
  req: { timeoutMs: number; memoryMb: number },
  isFile: (f: unknown) => f is F,
): { ok: boolean; eslintVersion?: string; files: F[]; reason?: string } {
  const failed = (reason: string) => ({ ok: false, files: [] as F[], reason });
  if (run.timedOut) return failed(`timed out after ${req.timeoutMs} ms`);
  if (run.flooded) return failed("wrote more than its stdout bound: killed");
  const parsed = parseResult(run.stdout, isFile);
  if (parsed) return parsed;
  if (OUT_OF_MEMORY.test(run.stderr)) return failed(`ran out of memory (${req.memoryMb} MiB)`);
  const exit = run.signal ? `was killed by ${run.signal}` : `exited with code ${run.code}`;
  const said = lastLine(run.stderr);
  if (run.stdout.trim() === "") return failed(`the sandbox ${exit} without a result${said ? `: ${said}` : ""}`);
  return failed(`the sandbox ${exit} and its output is not a result (${run.stdout.length} bytes)${said ? `: ${said}` : ""}`);
}

/** The runner's JSON document, checked for shape: a partial or foreign stdout is not a result. */
export function parseResult<F>(stdout: string, isFile: (f: unknown) => f is F): { ok: boolean; eslintVersion?: string; files: F[]; reason?: string } | null {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    return null;
  }
  if (typeof doc !== "object" || doc === null) return null;
  const r = doc as { ok?: unknown; files?: unknown; eslintVersion?: unknown; reason?: unknown };
  if (typeof r.ok !== "boolean" || !Array.isArray(r.files) || !r.files.every(isFile)) return null;
  return {
    ok: r.ok,
    files: r.files,
    ...(typeof r.eslintVersion === "string" ? { eslintVersion: r.eslintVersion } : {}),
    ...(typeof r.reason === "string" ? { reason: r.reason } : {}),
  };
}

export function isFileResult(f: unknown): f is SandboxFileResult {
  const r = f as SandboxFileResult;
  return typeof r === "object" && r !== null && typeof r.path === "string" && Array.isArray(r.messages);
}

export function isPlannedFile(f: unknown): f is PlannedFile {
  const r = f as PlannedFile;
  return (
    typeof r === "object" &&
    r !== null &&
    typeof r.path === "string" &&
    typeof r.configHash === "string" &&
    Array.isArray(r.notRun) &&
    r.notRun.every((x) => typeof x === "string")
  );
}

export function lastLine(text: string): string {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !/ExperimentalWarning|--trace-warnings/.test(l));
  return (lines.at(-1) ?? "").slice(0, 300);
}
