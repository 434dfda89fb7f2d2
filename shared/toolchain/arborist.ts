/**
 * One `npm install` of a toolchain's package.json, by npm's own library
 * (@npmcli/arborist, untyped: the few options used are typed here), with no
 * lifecycle script of any package run, and arborist's failures told in words
 * a report can carry.
 */
import { createRequire } from "node:module";
import { ToolchainInstallError, ToolchainRegistryError } from "./install-errors.js";

interface ArboristOptions {
  path: string;
  /** Default (arborist's own): https://registry.npmjs.org. */
  registry?: string;
  /** Resolve ranges as the registry stood at this date (npm's --before). */
  before?: Date;
  /** No preinstall/install/postinstall/prepare script, no implicit node-gyp build, in the tree or in git deps' preparation. */
  ignoreScripts: true;
  audit: false;
  fund: false;
  /** npm's tarball and packument cache. */
  cache: string;
  /** Per-request idle timeout, ms, and retries of a failed request (npm-registry-fetch). */
  timeout: number;
  fetchRetries: number;
  fetchRetryFactor: number;
  fetchRetryMintimeout: number;
  fetchRetryMaxtimeout: number;
  /** Aborts every request in flight. */
  signal: AbortSignal;
}

interface Arborist {
  reify(opts: { ignoreScripts: true; audit: false; fund: false; save: false }): Promise<unknown>;
}

type ArboristConstructor = new (opts: ArboristOptions) => Arborist;
let arboristClass: ArboristConstructor | undefined;
/** npm's library, a few hundred modules: loaded at the first install, not by every process that might install. */
const Arborist = (): ArboristConstructor => (arboristClass ??= createRequire(import.meta.url)("@npmcli/arborist") as ArboristConstructor);

export interface ReifyRequest {
  /** The spec's id, for messages. */
  id: string;
  /** Directory holding the package.json to install. */
  dir: string;
  registry?: string;
  before?: Date;
  cache: string;
  signal: AbortSignal;
  /** Per-request timeout, ms. */
  requestTimeoutMs: number;
}

/** Arborist's default registry: what `registry` means when unset. */
export const DEFAULT_REGISTRY = "https://registry.npmjs.org/";

/** Installs `dir`'s package.json into `dir/node_modules`; throws ToolchainInstallError or ToolchainRegistryError. */
export async function reify(req: ReifyRequest): Promise<void> {
  const ArboristClass = Arborist();
  const arb = new ArboristClass({
    path: req.dir,
    registry: req.registry,
    before: req.before,
    ignoreScripts: true,
    audit: false,
    fund: false,
    cache: req.cache,
    timeout: req.requestTimeoutMs,
    // A refused connection is retried twice, briefly: the caller retries the whole install later.
    fetchRetries: 2,
    fetchRetryFactor: 2,
    fetchRetryMintimeout: 500,
    fetchRetryMaxtimeout: 4_000,
    signal: req.signal,
  });
  try {
    await arb.reify({ ignoreScripts: true, audit: false, fund: false, save: false });
  } catch (err) {
    throw translate(req, err as ArboristError);
  }
}

/** The fields arborist's errors carry (npm-registry-fetch's HttpError, npm-pick-manifest's ETARGET, fetch's FetchError). */
interface ArboristError extends Error {
  code?: string;
  statusCode?: number;
  pkgid?: string;
  uri?: string;
  wanted?: string;
  name: string;
  requiredBy?: string;
}

function translate(req: ReifyRequest, err: ArboristError): Error {
  const registry = req.registry ?? DEFAULT_REGISTRY;
  const by = err.requiredBy && err.requiredBy !== "." ? ` (required by ${err.requiredBy})` : "";
  if (err.code === "E404") return new ToolchainInstallError(req.id, `package ${err.pkgid ?? err.uri ?? "?"} does not exist${by}`, registry, { cause: err });
  if (err.code === "ETARGET" || err.code === "ENOVERSIONS") {
    const when = req.before ? ` published before ${req.before.toISOString()}` : "";
    return new ToolchainInstallError(req.id, `no version of ${err.name}@${err.wanted}${when}${by}`, registry, { cause: err });
  }
  if (req.signal.aborted) return new ToolchainRegistryError(req.id, registry, "no complete install within the install's timeout", { cause: err });
  if (err.code && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|FETCH_ERROR|FETCH_ABORTED)$/.test(err.code)) {
    return new ToolchainRegistryError(req.id, registry, `${err.code}`, { cause: err });
  }
  if (err.statusCode && err.statusCode >= 500) return new ToolchainRegistryError(req.id, registry, `HTTP ${err.statusCode}`, { cause: err });
  // Anything else (an integrity mismatch, a 401/403, a broken tarball) would fail again the same way.
  return new ToolchainInstallError(req.id, `npm failed: ${err.code ? `${err.code}: ` : ""}${err.message}`, registry, { cause: err });
}
