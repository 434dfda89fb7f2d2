/**
 * The on-disk toolchain cache: one directory per spec id, complete or absent.
 *
 *   <cacheDir>/<id>/               package.json, node_modules/, and MARKER (written last, before the rename)
 *   <cacheDir>/.staging/<id>.<pid>.<random>/   an install in progress (its own npm cache inside)
 *   <cacheDir>/.locks/<id>         the cross-process install lock of one id (shared/git/lock.ts)
 *   <cacheDir>/.trash/             directories on their way out (renamed first, then deleted)
 *
 * A toolchain's last use is its marker's mtime (touched on every hit): least
 * recently used ones are evicted past the cache's size bound.
 */
import { randomBytes } from "node:crypto";
import { lstat, mkdir, readdir, readFile, rename, rm, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { alive } from "../runtime/embedded.js";

/** Written into a toolchain's directory once it is complete: its presence is what "installed" means. */
export const MARKER = "farm-toolchain.json";

export interface Marker {
  id: string;
  /** Installed version of each top-level package. */
  versions: Record<string, string>;
  /** Disk use of the directory (allocated blocks), bytes. */
  bytes: number;
  installedAt: string;
}

export const stagingRoot = (cacheDir: string) => path.join(cacheDir, ".staging");
export const lockPath = (cacheDir: string, name: string) => path.join(cacheDir, ".locks", name);
const trashRoot = (cacheDir: string) => path.join(cacheDir, ".trash");

/** The marker of a complete toolchain in `dir`, or null when there is none. */
export async function readMarker(dir: string): Promise<Marker | null> {
  let text: string;
  try {
    text = await readFile(path.join(dir, MARKER), "utf8");
  } catch {
    return null;
  }
  try {
    return JSON.parse(text) as Marker;
  } catch {
    return null; // unreadable (disk trouble, a hand edit): not a toolchain, installed again over it
  }
}

export async function writeMarker(dir: string, marker: Marker): Promise<void> {
  await writeFile(path.join(dir, MARKER), JSON.stringify(marker, null, 2));
}

/** Records a use now (the LRU order). */
export async function touch(dir: string): Promise<void> {
  const now = new Date();
  await utimes(path.join(dir, MARKER), now, now).catch(() => {});
}

/** Blocks allocated under `dir`, bytes (symlinks not followed). */
export async function diskBytes(dir: string): Promise<number> {
  const st = await lstat(dir);
  if (!st.isDirectory()) return st.blocks * 512;
  let total = st.blocks * 512;
  for (const name of await readdir(dir)) total += await diskBytes(path.join(dir, name));
  return total;
}

/** Moves `dir` out of the way at once (atomic rename into the trash), then deletes it. Absent: nothing done. */
export async function discard(cacheDir: string, dir: string): Promise<boolean> {
  const trash = path.join(trashRoot(cacheDir), `${path.basename(dir)}.${randomBytes(4).toString("hex")}`);
  await mkdir(trashRoot(cacheDir), { recursive: true });
  try {
    await rename(dir, trash);
  } catch {
    return false; // gone already
  }
  await rm(trash, { recursive: true, force: true });
  return true;
}

export interface EvictOptions {
  maxBytes: number;
  /** Never evicted: the toolchain just installed. */
  keep: string;
  /** A toolchain used this recently may be running in a sandbox: never evicted. */
  inUseMs: number;
}

/**
 * Evicts least recently used toolchains until the cache holds at most
 * `maxBytes` (or only toolchains in use remain); removes what crashed
 * installs and deletions left. Returns the evicted ids.
 */
export async function evict(cacheDir: string, opts: EvictOptions): Promise<string[]> {
  await removeLeftovers(cacheDir);
  const entries: { id: string; bytes: number; usedAt: number }[] = [];
  for (const id of await readdir(cacheDir)) {
    if (id.startsWith(".")) continue;
    const dir = path.join(cacheDir, id);
    const marker = await readMarker(dir).catch(() => null);
    const st = await lstat(path.join(dir, MARKER)).catch(() => null);
    if (marker && st) entries.push({ id, bytes: marker.bytes, usedAt: st.mtimeMs });
  }
  let total = entries.reduce((n, e) => n + e.bytes, 0);
  const evicted: string[] = [];
  const now = Date.now();
  for (const e of entries.sort((a, b) => a.usedAt - b.usedAt)) {
    if (total <= opts.maxBytes) break;
    if (e.id === opts.keep || now - e.usedAt < opts.inUseMs) continue;
    if (await discard(cacheDir, path.join(cacheDir, e.id))) evicted.push(e.id);
    total -= e.bytes;
  }
  return evicted;
}

/** Staging dirs of processes that are gone (a crash mid-install), and the trash's leftovers. */
async function removeLeftovers(cacheDir: string): Promise<void> {
  for (const name of await readdir(stagingRoot(cacheDir)).catch(() => [] as string[])) {
    const pid = Number(name.split(".")[1]);
    if (Number.isInteger(pid) && pid > 0 && !alive(pid)) await rm(path.join(stagingRoot(cacheDir), name), { recursive: true, force: true });
  }
  // Another process may be deleting its own entry in there at this moment: its leftovers go next time.
  await rm(trashRoot(cacheDir), { recursive: true, force: true }).catch(() => {});
}
