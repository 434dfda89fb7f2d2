/**
 * Installs a toolchain (issue 25): `ToolchainSpec` → `InstalledToolchain`.
 *
 * With npm's own library (@npmcli/arborist, see arborist.ts), never running a
 * lifecycle script of any package, into a bounded on-disk cache (cache.ts):
 * built in a staging directory and renamed into place only once complete, so
 * a crash never leaves a toolchain that looks installed. One spec is
 * installed once: concurrent calls in one process share one promise, calls
 * in several processes take a directory lock per spec id, and whoever comes
 * second finds the toolchain in place.
 */
import { randomBytes } from "node:crypto";
import { setMaxListeners } from "node:events";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "../fabric/logger.js";
import { withDirLock } from "../git/lock.js";
import { DEFAULT_REGISTRY, reify } from "./arborist.js";
import { diskBytes, discard, evict, lockPath, readMarker, stagingRoot, touch, writeMarker, type Marker } from "./cache.js";
import { ToolchainInstallError, ToolchainRegistryError } from "./install-errors.js";
import type { InstalledToolchain, ToolchainSpec } from "./types.js";

export { DEFAULT_REGISTRY };

export interface InstallOptions {
  /** Root of the toolchain cache (created when missing). */
  cacheDir: string;
  /**
   * The registry to install from. Default: arborist's own, {@link DEFAULT_REGISTRY}
   * (https://registry.npmjs.org/). No `.npmrc` is read: neither the operator's
   * npm settings nor their tokens take part in an install.
   */
  registry?: string;
  /**
   * Bound of the cache's disk use, bytes: after an install, least recently
   * used toolchains are evicted until the cache fits, never the one just
   * installed nor one in use (see `inUseMs`). Default 5 GiB.
   */
  maxCacheBytes?: number;
  /**
   * A toolchain returned (installed or found) this recently counts as in use
   * (a sandbox may be running it) and is never evicted. Default 10 minutes.
   */
  inUseMs?: number;
  /**
   * Time for one install, ms: past it, requests in flight are aborted and the
   * install fails (ToolchainRegistryError). A caller waiting on another
   * process's install of the same spec waits as long again. Default 5 minutes.
   */
  timeoutMs?: number;
  log?: Logger;
}

const DEFAULTS = { maxCacheBytes: 5 * 1024 ** 3, inUseMs: 10 * 60_000, timeoutMs: 5 * 60_000 };

/** Installs in progress in this process, by cache dir and spec id. */
const inflight = new Map<string, Promise<InstalledToolchain>>();

/**
 * The toolchain of `spec`, installed in `opts.cacheDir` (at once when it is
 * there already). Throws ToolchainInstallError (permanent: a package or
 * version the registry does not have, a spec that is not installable) or
 * ToolchainRegistryError (transient: the registry did not answer in time).
 */
export async function installToolchain(spec: ToolchainSpec, opts: InstallOptions): Promise<InstalledToolchain> {
  checkSpec(spec);
  const cacheDir = path.resolve(opts.cacheDir);
  const key = `${cacheDir}\0${spec.id}`;
  let pending = inflight.get(key);
  if (!pending) {
    pending = findOrInstall(spec, { ...opts, cacheDir }).finally(() => inflight.delete(key));
    inflight.set(key, pending);
  }
  const installed = await pending;
  return { ...installed, spec };
}

async function findOrInstall(spec: ToolchainSpec, opts: InstallOptions): Promise<InstalledToolchain> {
  const dir = path.join(opts.cacheDir, spec.id);
  const found = await find(spec, dir);
  if (found) {
    opts.log?.debug({ toolchain: spec.id }, "toolchain found in the cache");
    return found;
  }
  const timeoutMs = opts.timeoutMs ?? DEFAULTS.timeoutMs;
  // The holder's install is bounded by its own timeout: a lock much older than that was left by a crash.
  const lock = { timeoutMs, staleMs: 2 * timeoutMs + 60_000 };
  const installed = await withDirLock(lockPath(opts.cacheDir, spec.id), lock, async () => (await find(spec, dir)) ?? installFresh(spec, dir, opts));
  const maxBytes = opts.maxCacheBytes ?? DEFAULTS.maxCacheBytes;
  const inUseMs = opts.inUseMs ?? DEFAULTS.inUseMs;
  try {
    const evicted = await withDirLock(lockPath(opts.cacheDir, "evict"), { timeoutMs, staleMs: 10 * 60_000 }, () =>
      evict(opts.cacheDir, { maxBytes, keep: spec.id, inUseMs }),
    );
    if (evicted.length) opts.log?.info({ evicted, maxBytes }, "toolchains evicted from the cache");
  } catch (err) {
    // The install stands; the cache is bounded again by the next one.
    opts.log?.warn({ err, cacheDir: opts.cacheDir }, "toolchain cache eviction failed");
  }
  return installed;
}

/** The complete toolchain in `dir`, its use recorded; null when there is none. */
async function find(spec: ToolchainSpec, dir: string): Promise<InstalledToolchain | null> {
  const marker = await readMarker(dir);
  if (!marker) return null;
  await touch(dir);
  return { spec, dir, versions: marker.versions };
}

async function installFresh(spec: ToolchainSpec, dir: string, opts: InstallOptions): Promise<InstalledToolchain> {
  const started = Date.now();
  const staging = path.join(stagingRoot(opts.cacheDir), `${spec.id}.${process.pid}.${randomBytes(4).toString("hex")}`);
  const tree = path.join(staging, "tree");
  await mkdir(tree, { recursive: true });
  const manifest = { name: `toolchain-${spec.id}`, version: "0.0.0", private: true, dependencies: spec.packages };
  await writeFile(path.join(tree, "package.json"), JSON.stringify(manifest, null, 2));

  const timeoutMs = opts.timeoutMs ?? DEFAULTS.timeoutMs;
  const abort = new AbortController();
  // Every fetch of the install listens on it (a toolchain has hundreds): not a leak.
  setMaxListeners(0, abort.signal);
  const registry = opts.registry ?? DEFAULT_REGISTRY;
  const timedOut = new Promise<never>((_, reject) => {
    abort.signal.addEventListener("abort", () => reject(new ToolchainRegistryError(spec.id, registry, `no complete install within ${timeoutMs} ms`)));
  });
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const work = reify({
    id: spec.id,
    dir: tree,
    registry: opts.registry,
    before: spec.before ? new Date(spec.before) : undefined,
    // Its own npm cache, deleted with the staging dir: nothing outside the toolchain's directory grows.
    cache: path.join(staging, "npm-cache"),
    signal: abort.signal,
    requestTimeoutMs: Math.min(timeoutMs, 60_000),
  });
  try {
    await Promise.race([work, timedOut]);
    const versions = await readVersions(spec, tree);
    const marker: Marker = { id: spec.id, versions, bytes: 0, installedAt: new Date().toISOString() };
    marker.bytes = await diskBytes(tree);
    await writeMarker(tree, marker);
    // A directory without a marker is no toolchain (a hand-made one, an older layout): it gives way.
    await discard(opts.cacheDir, dir);
    await rename(tree, dir);
    opts.log?.info({ toolchain: spec.id, versions, bytes: marker.bytes, ms: Date.now() - started }, "toolchain installed");
    return { spec, dir, versions };
  } finally {
    clearTimeout(timer);
    const removed = work.catch(() => {}).then(() => rm(staging, { recursive: true, force: true }));
    // After a timeout arborist may still be writing in there: removed once it has stopped, not waited for.
    if (!abort.signal.aborted) await removed;
  }
}

/** The installed version of each top-level package, from its own package.json. */
async function readVersions(spec: ToolchainSpec, tree: string): Promise<Record<string, string>> {
  const versions: Record<string, string> = {};
  for (const name of Object.keys(spec.packages)) {
    const file = path.join(tree, "node_modules", name, "package.json");
    const text = await readFile(file, "utf8").catch(() => null);
    const version = text ? (JSON.parse(text) as { version?: unknown }).version : undefined;
    if (typeof version !== "string") throw new ToolchainInstallError(spec.id, `${name} is not in node_modules after the install`);
    versions[name] = version;
  }
  return versions;
}

const ID = /^[0-9a-f]{16,64}$/;
const NAME = /^(@[a-z0-9~-][a-z0-9._~-]*\/)?[a-z0-9~-][a-z0-9._~-]*$/i;
// A version, a range or a dist-tag: nothing that names a path, a url or a git remote (no "/" or ":").
const REGISTRY_VERSION = /^[0-9a-z.^~<>=|*+\- ]+$/i;
const ALIAS = /^npm:((?:@[a-z0-9~-][a-z0-9._~-]*\/)?[a-z0-9~-][a-z0-9._~-]*)@([^/:]+)$/i;

/** Refuses what is not a registry install: the id names a directory, and a `file:`/git/url version would read or run outside the registry. */
function checkSpec(spec: ToolchainSpec): void {
  if (!ID.test(spec.id)) throw new ToolchainInstallError(String(spec.id), "the spec's id is not a content hash (16 to 64 hex digits)");
  const names = Object.keys(spec.packages);
  if (names.length === 0) throw new ToolchainInstallError(spec.id, "the spec names no package");
  for (const name of names) {
    const version = spec.packages[name];
    if (!NAME.test(name)) throw new ToolchainInstallError(spec.id, `"${name}" is not a package name`);
    const alias = ALIAS.exec(version);
    if (!(REGISTRY_VERSION.test(version) || (alias && REGISTRY_VERSION.test(alias[2])))) {
      throw new ToolchainInstallError(spec.id, `${name}@${version} is not a registry version (only versions, ranges, tags and npm: aliases are installed)`);
    }
  }
  if (spec.before !== undefined && Number.isNaN(Date.parse(spec.before))) {
    throw new ToolchainInstallError(spec.id, `"before" is not a date: ${spec.before}`);
  }
}
