/**
 * A throwaway local redis-server for the BullMQ baseline: a child process on a
 * free loopback port, no persistence, killed by stop().
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../harness/nats-server.js";

export function findRedisServer(): string | undefined {
  const dirs = `${process.env.PATH ?? ""}:/usr/bin:/usr/sbin:/usr/local/bin`.split(":").filter(Boolean);
  for (const d of dirs) {
    const f = path.join(d, "redis-server");
    try {
      accessSync(f, constants.X_OK);
      return f;
    } catch {
      // not here
    }
  }
  return undefined;
}

export function redisVersion(bin: string): string {
  const out = execFileSync(bin, ["--version"], { encoding: "utf8" });
  return /v=(\S+)/.exec(out)?.[1] ?? out.trim();
}

export class RedisServer {
  private constructor(
    private readonly proc: ChildProcess,
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(bin: string): Promise<RedisServer> {
    const port = await freePort();
    const dir = mkdtempSync(path.join(os.tmpdir(), "farm-bench-redis-"));
    const proc = spawn(bin, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--loglevel", "warning"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const server = new RedisServer(proc, port, dir);
    let log = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${log}`)), 15_000);
      proc.once("error", (e) => (clearTimeout(timer), reject(e)));
      proc.once("exit", (code) => (clearTimeout(timer), reject(new Error(`redis-server exited with ${code}:\n${log}`))));
      // With --loglevel warning the ready line is not printed: poll the port instead.
      const poll = async () => {
        const net = await import("node:net");
        for (;;) {
          const ok = await new Promise<boolean>((r) => {
            const s = net.connect(port, "127.0.0.1");
            s.once("connect", () => (s.end(), r(true)));
            s.once("error", () => r(false));
          });
          if (ok) return;
          if (proc.exitCode !== null) return;
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      proc.stdout!.on("data", (d: Buffer) => (log += d.toString()));
      proc.stderr!.on("data", (d: Buffer) => (log += d.toString()));
      void poll().then(() => {
        clearTimeout(timer);
        if (proc.exitCode === null) resolve();
      });
    });
    proc.removeAllListeners("exit");
    return server;
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (proc.exitCode === null && proc.signalCode === null) {
      await new Promise<void>((resolve) => {
        proc.once("exit", () => resolve());
        proc.kill("SIGKILL");
      });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
