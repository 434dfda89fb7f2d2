/**
 * The embedded default: a local `nats-server -js` child process on a free
 * port, its store in the data dir. Also what the tests run against.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { FarmError } from "../fabric/errors.js";
import { PipelineErrorCodes } from "../pipeline/errors.js";

export class NatsServerMissingError extends FarmError {
  constructor(bin: string) {
    super(
      `${bin} is not installed: install it (Debian/Ubuntu: apt-get install nats-server; macOS: brew install nats-server) ` +
        `or point farm at a cluster with --nats URL / NATS_URL`,
      PipelineErrorCodes.NoNatsServer,
    );
  }
}

/**
 * The client port cannot be listened on (taken by another server, or not
 * allowed). The CLI exits 3 for it, like a store in use: the environment is in
 * the way, not the command line.
 */
export class PortUnavailableError extends FarmError {
  readonly port: number;
  constructor(port: number, why = "is already in use") {
    super(`port ${port} (127.0.0.1:${port}) ${why}: stop what listens there, or pass --port N to use another port`, PipelineErrorCodes.PortUnavailable);
    this.port = port;
  }
}

/** Fails with PortUnavailableError unless 127.0.0.1:port can be listened on now (nats-server's own bind error is a bare exit 1). */
export async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once("error", (err: NodeJS.ErrnoException) =>
      reject(new PortUnavailableError(port, err.code === "EADDRINUSE" ? "is already in use" : `cannot be listened on (${err.code ?? err.message})`)),
    );
    srv.listen({ port, host: "127.0.0.1", exclusive: true }, () => srv.close(() => resolve()));
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface NatsServerOptions {
  /** Client port. Default: a free one. */
  port?: number;
  /** JetStream store. Default: a temp dir removed by dispose(). */
  storeDir?: string;
  /** Extra command-line arguments (e.g. `-c conf`). */
  args?: string[];
  /** Binary: a path, or a name looked up on PATH (and in /usr/sbin). Default `nats-server`; farm's processes pass FARM_NATS_SERVER. */
  bin?: string;
  /** Ms to wait for "Server is ready". Default 15000. */
  startTimeout?: number;
  /**
   * File recording the server's pid and its parent's while it runs. At start, a
   * server whose parent is gone (killed before it could stop the server) is
   * stopped; one whose parent still runs makes start fail: its store is in use.
   * Default: none.
   */
  pidFile?: string;
}

export class StoreInUseError extends FarmError {
  constructor(storeDir: string, pid: number) {
    super(`${storeDir} is in use by another farm process (pid ${pid}): stop it, or give this one another FARM_DATA_DIR`, PipelineErrorCodes.StoreInUse);
  }
}

/** Resolves the binary on PATH (plus the sbin dirs Debian installs it to). */
function findBinary(bin: string): string {
  if (bin.includes("/")) return isExecutable(bin) ? bin : missing(bin);
  const dirs = `${process.env.PATH ?? ""}:/usr/sbin:/usr/local/sbin`.split(":").filter(Boolean);
  return dirs.map((d) => path.join(d, bin)).find(isExecutable) ?? missing(bin);
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    // Missing or not executable: the next candidate is tried.
    return false;
  }
}

function missing(bin: string): never {
  throw new NatsServerMissingError(bin);
}

export class NatsServer {
  private proc?: ChildProcess;
  private readonly ownsStore: boolean;
  readonly storeDir: string;
  port = 0;

  constructor(private readonly opts: NatsServerOptions = {}) {
    this.ownsStore = !opts.storeDir;
    this.storeDir = opts.storeDir ?? mkdtempSync(path.join(os.tmpdir(), "farm-nats-"));
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  static async start(opts: NatsServerOptions = {}): Promise<NatsServer> {
    const s = new NatsServer(opts);
    await s.start();
    return s;
  }

  async start(): Promise<void> {
    const bin = findBinary(this.opts.bin ?? "nats-server");
    mkdirSync(this.storeDir, { recursive: true });
    if (this.opts.pidFile) await reapOrphan(this.opts.pidFile, this.storeDir);
    // Checked after the reap: an orphan of this store may be the one holding the port.
    if (this.port || this.opts.port) await assertPortFree(this.port || this.opts.port!);
    if (!this.port) this.port = this.opts.port ?? (await freePort());
    const args = ["-js", "-a", "127.0.0.1", "-p", String(this.port), "-sd", this.storeDir, ...(this.opts.args ?? [])];
    const proc = spawn(bin, args, { stdio: ["ignore", "ignore", "pipe"] });
    this.proc = proc;
    let log = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nats-server did not start:\n${log}`)), this.opts.startTimeout ?? 15_000);
      const fail = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };
      proc.once("error", fail);
      // Taken between the check above and nats-server's bind: the same error as the check's.
      proc.once("exit", (code) =>
        fail(/bind: address already in use/.test(log) ? new PortUnavailableError(this.port) : new Error(`nats-server exited with ${code}:\n${log}`)),
      );
      proc.stderr.on("data", (d: Buffer) => {
        log += d.toString();
        if (log.includes("Server is ready")) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    proc.removeAllListeners("exit");
    proc.stderr.removeAllListeners("data");
    proc.stderr.resume();
    if (this.opts.pidFile) writeFileSync(this.opts.pidFile, `${proc.pid} ${process.pid}\n`);
  }

  /** Stops the server (SIGKILL for a crash, SIGTERM for a clean stop) and waits for it to exit. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once("exit", () => resolve());
      proc.kill(signal);
    });
    this.proc = undefined;
    if (this.opts.pidFile) rmSync(this.opts.pidFile, { force: true });
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async dispose(): Promise<void> {
    await this.stop();
    if (this.ownsStore) rmSync(this.storeDir, { recursive: true, force: true });
  }
}

/** The process exists (EPERM: it does, as another user's). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The pid runs nats-server on this store (Linux /proc; elsewhere nothing is assumed). */
function servesStore(pid: number, storeDir: string): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return argv.some((a) => a.endsWith("nats-server")) && argv.includes(storeDir);
  } catch {
    // No such process (or no /proc): it serves nothing.
    return false;
  }
}

async function reapOrphan(pidFile: string, storeDir: string): Promise<void> {
  let server: number, parent: number;
  try {
    [server, parent] = readFileSync(pidFile, "utf8").trim().split(" ").map(Number);
  } catch {
    // No pid file: no orphan to reap.
    return;
  }
  if (!servesStore(server, storeDir)) return void rmSync(pidFile, { force: true });
  if (parent !== process.pid && alive(parent)) throw new StoreInUseError(storeDir, parent);
  process.kill(server, "SIGTERM");
  for (let waited = 0; alive(server) && servesStore(server, storeDir); waited += 100) {
    if (waited >= 10_000) process.kill(server, "SIGKILL");
    await new Promise((r) => setTimeout(r, 100));
  }
  rmSync(pidFile, { force: true });
}
