/**
 * A commit's own lint toolchain, for the splitter (issue 25): resolved from
 * its tree as data, installed without scripts, and asked — in the sandbox —
 * which of the commit's files its ESLint lints and with which effective
 * config. Each path is planned once per (toolchain, config inputs): a commit
 * that adds files plans only those. Whatever fails (no sandbox, a package
 * that cannot be installed, a config that does not load) is a note, and the
 * commit is linted as data, as with toolchains off.
 */
import { createHash } from "node:crypto";
import { mapLimit } from "../../shared/fabric/concurrency.js";
import type { Logger } from "../../shared/fabric/logger.js";
import { LRUCache } from "lru-cache";
import { isRegularFile } from "../../shared/lint/lintable.js";
import type { ManifestEntry } from "../../shared/pipeline/contract.js";
import { PipelineErrorCodes } from "../../shared/pipeline/errors.js";
import { objectNames } from "../../shared/pipeline/names.js";
import type { ReportToolchain } from "../../shared/pipeline/report.js";
import type { Objects } from "../../shared/pipeline/stores/index.js";
import { settingsId, toolchainConfigId, type ToolchainInput, type ToolchainSettings } from "../../shared/pipeline/toolchain-settings.js";
import type { FarmConfig } from "../../shared/runtime/config.js";
import { inputText, isConfigInput, textHash } from "../../shared/toolchain/inputs.js";
import { resolveToolchain } from "../../shared/toolchain/resolve.js";
import type { SandboxPool } from "../../shared/toolchain/sandbox-pool.js";
import type { InstalledToolchain, ToolchainSpec } from "../../shared/toolchain/types.js";

/** Heap of one plan run in the sandbox (config load + ESLint's file enumeration over empty files); its time limit is FARM_TOOLCHAIN_TIMEOUT. */
export const PLAN_MEMORY_MB = 1024;
/** Config inputs of one commit: beyond these, the toolchain is not run (a note). */
const MAX_INPUTS = 2000;
const MAX_INPUT_BYTES = 32 * 1024 * 1024;
/** A failed install or plan is not tried again for this long (a registry back up, a fixed cache). */
const FAILURE_MEMORY_MS = 10 * 60_000;

/** A commit's files as its own toolchain lints them. */
export interface ToolchainPlan {
  files: { path: string; configId: string }[];
  /** Settings by settings id (what the runner reads to lint a file). */
  settings: Map<string, ToolchainSettings>;
  report: ReportToolchain;
  notes: string[];
}

export type ToolchainOutcome = { kind: "toolchain"; plan: ToolchainPlan } | { kind: "data"; notes: string[] };

interface Decision {
  configHash: string;
  notRun: string[];
}

interface Planned {
  eslintVersion: string;
  /** Every path planned under these inputs: its decision, or null when ESLint does not lint it. */
  paths: Map<string, Decision | null>;
}

export interface CommitToolchainsDeps {
  objects: Objects;
  config: FarmConfig;
  log?: Logger;
}

export class CommitToolchains {
  private readonly texts = new LRUCache<string, string>({ max: 256 });
  private readonly resolved = new LRUCache<string, { reads: Map<string, string | null>; spec: ToolchainSpec }[]>({ max: 64 });
  private readonly plans = new LRUCache<string, Planned>({ max: 64 });
  private readonly planning = new Map<string, Promise<unknown>>();
  private readonly failures = new LRUCache<string, { reason: string; at: number }>({ max: 256 });
  /**
   * Sandbox sessions: a config loaded once serves the plans of the next commits with the same toolchain and inputs.
   * Loaded, like the installer, at the first commit that names a toolchain: a splitter of other repositories never loads them.
   */
  private sandboxes?: Promise<SandboxPool>;

  constructor(private readonly deps: CommitToolchainsDeps) {}

  async close(): Promise<void> {
    if (this.sandboxes) await (await this.sandboxes).close();
  }

  /** The commit's toolchain plan, or why it is linted as data. Errors of the blob store pass through (the task is retried). */
  async of(tree: readonly ManifestEntry[], date: string): Promise<ToolchainOutcome> {
    const byPath = new Map(tree.filter((e) => isRegularFile(e.mode)).map((e) => [e.path, e]));
    let resolved: { reads: Map<string, string | null>; spec: ToolchainSpec };
    try {
      resolved = await this.resolve(byPath, date);
    } catch (err) {
      if (!isToolchainError(err)) throw err;
      return data(`the repository's toolchain could not be read (${(err as Error).message}): its config was read as data`);
    }
    const { spec } = resolved;
    if (Object.keys(spec.packages).length === 0) return { kind: "data", notes: [] };
    const known = this.failed(spec.id);
    if (known) return data(known, spec.notes);
    const { installToolchain } = await import("../../shared/toolchain/install.js");
    let toolchain: InstalledToolchain;
    try {
      toolchain = await installToolchain(spec, {
        cacheDir: this.deps.config.toolchainCacheDir,
        maxCacheBytes: this.deps.config.toolchainCacheMaxBytes,
        ...(this.deps.config.npmRegistry ? { registry: this.deps.config.npmRegistry } : {}),
        ...(this.deps.log ? { log: this.deps.log } : {}),
      });
    } catch (err) {
      return data(this.fail(spec.id, `the repository's toolchain (${describe(spec)}) could not be installed: ${(err as Error).message}`), spec.notes);
    }
    const inputs = await this.inputs(byPath, new Set(resolved.reads.keys()));
    if (typeof inputs === "string") return data(inputs, spec.notes);
    const planKey = settingsId({ spec, inputs, notRun: [] });
    const known2 = this.failed(planKey);
    if (known2) return data(known2, spec.notes);
    const candidates = [...byPath.keys()].filter((p) => !/(^|\/)node_modules\//.test(p) && byPath.get(p)!.size <= this.deps.config.maxFileSize);
    let planned: Planned;
    try {
      planned = await this.plan(planKey, toolchain, inputs, candidates);
    } catch (err) {
      if (!(err instanceof PlanFailure)) throw err;
      return data(this.fail(planKey, `the repository's toolchain (${describe(spec)}) did not run: ${err.message}`), spec.notes);
    }
    return { kind: "toolchain", plan: this.commitPlan(spec, toolchain, inputs, planned, candidates) };
  }

  private commitPlan(spec: ToolchainSpec, toolchain: InstalledToolchain, inputs: ToolchainInput[], planned: Planned, candidates: string[]): ToolchainPlan {
    const settings = new Map<string, ToolchainSettings>();
    const idOf = new Map<string, string>();
    const files: ToolchainPlan["files"] = [];
    const notRun = new Set<string>();
    for (const path of candidates) {
      const d = planned.paths.get(path);
      if (!d) continue;
      const key = d.notRun.join("\n");
      let id = idOf.get(key);
      if (id === undefined) {
        const s: ToolchainSettings = { kind: "toolchain", spec, inputs, notRun: d.notRun };
        id = settingsId(s);
        idOf.set(key, id);
        settings.set(id, s);
      }
      files.push({ path, configId: toolchainConfigId(id, d.configHash, path) });
      for (const r of d.notRun) notRun.add(r);
    }
    const notes = [...spec.notes];
    if (notRun.size > 0)
      notes.push(
        `not run (they read other files, installed dependencies or type information farm does not give the sandbox): ${[...notRun].sort().join(", ")}`,
      );
    const report: ReportToolchain = {
      id: spec.id,
      configFile: spec.configFile,
      format: spec.format,
      eslint: planned.eslintVersion,
      packages: toolchain.versions,
    };
    return { files, settings, report, notes };
  }

  /** resolveToolchain over the blob store, remembered by the blobs it read (and the root's paths, which decide the config file). */
  private async resolve(byPath: ReadonlyMap<string, ManifestEntry>, date: string) {
    const root = createHash("sha256")
      .update([...byPath.keys()].filter((p) => !p.includes("/")).join("\n"))
      .digest("hex");
    const candidates = this.resolved.get(root) ?? [];
    const hit = candidates.find((c) => [...c.reads].every(([p, blob]) => (byPath.get(p)?.blob ?? null) === blob));
    // The date matters only when some version is a range.
    if (hit && (hit.spec.before === undefined || hit.spec.before === new Date(Date.parse(date)).toISOString())) return hit;
    const reads = new Map<string, string | null>();
    const spec = await resolveToolchain({
      paths: [...byPath.keys()],
      date,
      read: async (p) => {
        const e = byPath.get(p);
        reads.set(p, e?.blob ?? null);
        return e ? this.text(e.blob) : null;
      },
    });
    const entry = { reads, spec };
    this.resolved.set(root, [entry, ...candidates].slice(0, 8));
    return entry;
  }

  private async inputs(byPath: ReadonlyMap<string, ManifestEntry>, read: ReadonlySet<string>): Promise<ToolchainInput[] | string> {
    const paths = [...byPath.keys()].filter((p) => isConfigInput(p, read)).sort();
    if (paths.length > MAX_INPUTS)
      return `the repository has ${paths.length} config files (more than ${MAX_INPUTS}): its toolchain was not run, its config was read as data`;
    let bytes = 0;
    for (const p of paths) bytes += byPath.get(p)!.size;
    if (bytes > MAX_INPUT_BYTES)
      return `the repository's config files take ${bytes} bytes (more than ${MAX_INPUT_BYTES}): its toolchain was not run, its config was read as data`;
    return mapLimit(paths, 16, async (p) => {
      const text = inputText(p, (await this.text(byPath.get(p)!.blob)) ?? "");
      return { path: p, hash: textHash(text), text };
    });
  }

  /** The decisions of every candidate under `planKey`: planned in the sandbox for the paths not planned yet, one run at a time per key. */
  private async plan(planKey: string, toolchain: InstalledToolchain, inputs: ToolchainInput[], candidates: string[]): Promise<Planned> {
    for (;;) {
      const running = this.planning.get(planKey);
      if (!running) break;
      await running.catch(() => {});
    }
    const planned = this.plans.get(planKey);
    const missing = planned ? candidates.filter((p) => !planned.paths.has(p)) : candidates;
    if (planned && missing.length === 0) return planned;
    const run = this.planRun(planKey, toolchain, inputs, missing).then((r) => {
      const next: Planned = planned ?? { eslintVersion: r.eslintVersion, paths: new Map() };
      for (const p of missing) next.paths.set(p, r.files.get(p) ?? null);
      this.plans.set(planKey, next);
      return next;
    });
    this.planning.set(planKey, run);
    try {
      return await run;
    } finally {
      this.planning.delete(planKey);
    }
  }

  private async planRun(planKey: string, toolchain: InstalledToolchain, inputs: ToolchainInput[], paths: string[]) {
    const files = inputs.map((i) => ({ path: i.path, data: i.text }));
    const run = {
      key: planKey,
      toolchain,
      files,
      placeholders: paths,
      paths,
      timeoutMs: this.deps.config.toolchainTimeoutSeconds * 1000,
      memoryMb: PLAN_MEMORY_MB,
    };
    this.sandboxes ??= import("../../shared/toolchain/sandbox-pool.js").then(({ SandboxPool }) => new SandboxPool({ maxIdle: 2 }));
    const result = await (await this.sandboxes).plan(run).catch((err: Error) => {
      throw new PlanFailure(err.message);
    });
    if (!result.ok || result.eslintVersion === undefined) throw new PlanFailure(result.reason ?? "the sandbox gave no reason");
    const wanted = new Set(paths);
    return {
      eslintVersion: result.eslintVersion,
      files: new Map(result.files.filter((f) => wanted.has(f.path)).map((f) => [f.path, { configHash: f.configHash, notRun: f.notRun }])),
    };
  }

  private async text(blob: string): Promise<string | null> {
    const hit = this.texts.get(blob);
    if (hit !== undefined) return hit;
    const data = await this.deps.objects.getBytes(objectNames.blob(blob));
    if (!data) return null;
    const text = Buffer.from(data).toString("utf8");
    this.texts.set(blob, text);
    return text;
  }

  private failed(key: string): string | null {
    const f = this.failures.get(key);
    return f && Date.now() - f.at < FAILURE_MEMORY_MS ? f.reason : null;
  }

  private fail(key: string, reason: string): string {
    this.failures.set(key, { reason, at: Date.now() });
    this.deps.log?.warn({ toolchain: key }, reason);
    return reason;
  }
}

class PlanFailure extends Error {}

function data(note: string, more: readonly string[] = []): ToolchainOutcome {
  return { kind: "data", notes: [...more, note] };
}

function describe(spec: ToolchainSpec): string {
  return Object.entries(spec.packages)
    .slice(0, 6)
    .map(([n, v]) => `${n}@${v}`)
    .join(", ");
}

/** Errors of reading the toolchain as data (a bad date): a note, not a retry. */
function isToolchainError(err: unknown): boolean {
  return (err as { code?: string }).code === PipelineErrorCodes.ToolchainUnresolved;
}
