/**
 * A real nats-server for tests: free port, its own store dir, stop/restart.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

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
  port?: number;
  storeDir?: string;
  /** Extra command-line arguments (e.g. `-c conf`). */
  args?: string[];
  /** Binary; default `nats-server` on PATH. */
  bin?: string;
}

export class NatsServer {
  private proc?: ChildProcess;
  private ownsStore: boolean;
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
    if (!this.port) this.port = this.opts.port ?? (await freePort());
    const args = ["-js", "-a", "127.0.0.1", "-p", String(this.port), "-sd", this.storeDir, ...(this.opts.args ?? [])];
    const proc = spawn(this.opts.bin ?? "nats-server", args, { stdio: ["ignore", "ignore", "pipe"] });
    this.proc = proc;
    let log = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nats-server did not start:\n${log}`)), 15_000);
      proc.once("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      proc.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited with ${code}:\n${log}`));
      });
      proc.stderr!.on("data", (d: Buffer) => {
        log += d.toString();
        if (log.includes("Server is ready")) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    proc.removeAllListeners("exit");
    proc.stderr!.resume();
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
