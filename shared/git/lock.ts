/**
 * A cross-process lock for one host: a directory that appears atomically with
 * its owner record inside. Acquire = rename a prepared directory onto the lock
 * path (fails while a non-empty lock exists). Release = rename it away, then
 * delete. A lock whose owner process is dead, or that is older than
 * `staleMs`, is broken — under a second, short-lived "breaker" lock so that
 * two waiters can never both break the same lock and remove each other's.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, rmdir, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { LockTimeoutError } from "./errors.js";

export interface DirLockOptions {
  /** Give up waiting after this long (LockTimeoutError, transient). */
  timeoutMs: number;
  /**
   * A lock older than this is stale even if its pid is alive (pid reuse,
   * another host). Must exceed the longest legitimate hold.
   */
  staleMs: number;
  /** Base interval between attempts; jittered. Default 50 ms. */
  pollMs?: number;
}

interface Owner {
  pid: number;
  host: string;
  token: string;
  since: number;
}

const OWNER_FILE = "owner.json";
// The breaker is held for one read and one rename; a breaker this old was left by a crash.
const BREAKER_STALE_MS = 10_000;

/** Runs `fn` while holding the lock at `lockDir`. */
export async function withDirLock<T>(lockDir: string, opts: DirLockOptions, fn: () => Promise<T>): Promise<T> {
  const token = await acquireDirLock(lockDir, opts);
  try {
    return await fn();
  } finally {
    await releaseDirLock(lockDir, token);
  }
}

/** Waits for the lock and returns the token that proves ownership. */
export async function acquireDirLock(lockDir: string, opts: DirLockOptions): Promise<string> {
  const owner: Owner = { pid: process.pid, host: os.hostname(), token: randomBytes(8).toString("hex"), since: 0 };
  const start = Date.now();
  const pollMs = opts.pollMs ?? 50;
  await mkdir(path.dirname(lockDir), { recursive: true });
  for (;;) {
    owner.since = Date.now();
    if (await tryAcquire(lockDir, owner)) return owner.token;
    const holder = await readOwner(lockDir);
    if (holder && isStale(holder, opts.staleMs)) {
      await breakStaleLock(lockDir, holder);
      continue;
    }
    const waited = Date.now() - start;
    if (waited >= opts.timeoutMs) {
      throw new LockTimeoutError(lockDir, waited, holder ? `pid ${holder.pid} on ${holder.host}` : "unknown");
    }
    await new Promise((r) => setTimeout(r, pollMs * (0.5 + Math.random())));
  }
}

/** Releases a lock we hold; a lock that is no longer ours (broken as stale) is left alone. */
export async function releaseDirLock(lockDir: string, token: string): Promise<void> {
  const holder = await readOwner(lockDir);
  if (holder?.token !== token) return;
  await removeLock(lockDir, token);
}

async function tryAcquire(lockDir: string, owner: Owner): Promise<boolean> {
  // Prepared next to the lock so the rename stays on one filesystem.
  const staging = `${lockDir}.new-${owner.token}`;
  await mkdir(staging, { recursive: true });
  await writeFile(path.join(staging, OWNER_FILE), JSON.stringify(owner));
  try {
    await rename(staging, lockDir);
    return true;
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST" || code === "ENOTEMPTY") return false;
    throw e;
  }
}

async function readOwner(lockDir: string): Promise<Owner | null> {
  let text: string;
  try {
    text = await readFile(path.join(lockDir, OWNER_FILE), "utf8");
  } catch {
    return null; // released meanwhile: just try again
  }
  try {
    const o = JSON.parse(text) as Owner;
    if (typeof o.pid === "number" && typeof o.token === "string") return o;
  } catch {
    // fall through
  }
  // Unreadable record (disk trouble, manual edits): let age decide.
  const since = (await stat(lockDir).catch(() => null))?.mtimeMs ?? Date.now();
  return { pid: 0, host: "", token: `unreadable-${since}`, since };
}

function isStale(o: Owner, staleMs: number): boolean {
  if (Date.now() - o.since > staleMs) return true;
  // A pid only means something on the host that wrote it.
  return o.host === os.hostname() && o.pid > 0 && !pidAlive(o.pid);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
}

async function breakStaleLock(lockDir: string, stale: Owner): Promise<void> {
  const breaker = `${lockDir}.break`;
  try {
    await mkdir(breaker);
  } catch {
    // Another process is breaking it: wait for it, unless its breaker is itself stale.
    const age = Date.now() - ((await stat(breaker).catch(() => null))?.mtimeMs ?? Date.now());
    if (age > BREAKER_STALE_MS) await rmdir(breaker).catch(() => {});
    await new Promise((r) => setTimeout(r, 20));
    return;
  }
  try {
    // Re-read under the breaker: only the very lock we judged stale may go.
    const now = await readOwner(lockDir);
    if (now?.token === stale.token) await removeLock(lockDir, `stale-${stale.token}`);
  } finally {
    await rmdir(breaker).catch(() => {});
  }
}

/** Renames first so the lock path is free at once and never seen half-deleted. */
async function removeLock(lockDir: string, suffix: string): Promise<void> {
  const trash = `${lockDir}.old-${suffix}-${randomBytes(4).toString("hex")}`;
  try {
    await rename(lockDir, trash);
  } catch {
    // Gone already (released, or removed by another breaker): nothing to remove.
    return;
  }
  await rm(trash, { recursive: true, force: true });
}
