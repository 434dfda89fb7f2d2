/**
 * Shared pieces of the fabric suite: a quiet farm, condition waits (never bare
 * sleeps), and child-process workers that are always reaped.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll } from "vitest";
import { createLogger, Farm, type FarmOptions } from "../../shared/index.js";
import { NatsServer } from "../harness/nats-server.js";

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, "../..");

/** Farm logs go straight to fd 2; keep the test output readable unless asked. */
export function quietLog() {
  return createLogger({ level: process.env.FARM_TEST_LOG_LEVEL ?? "silent", name: "test" });
}

export function connectFarm(url: string, opts: Partial<FarmOptions> = {}): Promise<Farm> {
  return Farm.connect({ servers: url, log: quietLog(), ...opts });
}

/**
 * A fresh nats-server for the file's tests and one Farm connection per name
 * (as if on separate boxes); everything, child workers included, is closed after.
 */
export function useFarms<N extends string>(...names: N[]): { server: NatsServer } & Record<N, Farm> {
  const env = {} as { server: NatsServer } & Record<N, Farm>;
  beforeAll(async () => {
    env.server = await NatsServer.start();
    for (const name of names) (env as Record<N, Farm>)[name] = await connectFarm(env.server.url, { name });
  });
  afterAll(async () => {
    await killChildren();
    await Promise.all(names.map((n) => env[n]?.close()));
    await env.server?.dispose();
  });
  return env;
}

import { waitFor } from "../harness/wait.js";
export { waitFor };

export interface ChildWorker {
  proc: ChildProcess;
  pid: number;
  /** Resolves with the exit code (or the signal's name) once the process is gone. */
  exited: Promise<number | string>;
  /** What the child wrote to stderr: its logs, for failure messages. */
  output(): string;
}

const children = new Set<ChildWorker>();

/**
 * Spawns `node --import tsx test/fixtures/<fixture>.ts` with `env` added to the
 * environment. Every child is tracked so {@link killChildren} can reap it.
 */
export function spawnFixture(fixture: string, env: Record<string, string | number>): ChildWorker {
  const proc = spawn(process.execPath, ["--import", "tsx", path.join(repoRoot, "test/fixtures", `${fixture}.ts`)], {
    cwd: repoRoot,
    env: { ...process.env, ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])) },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  proc.stderr!.on("data", (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | string>((resolve) => {
    proc.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
  });
  const child: ChildWorker = { proc, pid: proc.pid!, exited, output: () => log };
  children.add(child);
  exited.then(() => children.delete(child));
  return child;
}

/** SIGKILLs every child still alive and waits for each to be gone. */
export async function killChildren(): Promise<void> {
  await Promise.all(
    [...children].map(async (c) => {
      if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill("SIGKILL");
      await c.exited;
    }),
  );
}

/** Counts occurrences per key: "each exactly once" checks. */
export function tally<K>(keys: Iterable<K>): Map<K, number> {
  const m = new Map<K, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}
