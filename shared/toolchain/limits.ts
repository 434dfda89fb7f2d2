/**
 * The bounds of resolving one commit's toolchain. A tree is untrusted input:
 * every read, parse and walk is bounded, and what goes past a bound is left
 * out with a note, never an error.
 */

export interface ResolveOptions {
  /** Largest config, package.json or imported file read, in bytes. Default 1 MiB: real configs are a few KiB. */
  maxFileBytes?: number;
  /** Largest lockfile read, in bytes. Default 64 MiB: the lockfiles of big monorepos reach tens of MiB. */
  maxLockfileBytes?: number;
  /** How many relative imports (or relative `extends`) deep the config is followed. Default 8. */
  maxDepth?: number;
  /** Files of the tree parsed in all: the config and the files it imports or extends. Default 64. */
  maxFiles?: number;
  /** Packages in one spec; those past it are left out, with a note. Default 256. */
  maxPackages?: number;
  /** Notes kept; the rest are counted in a last one. Default 50. */
  maxNotes?: number;
}

export type ResolveLimits = Required<ResolveOptions>;

export const DEFAULT_RESOLVE_LIMITS: ResolveLimits = {
  maxFileBytes: 1024 * 1024,
  maxLockfileBytes: 64 * 1024 * 1024,
  maxDepth: 8,
  maxFiles: 64,
  maxPackages: 256,
  maxNotes: 50,
};

/** The options with their defaults; a limit that is not a positive integer keeps its default. */
export function resolveLimits(opts: ResolveOptions = {}): ResolveLimits {
  const out = { ...DEFAULT_RESOLVE_LIMITS };
  for (const key of Object.keys(out) as (keyof ResolveLimits)[]) {
    const v = opts[key];
    if (typeof v === "number" && Number.isInteger(v) && v > 0) out[key] = v;
  }
  return out;
}
