/**
 * Starting lint threads, and threads started ahead of their pool (spares):
 * a command about to start the embedded default starts one at once, so that
 * loading ESLint overlaps its own start-up; the first pool with the same
 * settings takes it.
 */
import { setFlagsFromString } from "node:v8";
import { Worker } from "node:worker_threads";
import type { ResourceLimits } from "node:worker_threads";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import type { FromThread, ThreadInit } from "./protocol.js";

/** A thread started ahead, and whether it has said it is ready. */
export interface Spare {
  worker: Worker;
  ready: boolean;
}

/** A spare not yet taken: its settings, and how to stop listening to it. */
interface Waiting extends Spare {
  key: string;
  detach(): void;
}

const spares: Waiting[] = [];

const keyOf = (init: ThreadInit, resourceLimits: ResourceLimits | undefined) => JSON.stringify([init, resourceLimits ?? null]);

/** What each thread of a pool is started with (LintPoolOptions has them all). */
export interface ThreadOptions {
  /** Warm ESLint instances per thread. Default 32. */
  maxCachedConfigs?: number;
  /** V8 limits per thread; a file that exhausts them gets a fatal message. Default: Node's. */
  resourceLimits?: ResourceLimits;
  /**
   * TESTS ONLY: module (URL or absolute file URL string) whose default export is
   * ESLint flat-config blocks added to every config in every thread. Chosen by
   * the code that creates the pool; nothing in a repo can set it.
   */
  testOnlyEslintConfigModule?: string | URL;
}

/** What a pool's threads are started with. */
export function threadInit(options: ThreadOptions): ThreadInit {
  const hook = options.testOnlyEslintConfigModule;
  return { maxCachedConfigs: options.maxCachedConfigs, testOnlyEslintConfigModule: hook === undefined ? undefined : String(hook) };
}

/**
 * Starts one lint thread now, for the first LintPool created later in this
 * process with the same options: loading ESLint then overlaps what the
 * process does before (the embedded default's start-up). It does not keep
 * the process alive; one not taken ends with it. A light module: the caller
 * need not load ESLint itself first.
 */
export function prewarmLintThread(options: ThreadOptions = {}): void {
  const init = threadInit(options);
  const { resourceLimits } = options;
  const key = keyOf(init, resourceLimits);
  if (spares.some((s) => s.key === key)) return;
  const worker = createThread(init, resourceLimits);
  const onMessage = (m: FromThread) => void (m.type === "ready" && (spare.ready = true));
  const onEnd = () => {
    spare.detach();
    spares.splice(spares.indexOf(spare), 1);
  };
  const spare: Waiting = {
    key,
    worker,
    ready: false,
    detach: () => void worker.off("message", onMessage).off("error", onEnd).off("exit", onEnd),
  };
  worker.on("message", onMessage).on("error", onEnd).on("exit", onEnd);
  // After the listeners: adding a message listener refs the thread's port again.
  worker.unref();
  spares.push(spare);
}

/** Spares started and not yet taken. */
export function sparesWaiting(): number {
  return spares.length;
}

/** A spare started with these settings (it is then the caller's, keeping the process alive), or undefined. */
export function takeSpare(init: ThreadInit, resourceLimits: ResourceLimits | undefined): Spare | undefined {
  const i = spares.findIndex((s) => s.key === keyOf(init, resourceLimits));
  if (i < 0) return undefined;
  const [spare] = spares.splice(i, 1);
  spare.detach();
  spare.worker.ref();
  return { worker: spare.worker, ready: spare.ready };
}

/**
 * A thread running thread.ts/thread.js next to this module. From compiled
 * output (dist/) that is thread.js; from TypeScript source (vitest, `node
 * --import tsx`) it is thread.ts, loaded through tsx's loader registered
 * inside the thread (a worker's execArgv `--import tsx` does not apply to its
 * entry file on Node 20).
 */
export function createThread(init: ThreadInit, resourceLimits: ResourceLimits | undefined): Worker {
  limitInlining();
  const here = import.meta.url;
  const start = (execArgv: string[]) => {
    const options = { workerData: init, resourceLimits, execArgv };
    if (!here.endsWith(".ts")) return new Worker(new URL("./thread.js", here), options);
    const entry = new URL("./thread.ts", here).href;
    const code = `import(${JSON.stringify(tsxApiUrl())})` + `.then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
    return new Worker(code, { ...options, eval: true });
  };
  try {
    return start((workerExecArgv ??= threadExecArgv()));
  } catch (err) {
    // V8 and per-process flags (`node --max-old-space-size=4096 …`) are refused in a
    // worker's execArgv; they already apply to the whole process, threads included.
    const refused = refusedFlags(err);
    if (refused.size === 0) throw err;
    workerExecArgv = withoutFlags(workerExecArgv!, refused);
    return start(workerExecArgv);
  }
}

/**
 * TurboFan's inlining budget per optimized function, in bytecode bytes (V8's
 * default 920). Each lint thread is an isolate of its own that optimizes
 * ESLint's hot code again, on V8's compile threads, which share the cores
 * with linting: on mocha's newest 200 commits, cold, two cores, the process
 * used 38–42 s of CPU by default and 33–35 s with 150; the whole history
 * 380 → 363 s; the warm whole history (farm's own code) the same.
 */
const INLINED_BYTECODE_CUMULATIVE = 150;
const INLINING_FLAG = "--max-inlined-bytecode-size-cumulative";

/** V8's flags are the process's: set before the first lint isolate starts, unless `node` was given the flag. */
function limitInlining(): void {
  if (inliningLimited) return;
  inliningLimited = true;
  // V8 reads `_` and `-` in a flag's name alike.
  if (process.execArgv.some((a) => a.replaceAll("_", "-").startsWith(INLINING_FLAG))) return;
  setFlagsFromString(`${INLINING_FLAG}=${INLINED_BYTECODE_CUMULATIVE}`);
}
let inliningLimited = false;

/** The process's execArgv as the threads accept it (see createThread). */
let workerExecArgv: string[] | undefined;

/** The flags a Worker refused (ERR_WORKER_INVALID_EXEC_ARGV names them in its message). */
function refusedFlags(err: unknown): Set<string> {
  const e = err as { code?: string; message?: string };
  if (e?.code !== "ERR_WORKER_INVALID_EXEC_ARGV") return new Set();
  const list = /flags: (.*)$/.exec(e.message ?? "")?.[1] ?? "";
  return new Set(list.split(", ").filter(Boolean));
}

/** `execArgv` without `refused` (and a refused flag's separate value). */
export function withoutFlags(execArgv: readonly string[], refused: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i];
    if (!refused.has(arg)) {
      out.push(arg);
      continue;
    }
    const next = execArgv[i + 1];
    if (!arg.includes("=") && next !== undefined && !next.startsWith("-")) i++;
  }
  return out;
}

/**
 * The process's execArgv minus what describes the main script: a thread
 * inheriting `--input-type` (from `node --input-type=module -e …`) refuses
 * to load its entry file.
 */
export function threadExecArgv(execArgv: readonly string[] = process.execArgv): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i];
    if (arg === "--input-type" || arg === "-e" || arg === "--eval" || arg === "-p" || arg === "--print") {
      i++; // and its value
    } else if (!/^--(input-type|eval|print)=/.test(arg)) {
      out.push(arg);
    }
  }
  return out;
}

function tsxApiUrl(): string {
  try {
    return import.meta.resolve("tsx/esm/api");
  } catch {
    // Runners that rewrite import.meta may lack resolve: find tsx through CommonJS resolution.
    const pkg = createRequire(import.meta.url).resolve("tsx/package.json");
    return pathToFileURL(join(dirname(pkg), "dist/esm/api/index.mjs")).href;
  }
}
