/**
 * GitHub's checks API through Octokit, as a token or as a GitHub App (a JWT
 * signed with the App's key, then an installation token per repository's
 * installation, refreshed before it expires). Host errors are sorted here:
 * rate limits and 5xx come back later, other 4xx are permanent.
 */
import { createAppAuth } from "@octokit/auth-app";
import { Octokit } from "@octokit/core";
import { RequestError } from "@octokit/request-error";
import { Agent, fetch as undiciFetch } from "undici";
import { ErrorCodes, FarmError } from "../../shared/fabric/errors.js";
import { hostFailure } from "./host-errors.js";
import type { Logger } from "../../shared/fabric/logger.js";
import type { HostRepo } from "./hosts.js";

export interface GitHubOptions {
  /** The REST API's base url: https://api.github.com, or a GitHub Enterprise Server's `https://host/api/v3`. */
  apiUrl: string;
  /** A token with checks:write (a fine-grained or classic personal token, an Actions token). */
  token?: string;
  /** A GitHub App: its id and private key (PEM). Preferred over a token when both are set. */
  app?: { id: string; privateKey: string };
  /** Extra CA certificates (PEM) to trust for the API: a GitHub Enterprise Server behind a private CA. */
  ca?: string;
  log: Pick<Logger, "warn" | "error" | "debug">;
}

/** What farm sends to create or update a check run (the API's own field names). */
export type CheckRunBody = Record<string, unknown>;

export class GitHub {
  private readonly tokenClient?: Octokit;
  private readonly appClient?: Octokit;
  /** Per installation: a client whose requests carry that installation's token. */
  private readonly installations = new Map<number, Octokit>();
  /** owner/repo → the App's installation on it. */
  private readonly installationOf = new Map<string, number>();
  private readonly base: ConstructorParameters<typeof Octokit>[0];

  constructor(private readonly opts: GitHubOptions) {
    const dispatcher = opts.ca ? new Agent({ connect: { ca: opts.ca } }) : undefined;
    const fetch = dispatcher ? (url: string, init: object) => undiciFetch(url, { ...init, dispatcher }) : undefined;
    this.base = {
      baseUrl: opts.apiUrl.replace(/\/+$/, ""),
      userAgent: "farm-reporter",
      request: fetch ? { fetch } : {},
      log: { debug: () => {}, info: () => {}, warn: (m: string) => opts.log.warn(m), error: (m: string) => opts.log.error(m) },
    };
    if (opts.app) {
      this.appClient = new Octokit({ ...this.base, authStrategy: createAppAuth, auth: { appId: opts.app.id, privateKey: opts.app.privateKey } });
    } else if (opts.token) {
      this.tokenClient = new Octokit({ ...this.base, auth: opts.token });
    } else throw new FarmError("the reporter needs FARM_GITHUB_TOKEN or FARM_GITHUB_APP_ID and FARM_GITHUB_APP_KEY_FILE", ErrorCodes.InvalidInput);
  }

  async createCheck(r: HostRepo, body: CheckRunBody): Promise<number> {
    const octokit = await this.clientFor(r);
    const res = await call(() => octokit.request("POST /repos/{owner}/{repo}/check-runs", { ...r, ...body } as never));
    return (res.data as { id: number }).id;
  }

  async updateCheck(r: HostRepo, id: number, body: CheckRunBody): Promise<void> {
    const octokit = await this.clientFor(r);
    await call(() => octokit.request("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}", { ...r, check_run_id: id, ...body } as never));
  }

  /** How many annotations the check run has: what earlier attempts posted. */
  async annotationsOf(r: HostRepo, id: number): Promise<number> {
    const octokit = await this.clientFor(r);
    const res = await call(() => octokit.request("GET /repos/{owner}/{repo}/check-runs/{check_run_id}", { ...r, check_run_id: id }));
    return (res.data as { output?: { annotations_count?: number } }).output?.annotations_count ?? 0;
  }

  /** The check run of this name on `sha` whose external id is `externalId` (what an earlier attempt created), or null. */
  async findCheck(r: HostRepo, sha: string, name: string, externalId: string): Promise<number | null> {
    const octokit = await this.clientFor(r);
    const res = await call(() => octokit.request("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", { ...r, ref: sha, check_name: name, per_page: 100 }));
    const runs = (res.data as { check_runs: { id: number; external_id: string | null }[] }).check_runs;
    return runs.find((c) => c.external_id === externalId)?.id ?? null;
  }

  /** The token client, or the App's client for the installation on the repository. */
  private async clientFor(r: HostRepo): Promise<Octokit> {
    if (this.tokenClient) return this.tokenClient;
    const key = `${r.owner}/${r.repo}`;
    let id = this.installationOf.get(key);
    if (id === undefined) {
      const res = await call(() => this.appClient!.request("GET /repos/{owner}/{repo}/installation", { ...r }));
      id = (res.data as { id: number }).id;
      this.installationOf.set(key, id);
    }
    let client = this.installations.get(id);
    if (!client) {
      const app = this.opts.app!;
      client = new Octokit({
        ...this.base,
        authStrategy: createAppAuth,
        auth: { appId: app.id, privateKey: app.privateKey, installationId: id, cache: new ExpiringTokens() },
      });
      this.installations.set(id, client);
    }
    return client;
  }
}

/**
 * The App's installation tokens, kept until shortly before they expire
 * (auth-app's own cache keeps them 59 minutes whatever their expiry): a token
 * is given up a tenth of its lifetime (at most a minute) before it ends.
 */
export class ExpiringTokens {
  private readonly tokens = new Map<string, string>();
  constructor(private readonly now: () => number = Date.now) {}

  get(key: string): string {
    const value = this.tokens.get(key);
    if (value === undefined) return undefined as unknown as string;
    // auth-app's value: token|createdAt|expiresAt|…
    const [, createdAt, expiresAt] = value.split("|");
    const end = Date.parse(expiresAt);
    const margin = Math.min(60_000, (end - Date.parse(createdAt)) / 10);
    if (!(end - margin > this.now())) {
      this.tokens.delete(key);
      return undefined as unknown as string;
    }
    return value;
  }

  set(key: string, value: string): void {
    this.tokens.set(key, value);
  }
}

/** fetch that also trusts `ca` (PEM): a host behind a private CA. */
export function fetchTrusting(ca: string): typeof globalThis.fetch {
  const dispatcher = new Agent({ connect: { ca } });
  return ((url: string, init: object = {}) => undiciFetch(url, { ...init, dispatcher })) as unknown as typeof globalThis.fetch;
}

/** Runs one API call; a host error becomes permanent (4xx), or one to retry later (rate limits, 5xx, the network). */
async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw hostError(err);
  }
}

export function hostError(err: unknown, now = Date.now()): Error {
  if (!(err instanceof RequestError)) return new FarmError(`GitHub could not be reached: ${(err as Error).message}`, ErrorCodes.Farm, { cause: err });
  const h = err.response?.headers ?? {};
  const what = `GitHub answered ${err.status} to ${err.request.method} ${new URL(err.request.url).pathname}`;
  return hostFailure({ what, status: err.status, header: (n) => (h[n] === undefined ? undefined : String(h[n])), message: err.message }, err, now);
}
