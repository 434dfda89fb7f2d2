/**
 * Shared pieces of the deploy tests: the real auth.conf behind a real
 * nats-server, services started the way `farm service <name>` starts them,
 * permission errors collected per connection, small real git repositories.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { NatsConnection } from "@nats-io/transport-node";
import { NatsServer } from "../harness/nats-server.js";
import { createLogger, Farm, loadConfig, type FarmConfig } from "../../shared/index.js";
import type { Service } from "../../shared/pipeline.js";
import { startServices, type ServiceName } from "../../services/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, "../..");
export const AUTH_CONF = path.join(repoRoot, "deploy/nats/auth.conf");

/** The users of deploy/nats/auth.conf and the environment variable holding each password. */
export const USERS = {
  ingest: "FARM_INGEST_PASSWORD",
  splitter: "FARM_SPLITTER_PASSWORD",
  "linter-runner": "FARM_LINTER_RUNNER_PASSWORD",
  aggregator: "FARM_AGGREGATOR_PASSWORD",
  "farm-client": "FARM_CLIENT_PASSWORD",
  "farm-admin": "FARM_ADMIN_PASSWORD",
} as const;
export type UserName = keyof typeof USERS;

/** The inbox prefix auth.conf lets each user subscribe to (NATS_INBOX_PREFIX); the operator keeps the default. */
export function inboxOf(user: UserName): string | undefined {
  return user === "farm-admin" ? undefined : `_INBOX_${user}`;
}

export function quietLog(name = "test") {
  return createLogger({ level: process.env.FARM_TEST_LOG_LEVEL ?? "silent", name });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * nats-server with the real deploy/nats/auth.conf (copied beside a generated
 * config that includes it: nats-server resolves includes relative to the file).
 * Passwords are fresh per run and reach the server through its environment,
 * as in deploy/docker-compose.yml.
 */
export async function startAuthServer(dir: string): Promise<{ server: NatsServer; passwords: Record<UserName, string> }> {
  mkdirSync(dir, { recursive: true });
  copyFileSync(AUTH_CONF, path.join(dir, "auth.conf"));
  const conf = path.join(dir, "server.conf");
  writeFileSync(conf, "include ./auth.conf\n");
  const passwords = {} as Record<UserName, string>;
  for (const [user, env] of Object.entries(USERS) as [UserName, string][]) {
    // nats-server parses the variable's value as a config value: a bare word must start with a letter.
    passwords[user] = "p" + randomBytes(12).toString("hex");
    // The harness spawns nats-server with this process's environment.
    process.env[env] = passwords[user];
  }
  const server = await NatsServer.start({ args: ["-c", conf], storeDir: path.join(dir, "store") });
  return { server, passwords };
}

/** Every asynchronous error the server sent this connection (permission violations among them). */
export function collectErrors(nc: NatsConnection): string[] {
  const errors: string[] = [];
  (async () => {
    for await (const s of nc.status()) {
      if (s.type === "error") errors.push(String((s as { error?: unknown }).error));
    }
  })().catch(() => {});
  return errors;
}

export interface RunningService {
  name: ServiceName;
  farm: Farm;
  services: Service[];
  errors: string[];
  close(): Promise<void>;
}

/** What `farm service <name>` does, in this process: connect (ensureTopology included), start. */
export async function startService(
  name: ServiceName,
  servers: string,
  auth: { user?: string; password?: string; inboxPrefix?: string },
  config: Partial<FarmConfig>,
): Promise<RunningService> {
  const log = quietLog(name);
  const cfg = loadConfig({}, { natsUrl: servers, concurrency: 1, allowLocalRepos: true, ...auth, ...config });
  const farm = await Farm.connect({
    servers,
    name: `farm-${name}`,
    user: auth.user,
    password: auth.password,
    inboxPrefix: auth.inboxPrefix,
    replicas: cfg.replicas,
    log,
  });
  const errors = collectErrors(farm.nc);
  const services = await startServices([name], { farm, config: cfg, log });
  let closing: Promise<void> | undefined;
  return {
    name,
    farm,
    services,
    errors,
    close: () =>
      (closing ??= (async () => {
        for (const s of services) await s.close();
        await farm.close();
      })()),
  };
}

import { waitFor } from "../harness/wait.js";
export { waitFor };

// ---- git ---------------------------------------------------------------------------

const gitEnv: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: "Farm Test",
  GIT_AUTHOR_EMAIL: "test@farm.invalid",
  GIT_COMMITTER_NAME: "Farm Test",
  GIT_COMMITTER_EMAIL: "test@farm.invalid",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_CONFIG_NOSYSTEM: "1",
};

export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, env: gitEnv, encoding: "utf8" }).trim();
}

/**
 * A repository of `commits` commits (oldest first in the returned list) with
 * deterministic dates; each commit changes a few JavaScript files, some with
 * lint errors, and leaves most of the tree as it was (as real histories do).
 */
export function makeRepo(dir: string, commits: number): string[] {
  mkdirSync(dir, { recursive: true });
  git(dir, "init", "-q", "-b", "main");
  writeFileSync(path.join(dir, "package.json"), '{"name":"deploy-fixture","type":"commonjs"}\n');
  const shas: string[] = [];
  for (let i = 0; i < commits; i++) {
    const mod = i % 7;
    mkdirSync(path.join(dir, "lib"), { recursive: true });
    // A file that grows: new issues appear, some get fixed later.
    writeFileSync(
      path.join(dir, `lib/m${mod}.js`),
      [
        `"use strict";`,
        `function f${i}(a) { return a + ${i}; }`,
        i % 3 === 0 ? `const unused${i} = ${i};` : `// clean at ${i}`,
        i % 4 === 0 ? `module.exports = missing${i};` : `module.exports = f${i};`,
        "",
      ].join("\n"),
    );
    if (i % 5 === 0) writeFileSync(path.join(dir, "index.js"), `const x = require("./lib/m${mod}");\nconsole.log(x, ${i});\n`);
    if (i % 11 === 0) writeFileSync(path.join(dir, "lib/broken.js"), i % 22 === 0 ? "function (\n" : "module.exports = 1;\n");
    git(dir, "add", "-A");
    const date = `@${1_700_000_000 + i * 60} +0000`;
    execFileSync("git", ["commit", "-q", "-m", `commit ${i}`], {
      cwd: dir,
      env: { ...gitEnv, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date },
    });
    shas.push(git(dir, "rev-parse", "HEAD"));
  }
  return shas;
}
