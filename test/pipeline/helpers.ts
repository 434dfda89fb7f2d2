/**
 * Shared pieces of the pipeline suite: real git repos with a fixed identity,
 * the services in-process on a real nats-server, a bare NATS client that
 * speaks raw JSON (as any outside client would), and ESLint run directly on a
 * checkout as the oracle.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import js from "@eslint/js";
import { ESLint, type Linter } from "eslint";
import globals from "globals";
import tseslint from "typescript-eslint";
import { connect, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { loadConfig, type FarmConfig } from "../../shared/config.js";
import { createLogger } from "../../shared/logger.js";
import { Farm } from "../../shared/farm.js";
import type { Service } from "../../shared/pipeline.js";
import type { Report } from "../../shared/report.js";
import { startServices, stopServices, type ServiceName } from "../../services/index.js";
import { NatsServer } from "../harness/nats-server.js";

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, "../..");

// ---- conditions ------------------------------------------------------------------------

import { waitFor } from "../harness/wait.js";
export { waitFor };

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

// ---- git --------------------------------------------------------------------------------

const gitEnv: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: "Farm Pipeline Test",
  GIT_AUTHOR_EMAIL: "pipeline@farm.invalid",
  GIT_COMMITTER_NAME: "Farm Pipeline Test",
  GIT_COMMITTER_EMAIL: "pipeline@farm.invalid",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_CONFIG_NOSYSTEM: "1",
};

export function git(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync("git", args, { cwd, env: { ...gitEnv, ...env }, maxBuffer: 64 * 1024 * 1024 }).toString("utf8").trim();
}

export type Files = Record<string, string | Buffer | null>;

/** A working repository; every commit has a fixed, increasing date, so shas are reproducible. */
export class TestRepo {
  private clock = 1_700_000_000;
  readonly shas: string[] = [];

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    git(dir, ["init", "--quiet", "-b", "main"]);
  }

  /** Writes files (null deletes), stages everything, commits; returns the sha. */
  commit(subject: string, files: Files = {}, renames: [string, string][] = []): string {
    for (const [from, to] of renames) {
      mkdirSync(path.dirname(path.join(this.dir, to)), { recursive: true });
      git(this.dir, ["mv", from, to]);
    }
    for (const [rel, content] of Object.entries(files)) {
      const abs = path.join(this.dir, rel);
      if (content === null) rmSync(abs, { force: true });
      else {
        mkdirSync(path.dirname(abs), { recursive: true });
        writeFileSync(abs, content);
      }
    }
    git(this.dir, ["add", "--all"]);
    this.clock += 60;
    const date = `@${this.clock} +0000`;
    git(this.dir, ["commit", "--quiet", "--allow-empty", "-m", subject], { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date });
    const sha = git(this.dir, ["rev-parse", "HEAD"]);
    this.shas.push(sha);
    return sha;
  }

  /** The commit's tree as plain files in a fresh directory (`git archive`, no .git). */
  checkout(sha: string, into: string): string {
    mkdirSync(into, { recursive: true });
    const tar = execFileSync("git", ["archive", "--format=tar", sha], { cwd: this.dir, env: gitEnv, maxBuffer: 256 * 1024 * 1024 });
    execFileSync("tar", ["-x", "-C", into], { input: tar });
    return into;
  }
}

// ---- the services ---------------------------------------------------------------------

export function quietLog() {
  return createLogger({ level: process.env.FARM_TEST_LOG_LEVEL ?? "silent", name: "pipeline-test" });
}

export function testConfig(dataDir: string, overrides: Partial<FarmConfig> = {}): FarmConfig {
  // Only the documented defaults: the host's FARM_* variables must not leak in.
  return { ...loadConfig({}), dataDir, allowLocalRepos: true, concurrency: 2, ...overrides };
}

export interface Cluster {
  farm: Farm;
  services: Service[];
  config: FarmConfig;
  close(): Promise<void>;
}

/** A farm connection plus the named services in-process, as `farm up` runs them. */
export async function startCluster(url: string, names: readonly ServiceName[], config: FarmConfig): Promise<Cluster> {
  const log = quietLog();
  const farm = await Farm.connect({ servers: url, log, name: "pipeline-test" });
  let services: Service[];
  try {
    services = await startServices(names, { farm, config, log });
  } catch (err) {
    await farm.close();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    farm,
    services,
    config,
    close: () =>
      (closing ??= (async () => {
        await stopServices(services);
        await farm.close();
      })()),
  };
}

// ---- a bare client: raw JSON over plain NATS ------------------------------------------

export interface AnalysisEvent {
  repo: string | null;
  sha: string | null;
  reason?: string;
  requested?: boolean;
  parent?: string | null;
  summary?: { files: number; errors: number; warnings: number };
  delta?: { new: number; fixed: number };
  stats?: { files: number; cacheHits: number; queued: number };
  done?: number;
  total?: number;
  [k: string]: unknown;
}

export interface RecordedEvent {
  subject: string;
  data: AnalysisEvent;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** What any NATS client can do: publish JSON, subscribe to events, request JSON. No farm code. */
export class RawClient {
  readonly events: RecordedEvent[] = [];
  private sub?: Subscription;

  private constructor(readonly nc: NatsConnection) {}

  static async connect(url: string): Promise<RawClient> {
    const c = new RawClient(await connect({ servers: url, name: "raw-client" }));
    c.sub = c.nc.subscribe("repo.analysis.>", {
      callback: (_err, m) => {
        c.events.push({ subject: m.subject, data: JSON.parse(dec.decode(m.data)) as AnalysisEvent });
      },
    });
    await c.nc.flush(); // the subscription is in place before anything is published
    return c;
  }

  publish(subject: string, payload: string | Uint8Array): void {
    this.nc.publish(subject, typeof payload === "string" ? enc.encode(payload) : payload);
  }

  newSha(body: Record<string, unknown>): void {
    this.publish("repo.new_sha", JSON.stringify(body));
  }

  async request<T = unknown>(subject: string, body: unknown, timeout = 30_000): Promise<T> {
    const m = await this.nc.request(subject, enc.encode(JSON.stringify(body)), { timeout });
    return JSON.parse(dec.decode(m.data)) as T;
  }

  of(kind: "started" | "progress" | "completed" | "failed"): AnalysisEvent[] {
    return this.events.filter((e) => e.subject === `repo.analysis.${kind}`).map((e) => e.data);
  }

  /** The completed events of `shas` (the requested ones), once every sha has one. */
  async completed(
    shas: string[],
    timeout = 120_000,
    opts: { requested?: boolean; after?: number; expectFailed?: string[] } = {},
  ): Promise<Map<string, AnalysisEvent>> {
    return waitFor(
      `repo.analysis.completed for ${shas.length} commits`,
      () => {
        const failed = this.events
          .slice(opts.after ?? 0)
          .filter((e) => e.subject === "repo.analysis.failed" && !opts.expectFailed?.includes(e.data.sha ?? ""));
        if (failed.length > 0) throw new Error(`analysis failed: ${JSON.stringify(failed.map((f) => f.data))}`);
        const done = new Map<string, AnalysisEvent>();
        for (const e of this.events.slice(opts.after ?? 0)) {
          if (e.subject !== "repo.analysis.completed" || !e.data.sha) continue;
          if (opts.requested !== undefined && e.data.requested !== opts.requested) continue;
          if (!done.has(e.data.sha)) done.set(e.data.sha, e.data);
        }
        return shas.every((s) => done.has(s)) ? done : undefined;
      },
      timeout,
      100,
    ).catch((err: Error) => {
      // A timeout alone says little: a failure reason says what went wrong.
      const failed = this.events.filter((e) => e.subject === "repo.analysis.failed").map((e) => e.data);
      throw failed.length && !/analysis failed/.test(err.message) ? new Error(`${err.message}; failures: ${JSON.stringify(failed)}`) : err;
    });
  }

  async report(repo: string, sha: string, format?: string): Promise<Report> {
    const r = await this.request<Report & { error?: string }>("report.get", format ? { repo, sha, format } : { repo, sha });
    if (r.error) throw new Error(`report.get ${sha}: ${r.error}`);
    return r;
  }

  async close(): Promise<void> {
    this.sub?.unsubscribe();
    if (!this.nc.isClosed()) await this.nc.drain();
  }
}

// ---- the oracle: ESLint run directly on a checkout ------------------------------------

const ALL = ["**/*.js", "**/*.mjs", "**/*.cjs", "**/*.jsx", "**/*.ts", "**/*.mts", "**/*.cts", "**/*.tsx"];
const TS = ["**/*.ts", "**/*.mts", "**/*.cts", "**/*.tsx"];
const EXT = /\.(?:[cm]?[jt]s|[jt]sx)$/i;

export interface OracleMessage {
  ruleId: string | null;
  severity: number;
  line: number;
  column: number;
  message: string;
}

/**
 * ARCHITECTURE.md "Default linting", written from the document, not from the
 * engine: recommended + latest syntax + Node globals; sourceType by Node's
 * rules (.mjs/.mts module, .cjs/.cts commonjs, others per the nearest
 * package.json "type"); typescript-eslint recommended for TypeScript files.
 */
function defaultFlatConfig(moduleDirs: string[], commonjsDirs: string[]): Linter.Config[] {
  const under = (dirs: string[], exts: string[]) => dirs.flatMap((d) => exts.map((e) => (d ? `${d}/**/*${e}` : `**/*${e}`)));
  const plain = [".js", ".jsx", ".ts", ".tsx"];
  const blocks: Linter.Config[] = [
    { ...js.configs.recommended, files: ALL },
    { files: ALL, languageOptions: { ecmaVersion: "latest", globals: globals.node } },
  ];
  // Deeper package.json files come later, so the nearest one wins.
  const dirs = [...moduleDirs.map((d) => ({ d, t: "module" as const })), ...commonjsDirs.map((d) => ({ d, t: "commonjs" as const }))].sort(
    (a, b) => (a.d === "" ? 0 : a.d.split("/").length) - (b.d === "" ? 0 : b.d.split("/").length),
  );
  blocks.push({ files: under([""], plain), languageOptions: { sourceType: "commonjs" } });
  for (const { d, t } of dirs) blocks.push({ files: under([d], plain), languageOptions: { sourceType: t } });
  blocks.push({ files: ["**/*.mjs", "**/*.mts"], languageOptions: { sourceType: "module" } });
  blocks.push({ files: ["**/*.cjs", "**/*.cts"], languageOptions: { sourceType: "commonjs" } });
  blocks.push(...(tseslint.configs.recommended as Linter.Config[]).map((c) => ({ ...c, files: TS })));
  return blocks;
}

function walk(dir: string, rel = ""): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...walk(dir, p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

const VENDORED = /(^|\/)(node_modules|bower_components|vendor|vendors|third_party|jspm_packages)\//;

/**
 * Which files issue 3's rules say get linted: by extension; not vendored, not
 * minified (by name, or by content: long average lines), not over the size
 * cap (512 KiB by default), not binary (a NUL in the first 8 KiB).
 */
export function expectedLintedFiles(checkout: string, maxFileSize = 512 * 1024): string[] {
  return walk(checkout)
    .filter((p) => EXT.test(p) && !VENDORED.test(p) && !/[.-]min\.[cm]?js$/.test(p))
    .filter((p) => {
      const data = readFileSync(path.join(checkout, p));
      if (data.length > maxFileSize || data.subarray(0, 8192).includes(0)) return false;
      const text = data.toString("utf8");
      return !(text.length >= 4096 && text.length / text.split("\n").length > 500);
    })
    .sort();
}

/** ESLint's own `lintFiles` on a checkout: path → messages, sorted. */
export async function eslintOracle(checkout: string): Promise<Map<string, OracleMessage[]>> {
  const files = expectedLintedFiles(checkout);
  const pkgs = walk(checkout).filter((p) => path.posix.basename(p) === "package.json" && !/(^|\/)node_modules\//.test(p));
  const moduleDirs: string[] = [];
  const commonjsDirs: string[] = [];
  for (const p of pkgs) {
    const d = path.posix.dirname(p) === "." ? "" : path.posix.dirname(p);
    let type: unknown;
    try {
      type = (JSON.parse(readFileSync(path.join(checkout, p), "utf8")) as { type?: unknown }).type;
    } catch {
      type = undefined;
    }
    (type === "module" ? moduleDirs : commonjsDirs).push(d);
  }
  const eslint = new ESLint({ cwd: checkout, overrideConfigFile: true, overrideConfig: defaultFlatConfig(moduleDirs, commonjsDirs) });
  const results = await eslint.lintFiles(files.map((f) => path.join(checkout, f)));
  const out = new Map<string, OracleMessage[]>();
  for (const r of results) {
    const rel = path.relative(checkout, r.filePath).split(path.sep).join("/");
    out.set(rel, sortMessages(r.messages.map((m) => ({ ruleId: m.ruleId, severity: m.severity, line: m.line || 1, column: m.column || 1, message: m.message }))));
  }
  return out;
}

export function sortMessages<T extends OracleMessage>(ms: T[]): T[] {
  return [...ms].sort((a, b) => a.line - b.line || a.column - b.column || String(a.ruleId).localeCompare(String(b.ruleId)) || a.message.localeCompare(b.message));
}

/** A report's files in the oracle's shape. */
export function reportAsOracle(report: Report): Map<string, OracleMessage[]> {
  return new Map(
    report.files.map((f) => [
      f.path,
      sortMessages(f.messages.map((m) => ({ ruleId: m.ruleId, severity: m.severity, line: m.line, column: m.column, message: m.message }))),
    ]),
  );
}

// ---- child processes ------------------------------------------------------------------

export interface Child {
  proc: ChildProcess;
  exited: Promise<number | string>;
  output(): string;
}

const children = new Set<Child>();

/** `node --import tsx cli/farm.ts service <name>` against `url`, the way a container runs it. */
export function spawnService(name: ServiceName, url: string, env: Record<string, string> = {}): Child {
  const proc = spawn(process.execPath, ["--import", "tsx", path.join(repoRoot, "cli/farm.ts"), "service", name], {
    cwd: repoRoot,
    env: { ...process.env, NATS_URL: url, FARM_LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  proc.stdout!.on("data", (d: Buffer) => (log += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | string>((resolve) => proc.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")));
  const child: Child = { proc, exited, output: () => log };
  children.add(child);
  void exited.then(() => children.delete(child));
  return child;
}

export async function killChildren(): Promise<void> {
  await Promise.all(
    [...children].map(async (c) => {
      if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill("SIGKILL");
      await c.exited;
    }),
  );
}

// ---- a server per test file -------------------------------------------------------------

export async function startServer(): Promise<NatsServer> {
  return NatsServer.start();
}
