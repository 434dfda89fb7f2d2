/**
 * Sandbox sessions (issue 25): a sandboxed runner kept alive between runs of
 * the same toolchain and config inputs, so that ESLint and the plugins load
 * once, not once per batch (about 1.5 s each for mocha's toolchain). A session
 * has everything a one-shot run has (sandbox.ts: the same bubblewrap argv,
 * limits and permission model); its /work is a directory of its own where each
 * run's files are written (in /work/w, emptied before and after each run).
 *
 * A session serves one run at a time and only runs of one key, which the caller
 * makes of what the sandboxed code is (the toolchain and the config inputs): code
 * that outlives a run meets only runs of the same code. A run past its time
 * limit, a reply that is not the awaited one, or a session that dies ends the
 * session and fails that run, saying why; the next run starts a new session.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Semaphore } from "../fabric/concurrency.js";
import {
  checkRequest,
  isFileResult,
  isPlannedFile,
  lastLine,
  launchPlan,
  OUT_OF_MEMORY,
  parseResult,
  SandboxUnavailableError,
  type SandboxOptions,
} from "./sandbox.js";
import { INSIDE, sandboxArgv } from "./sandbox-launch.js";
import type { InstalledToolchain, PlanResult, SandboxResult } from "./types.js";
import { writeWorkFiles, type WorkFile } from "./workspace.js";

export interface SandboxPoolOptions extends SandboxOptions {
  /** An idle session is closed after this long, ms. Default 30 s. */
  idleMs?: number;
  /** Idle sessions kept at most (the least recently used are closed). Default 4. */
  maxIdle?: number;
  /** Runs one session serves before it is replaced (its heap starts clean again). Default 100. */
  maxRuns?: number;
  /**
   * Runs at once; the rest wait their turn (their time limit starts with the run). More runs than
   * cores only share the cores and start more sessions. Default os.availableParallelism().
   */
  maxRunning?: number;
}

/** One run: files to materialise (config inputs, the files), placeholders (paths planned, empty), what to ask. */
export interface PoolRun {
  /** What the sandboxed code is: the toolchain and the config inputs (e.g. the settings id). */
  key: string;
  toolchain: InstalledToolchain;
  files: readonly WorkFile[];
  placeholders?: readonly string[];
  paths: readonly string[];
  timeoutMs: number;
  memoryMb: number;
  notRun?: readonly string[];
}

const MiB = 1024 * 1024;

export class SandboxPool {
  private readonly idle = new Map<string, Session[]>();
  private readonly all = new Set<Session>();
  private readonly running: Semaphore;
  private closed = false;

  constructor(private readonly opts: SandboxPoolOptions = {}) {
    this.running = new Semaphore(opts.maxRunning ?? os.availableParallelism());
  }

  /** As runSandboxed: never throws for what the sandboxed code does. */
  async lint(run: PoolRun): Promise<SandboxResult> {
    if (run.paths.length === 0) return { ok: true, files: [] };
    return this.run("lint", run, isFileResult);
  }

  /** As planSandboxed. */
  async plan(run: PoolRun): Promise<PlanResult> {
    if (run.paths.length === 0) return { ok: true, files: [] };
    return this.run("plan", run, isPlannedFile);
  }

  /** Kills every session; runs in flight fail. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.all].map((s) => s.kill()));
    this.idle.clear();
  }

  private async run<F>(mode: "lint" | "plan", run: PoolRun, isFile: (f: unknown) => f is F) {
    await this.running.acquire();
    try {
      return await this.runNow(mode, run, isFile);
    } finally {
      this.running.release();
    }
  }

  private async runNow<F>(mode: "lint" | "plan", run: PoolRun, isFile: (f: unknown) => f is F) {
    const sessionKey = `${run.key}\n${run.toolchain.dir}\n${Math.floor(run.memoryMb)}`;
    const session = this.take(sessionKey) ?? (await this.start(run));
    let reusable = false;
    // Every run of a session in the same directory, emptied between runs: to the code that stays loaded
    // (typescript-eslint remembers the directories its configs were loaded from) it is one checkout whose
    // files change, as when a developer lints twice; its config inputs are the same by the session's key.
    const dir = path.join(session.root, "w");
    try {
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir);
      await writeWorkFiles(dir, run.files, run.placeholders ?? []);
      checkRequest({ toolchain: run.toolchain, workDir: dir, paths: run.paths, timeoutMs: run.timeoutMs, memoryMb: run.memoryMb });
      const request = {
        mode,
        nodeModules: INSIDE.nodeModules,
        cwd: path.posix.join(INSIDE.work, "w"),
        scratch: INSIDE.scratch,
        paths: run.paths,
        format: run.toolchain.spec.format,
        memoryMb: run.memoryMb,
        notRun: run.notRun ?? [],
      };
      const result = await session.ask(request, run.timeoutMs, isFile);
      reusable = session.alive;
      return result;
    } finally {
      await rm(dir, { recursive: true, force: true });
      if (reusable && !this.closed && session.runs < (this.opts.maxRuns ?? 100)) this.park(sessionKey, session);
      else void session.kill();
    }
  }

  private take(key: string): Session | undefined {
    const list = this.idle.get(key) ?? [];
    let s = list.pop();
    while (s && !s.alive) s = list.pop(); // died while idle
    if (list.length === 0) this.idle.delete(key);
    s?.clearIdle();
    return s;
  }

  private park(key: string, s: Session): void {
    const list = this.idle.get(key) ?? [];
    list.push(s);
    this.idle.delete(key); // re-inserted last: the map's order is least recently used first
    this.idle.set(key, list);
    s.idleFor(this.opts.idleMs ?? 30_000, () => this.drop(key, s));
    let idle = 0;
    for (const l of this.idle.values()) idle += l.length;
    for (const [k, l] of this.idle) {
      if (idle <= (this.opts.maxIdle ?? 4)) break;
      for (const victim of l.splice(0)) {
        void victim.kill();
        idle--;
      }
      this.idle.delete(k);
    }
  }

  private drop(key: string, s: Session): void {
    const list = this.idle.get(key) ?? [];
    const at = list.indexOf(s);
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0) this.idle.delete(key);
    void s.kill();
  }

  private async start(run: PoolRun): Promise<Session> {
    const root = await mkdtemp(path.join(os.tmpdir(), "farm-session-"));
    try {
      const plan = await launchPlan({ toolchain: run.toolchain, workDir: root, paths: [], timeoutMs: run.timeoutMs, memoryMb: run.memoryMb }, this.opts);
      const s = new Session(root, sandboxArgv(plan), run.memoryMb, this.opts.maxStdoutBytes ?? 64 * MiB, this.opts.maxStderrBytes ?? 64 * 1024);
      this.all.add(s);
      s.onEnd(() => this.all.delete(s));
      return s;
    } catch (err) {
      await rm(root, { recursive: true, force: true });
      throw err;
    }
  }
}

type Reply<F> = { ok: boolean; eslintVersion?: string; files: F[]; reason?: string };

/** One sandboxed runner process serving runs one at a time over its stdin and stdout. */
class Session {
  runs = 0;
  /** The process has not ended. */
  private running = true;
  /** kill() was called: the process may still be ending, but the session serves no more runs. */
  private doomed = false;
  private readonly child: ChildProcess;
  private readonly ended: Promise<void>;
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private stderr = "";
  private waiter: ((line: string | null, why?: string) => void) | null = null;
  private idleTimer: NodeJS.Timeout | undefined;
  private endCallbacks: (() => void)[] = [];

  constructor(
    readonly root: string,
    argv: string[],
    private readonly memoryMb: number,
    private readonly maxStdout: number,
    private readonly maxStderr: number,
  ) {
    this.child = spawn(argv[0], argv.slice(1), { env: { PATH: "/usr/bin:/bin" }, stdio: ["pipe", "pipe", "pipe"], detached: true });
    this.child.stdout!.on("data", (d: Buffer) => this.onOut(d));
    this.child.stderr!.on("data", (d: Buffer) => {
      if (this.stderr.length < this.maxStderr) this.stderr += d.toString().slice(0, this.maxStderr - this.stderr.length);
      else this.stderr = (this.stderr + d.toString()).slice(-this.maxStderr); // its last lines say why it died
    });
    this.child.stdin!.on("error", () => {}); // it died: its exit says why
    this.ended = new Promise((resolve) => {
      this.child.once("error", (e) => {
        this.finish(`the sandbox did not start: ${e.message}`);
        resolve();
      });
      this.child.once("close", (code, signal) => {
        this.finish(`the sandbox ${signal ? `was killed by ${signal}` : `exited with code ${code}`} without a result`);
        resolve();
      });
    });
  }

  /** It can serve a run. */
  get alive(): boolean {
    return this.running && !this.doomed;
  }

  onEnd(fn: () => void): void {
    this.endCallbacks.push(fn);
  }

  /** Sends one request and waits for its reply line, at most timeoutMs; anything else ends the session. */
  async ask<F>(request: object, timeoutMs: number, isFile: (f: unknown) => f is F): Promise<Reply<F>> {
    if (!this.alive) throw new SandboxUnavailableError("the sandbox session has ended");
    this.runs++;
    const id = randomBytes(12).toString("hex");
    const failed = (reason: string): Reply<F> => ({ ok: false, files: [], reason });
    const line = await new Promise<{ line: string | null; why?: string }>((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        resolve({ line: null, why: `timed out after ${timeoutMs} ms` });
        void this.kill();
      }, timeoutMs);
      this.waiter = (l, why) => {
        clearTimeout(timer);
        this.waiter = null;
        resolve({ line: l, ...(why ? { why } : {}) });
      };
      this.child.stdin!.write(`${JSON.stringify({ ...request, id })}\n`);
    });
    if (line.line === null) {
      const why = line.why ?? "the sandbox ended";
      if (/without a result$/.test(why) && OUT_OF_MEMORY.test(this.stderr)) return failed(`ran out of memory (${this.memoryMb} MiB)`);
      const said = lastLine(this.stderr);
      return failed(said && !/^timed out|stdout bound/.test(why) ? `${why}: ${said}` : why);
    }
    const parsed = parseResult(line.line, isFile) as (Reply<F> & { id?: unknown }) | null;
    const replyId = parsed ? (JSON.parse(line.line) as { id?: unknown }).id : undefined;
    if (!parsed || replyId !== id) {
      void this.kill();
      return failed(`the sandbox's output is not a result (${line.line.length} bytes)`);
    }
    return {
      ok: parsed.ok,
      files: parsed.files,
      ...(parsed.eslintVersion === undefined ? {} : { eslintVersion: parsed.eslintVersion }),
      ...(parsed.reason === undefined ? {} : { reason: parsed.reason }),
    };
  }

  idleFor(ms: number, onIdle: () => void): void {
    this.clearIdle();
    this.idleTimer = setTimeout(onIdle, ms);
    this.idleTimer.unref();
  }

  clearIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  /** Kills the process group (once reaped, its id may be someone else's: never signal it then) and removes the root. */
  async kill(): Promise<void> {
    this.clearIdle();
    this.doomed = true;
    if (this.running) {
      try {
        process.kill(-this.child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await this.ended;
    await rm(this.root, { recursive: true, force: true });
  }

  private onOut(d: Buffer): void {
    this.bufferedBytes += d.length;
    if (this.bufferedBytes > this.maxStdout) {
      this.waiter?.(null, "wrote more than its stdout bound: killed");
      void this.kill();
      return;
    }
    this.buffered.push(d);
    if (!d.includes(10)) return;
    const all = Buffer.concat(this.buffered);
    const nl = all.indexOf(10);
    const line = all.subarray(0, nl).toString();
    const rest = all.subarray(nl + 1);
    this.buffered = rest.length > 0 ? [rest] : [];
    this.bufferedBytes = rest.length;
    if (this.waiter) this.waiter(line);
    else void this.kill(); // a line nobody asked for: the session cannot be trusted to stay in step
    if (rest.includes(10)) void this.kill();
  }

  private finish(why: string): void {
    if (!this.running) return;
    this.running = false;
    this.clearIdle();
    this.waiter?.(null, why);
    for (const fn of this.endCallbacks) fn();
  }
}
