/**
 * Configuration from the environment, with documented defaults: every
 * variable farm reads is read here (the OpenTelemetry SDK reads its own
 * OTEL_* ones, see shared/fabric/tracing.ts), by the grammars of parse.ts.
 */
import os from "node:os";
import path from "node:path";
import type { ConnectOptions } from "../fabric/connection.js";
import { GATES, type Gate } from "../pipeline/gate.js";
import { parseChoice, parseCount, parseDuration, parsePort, parseShare, parseSwitch } from "./parse.js";

/** The reporter's GitLab: commit statuses. */
export interface GitLabConfig {
  /** FARM_GITLAB_API_URL: the REST API. Default https://gitlab.com/api/v4. */
  apiUrl: string;
  /** FARM_GITLAB_HOST: the host of the clone urls it reports on. Default gitlab.com. */
  host: string;
  /** FARM_GITLAB_API_TOKEN: a token with the api scope (a project or group access token). Unset: no statuses. */
  token?: string;
}

/** The reporter's GitHub (`farm service reporter`). */
export interface GitHubConfig {
  /** FARM_GITHUB_API_URL: the REST API. Default https://api.github.com (a GitHub Enterprise Server: `https://<host>/api/v3`). */
  apiUrl: string;
  /** FARM_GITHUB_HOST: the host of the clone urls it reports on. Default github.com. */
  host: string;
  /** FARM_GITHUB_TOKEN: a token with checks:write. */
  token?: string;
  /** FARM_GITHUB_APP_ID and FARM_GITHUB_APP_KEY_FILE (the App's private key, PEM): report as a GitHub App (preferred). */
  appId?: string;
  appKeyFile?: string;
}

export interface FarmConfig {
  /** NATS_URL; unset means "start the embedded default". */
  natsUrl?: string;
  /** NATS_CREDS: a credentials file. */
  creds?: string;
  /** NATS_USER / NATS_PASSWORD. */
  user?: string;
  password?: string;
  /** NATS_INBOX_PREFIX: prefix of reply subjects. Default `_INBOX`; deploy/ gives each user its own. */
  inboxPrefix?: string;
  /** FARM_DATA_DIR: mirrors and the embedded server's store. Default `.farm` in the cwd. */
  dataDir: string;
  /** FARM_LOG_LEVEL (default info) and FARM_LOG_PRETTY (default off: JSON lines). */
  logLevel: string;
  logPretty: boolean;
  /** FARM_REPLICAS: replicas of streams and buckets. Default 1. */
  replicas: number;
  /** FARM_CONCURRENCY: tasks in flight per worker. Default: the number of cores. */
  concurrency: number;
  /** FARM_ALLOW_LOCAL_REPOS: accept file:// urls and local paths. Default off. */
  allowLocalRepos: boolean;
  /** FARM_CLONE_URL_TEMPLATE for {owner, repo} payloads. */
  cloneUrlTemplate: string;
  /**
   * FARM_TRUST_TENANT: a request's `tenant` decides whose share its work
   * takes. Only where every publisher of `repo.new_sha` is trusted with it
   * (the web app's webhooks, the operator's services). Default off: the
   * repository's owner is its tenant.
   */
  trustTenants: boolean;
  /** FARM_INTERACTIVE_MAX_COMMITS: a request of at most this many commits takes the interactive lane. Default 20. */
  interactiveMaxCommits: number;
  /** FARM_BACKFILL_SHARE: the share of each stage's work backfill keeps while interactive work waits, 0–1. Default 0.2. */
  backfillShare: number;
  /** FARM_MAX_FILE_SIZE in bytes: bigger files are not linted. Default 512 KiB. */
  maxFileSize: number;
  /**
   * FARM_LINT_THREAD_HEAP_MB: old-space limit of each lint thread. Linting a
   * big file leaves hundreds of MB of garbage that V8 collects late unless
   * bounded; a file that needs more than this fails alone (its thread is
   * replaced). Default 768.
   */
  lintThreadHeapMb: number;
  /**
   * FARM_COMMIT_STALL_TIMEOUT, seconds or a duration (30m): a commit with no
   * new file result for this long ends `.failed`. Default 1800 (30 minutes).
   */
  commitStallSeconds: number;
  /** The web app (`farm web`): FARM_WEB_PORT (default 8080; 0 = any free port) and FARM_WEB_HOST (default 127.0.0.1). */
  webPort: number;
  webHost: string;
  /** FARM_WEB_TOKEN: operator actions (replay) and `/hooks/push` need it; read-only pages too when bound beyond loopback. */
  webToken?: string;
  /** FARM_WEB_PUBLIC: read-only pages open to all wherever the app is bound. Default off. */
  webPublic: boolean;
  /** FARM_WEBHOOK_SECRET (GitHub's `X-Hub-Signature-256` secret) and FARM_GITLAB_TOKEN (GitLab's `X-Gitlab-Token`). */
  webhookSecret?: string;
  gitlabToken?: string;
  /**
   * Prometheus metrics on GET /metrics of each process: FARM_METRICS_PORT
   * (default unset: off; 0 = any free port) and FARM_METRICS_HOST (default 127.0.0.1).
   */
  metricsPort?: number;
  metricsHost: string;
  /** FARM_NATS_SERVER: the nats-server binary the embedded default starts. Default `nats-server` on PATH or in /usr/sbin. */
  natsServer?: string;
  /** FARM_ASYNC_TRACES: a NATS request's timeout says where it started (ConnectOptions.asyncTraces). Default off; on in the tests. */
  asyncTraces: boolean;
  /**
   * FARM_TOOLCHAINS: lint each commit with its own ESLint, config and plugins,
   * installed without scripts and run in a sandbox (shared/toolchain/). Off:
   * configs are read as data by farm's bundled ESLint. Default on.
   */
  toolchains: boolean;
  /**
   * FARM_TOOLCHAIN_TIMEOUT: wall-clock limit of one sandboxed run of a
   * repository's toolchain (its config load and a batch's lint; a batch adds
   * 2 s per file), seconds or a duration. Past it the run is killed and its
   * files carry the reason. Default 60 s.
   */
  toolchainTimeoutSeconds: number;
  /** FARM_TOOLCHAIN_CACHE_DIR: where commits' own lint toolchains are installed (shared/toolchain/install.ts). Default `<dataDir>/toolchains`. */
  toolchainCacheDir: string;
  /** FARM_TOOLCHAIN_CACHE_MAX_BYTES: bound of that cache's disk use; least recently used toolchains are evicted first. Default 5 GiB. */
  toolchainCacheMaxBytes: number;
  /**
   * FARM_NPM_REGISTRY: the registry toolchains are installed from. Default
   * unset: npm's default, https://registry.npmjs.org/ (no `.npmrc` is read).
   */
  npmRegistry?: string;
  github: GitHubConfig;
  gitlab: GitLabConfig;
  /** FARM_REPORTER_CA_FILE: extra CA certificates (PEM) the reporter trusts for the git hosts' APIs. */
  reporterCaFile?: string;
  /** FARM_CHECK_GATE: the gate of commits whose `.farm.json` sets none (shared/pipeline/gate.ts). Default new-errors. */
  checkGate: Gate;
  /** FARM_WEB_URL: the web app's public url, for links from check runs. Unset: no link. */
  webUrl?: string;
}

/** Defaults of the process reading the environment, where it wants its own. */
export interface ConfigDefaults {
  /** Default "info"; the command line's own commands: "warn". */
  logLevel?: string;
}

/** Unset or empty: the default; else a count of at least 1. */
function int(name: string, v: string | undefined, dflt: number): number {
  return v === undefined || v === "" ? dflt : parseCount(name, v, 1);
}

function share(name: string, v: string | undefined, dflt: number): number {
  return v === undefined || v === "" ? dflt : parseShare(name, v);
}

/** Unset or empty: undefined (off); else a port, 0 for any free one. */
function listenPort(name: string, v: string | undefined): number | undefined {
  return v === undefined || v.trim() === "" ? undefined : parsePort(name, v, { anyFree: true });
}

/** Unset or empty: the default, in seconds; else seconds or a duration. */
function seconds(name: string, v: string | undefined, dflt: number): number {
  return v === undefined || v === "" ? dflt : parseDuration(name, v, { bareSeconds: true }) / 1000;
}

/** @throws InvalidSettingError for a value its grammar refuses */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<FarmConfig> = {}, defaults: ConfigDefaults = {}): FarmConfig {
  const dataDir = path.resolve(env.FARM_DATA_DIR || ".farm");
  const cfg: FarmConfig = {
    natsUrl: env.NATS_URL || undefined,
    creds: env.NATS_CREDS || undefined,
    user: env.NATS_USER || undefined,
    password: env.NATS_PASSWORD || undefined,
    inboxPrefix: env.NATS_INBOX_PREFIX || undefined,
    dataDir,
    logLevel: env.FARM_LOG_LEVEL || defaults.logLevel || "info",
    logPretty: parseSwitch("FARM_LOG_PRETTY", env.FARM_LOG_PRETTY),
    replicas: int("FARM_REPLICAS", env.FARM_REPLICAS, 1),
    concurrency: int("FARM_CONCURRENCY", env.FARM_CONCURRENCY, os.availableParallelism()),
    allowLocalRepos: parseSwitch("FARM_ALLOW_LOCAL_REPOS", env.FARM_ALLOW_LOCAL_REPOS),
    cloneUrlTemplate: env.FARM_CLONE_URL_TEMPLATE || "https://github.com/{owner}/{repo}.git",
    trustTenants: parseSwitch("FARM_TRUST_TENANT", env.FARM_TRUST_TENANT),
    interactiveMaxCommits: int("FARM_INTERACTIVE_MAX_COMMITS", env.FARM_INTERACTIVE_MAX_COMMITS, 20),
    backfillShare: share("FARM_BACKFILL_SHARE", env.FARM_BACKFILL_SHARE, 0.2),
    maxFileSize: int("FARM_MAX_FILE_SIZE", env.FARM_MAX_FILE_SIZE, 512 * 1024),
    lintThreadHeapMb: int("FARM_LINT_THREAD_HEAP_MB", env.FARM_LINT_THREAD_HEAP_MB, 768),
    commitStallSeconds: seconds("FARM_COMMIT_STALL_TIMEOUT", env.FARM_COMMIT_STALL_TIMEOUT, 1800),
    webPort: listenPort("FARM_WEB_PORT", env.FARM_WEB_PORT) ?? 8080,
    webHost: env.FARM_WEB_HOST || "127.0.0.1",
    webToken: env.FARM_WEB_TOKEN || undefined,
    webPublic: parseSwitch("FARM_WEB_PUBLIC", env.FARM_WEB_PUBLIC),
    webhookSecret: env.FARM_WEBHOOK_SECRET || undefined,
    gitlabToken: env.FARM_GITLAB_TOKEN || undefined,
    metricsPort: listenPort("FARM_METRICS_PORT", env.FARM_METRICS_PORT),
    metricsHost: env.FARM_METRICS_HOST || "127.0.0.1",
    natsServer: env.FARM_NATS_SERVER || undefined,
    asyncTraces: parseSwitch("FARM_ASYNC_TRACES", env.FARM_ASYNC_TRACES),
    toolchains: env.FARM_TOOLCHAINS === undefined || env.FARM_TOOLCHAINS === "" ? true : parseSwitch("FARM_TOOLCHAINS", env.FARM_TOOLCHAINS),
    toolchainTimeoutSeconds: seconds("FARM_TOOLCHAIN_TIMEOUT", env.FARM_TOOLCHAIN_TIMEOUT, 60),
    toolchainCacheDir: path.resolve(env.FARM_TOOLCHAIN_CACHE_DIR || path.join(dataDir, "toolchains")),
    toolchainCacheMaxBytes: int("FARM_TOOLCHAIN_CACHE_MAX_BYTES", env.FARM_TOOLCHAIN_CACHE_MAX_BYTES, 5 * 1024 ** 3),
    npmRegistry: env.FARM_NPM_REGISTRY || undefined,
    github: {
      apiUrl: env.FARM_GITHUB_API_URL || "https://api.github.com",
      host: env.FARM_GITHUB_HOST || "github.com",
      token: env.FARM_GITHUB_TOKEN || undefined,
      appId: env.FARM_GITHUB_APP_ID || undefined,
      appKeyFile: env.FARM_GITHUB_APP_KEY_FILE || undefined,
    },
    gitlab: {
      apiUrl: env.FARM_GITLAB_API_URL || "https://gitlab.com/api/v4",
      host: env.FARM_GITLAB_HOST || "gitlab.com",
      token: env.FARM_GITLAB_API_TOKEN || undefined,
    },
    reporterCaFile: env.FARM_REPORTER_CA_FILE || undefined,
    checkGate: env.FARM_CHECK_GATE ? parseChoice("FARM_CHECK_GATE", env.FARM_CHECK_GATE, GATES) : "new-errors",
    webUrl: env.FARM_WEB_URL || undefined,
  };
  return { ...cfg, ...stripUndefined(overrides) };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** How a farm process connects to `natsUrl`, with the environment's credentials and inbox prefix. */
export function connectOptionsFrom(cfg: FarmConfig, natsUrl: string, name?: string): ConnectOptions {
  return { servers: natsUrl, name, creds: cfg.creds, user: cfg.user, password: cfg.password, inboxPrefix: cfg.inboxPrefix, asyncTraces: cfg.asyncTraces };
}
