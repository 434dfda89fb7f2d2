/**
 * Shared pieces of the deploy tests: the real auth.conf behind a real
 * nats-server, services started the way `farm service <name>` starts them
 * (each on its own connection, under its own user), small real git repositories.
 */
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { NatsServer } from "./nats-server.js";
import type { FarmConfig } from "../../shared/runtime/config.js";
import type { ServiceName } from "../../services/index.js";
import { ROOT } from "./children.js";
import { TestRepo, type Files } from "./git.js";
import { startCluster, testConfig, type Cluster } from "./pipeline.js";
import type { Farm } from "../../shared/fabric/farm.js";
import { connectPipeline } from "../../shared/pipeline/topology.js";
import { quietLog } from "./farms.js";

export const repoRoot = ROOT;
export const AUTH_CONF = path.join(repoRoot, "deploy/nats/auth.conf");

/** The users of deploy/nats/auth.conf and the environment variable holding each password. */
export const USERS = {
  ingest: "FARM_INGEST_PASSWORD",
  splitter: "FARM_SPLITTER_PASSWORD",
  "linter-runner": "FARM_LINTER_RUNNER_PASSWORD",
  aggregator: "FARM_AGGREGATOR_PASSWORD",
  "farm-client": "FARM_CLIENT_PASSWORD",
  "farm-admin": "FARM_ADMIN_PASSWORD",
  web: "FARM_WEB_PASSWORD",
  reporter: "FARM_REPORTER_PASSWORD",
} as const;
export type UserName = keyof typeof USERS;

/** The inbox prefix auth.conf lets each user subscribe to (NATS_INBOX_PREFIX); the operator keeps the default. */
export function inboxOf(user: UserName): string | undefined {
  return user === "farm-admin" ? undefined : `_INBOX_${user}`;
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

export interface RunningService extends Cluster {
  name: ServiceName;
}

/** What `farm service <name>` does, in this process: connect (ensureTopology included), start. */
export async function startService(
  name: ServiceName,
  servers: string,
  auth: { user?: string; password?: string; inboxPrefix?: string },
  config: Partial<FarmConfig> & { dataDir: string },
): Promise<RunningService> {
  const cfg = testConfig(config.dataDir, { natsUrl: servers, concurrency: 1, ...auth, ...config });
  return { name, ...(await startCluster(servers, [name], cfg, { name: `farm-${name}` })) };
}

/**
 * A repository of `commits` commits (their shas, oldest first) with
 * deterministic dates; each commit changes a few JavaScript files, some with
 * lint errors, and leaves most of the tree as it was (as real histories do).
 */
export function makeRepo(dir: string, commits: number): string[] {
  const repo = new TestRepo(dir);
  for (let i = 0; i < commits; i++) {
    const mod = i % 7;
    const files: Files = i === 0 ? { "package.json": '{"name":"deploy-fixture","type":"commonjs"}\n' } : {};
    // A file that grows: new issues appear, some get fixed later.
    files[`lib/m${mod}.js`] = [
      `"use strict";`,
      `function f${i}(a) { return a + ${i}; }`,
      i % 3 === 0 ? `const unused${i} = ${i};` : `// clean at ${i}`,
      i % 4 === 0 ? `module.exports = missing${i};` : `module.exports = f${i};`,
      "",
    ].join("\n");
    if (i % 5 === 0) files["index.js"] = `const x = require("./lib/m${mod}");\nconsole.log(x, ${i});\n`;
    if (i % 11 === 0) files["lib/broken.js"] = i % 22 === 0 ? "function (\n" : "module.exports = 1;\n";
    repo.commit(`commit ${i}`, files);
  }
  return repo.shas;
}

/** What the farm CLI's client commands do (`farm publish`, `farm report`, `farm events`): connect as farm-client. */
export function connectAsClient(url: string, passwords: Record<UserName, string>): Promise<Farm> {
  return connectPipeline({
    servers: url,
    user: "farm-client",
    password: passwords["farm-client"],
    inboxPrefix: inboxOf("farm-client"),
    ensureTopology: false,
    log: quietLog(),
  });
}
