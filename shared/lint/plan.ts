/**
 * Planning one commit: settings, then the effective config and config id of
 * every lintable path. The async planner works in slices, yielding to the
 * event loop between them, and gives the commit up once its own planning time
 * exceeds a budget: one hostile repository must never hold a service's only
 * thread (heartbeats, other repositories' commits, SIGTERM).
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import { LRUCache } from "lru-cache";
import { configOfShape, fileShape, shapeKey } from "./config.js";
import { configId } from "./config-id.js";
import { PlanBudgetError } from "./errors.js";
import { loadRepoSettings, settingsKey } from "./settings.js";
import type { RepoLintSettings, RepoSettingsInput } from "./settings.js";
import type { FileLintConfig } from "./types.js";
import { linterVersions } from "./versions.js";
import type { LinterVersions } from "./versions.js";

/** Default {@link PlanOptions.budgetMs}: 30 s of planning work for one commit. */
export const DEFAULT_PLAN_BUDGET_MS = 30_000;
/** Default {@link PlanOptions.sliceSize}: paths planned between two yields. */
export const DEFAULT_PLAN_SLICE = 1_000;

/** One lintable file of a commit with its effective config. */
export interface PlannedFile {
  path: string;
  config: FileLintConfig;
  configId: string;
}

export interface RepoLintPlan {
  settings: RepoLintSettings;
  /** Lintable, not ignored files, in tree order. */
  files: PlannedFile[];
  /** Distinct configs by id (few per repo: ship them once, refer to them by id). */
  configs: Map<string, FileLintConfig>;
}

export interface PlanOptions {
  versions?: LinterVersions;
  /**
   * Ms of this commit's own planning work (time in its slices, not time spent
   * waiting for the event loop) before it is given up with a PlanBudgetError
   * (permanent). Default {@link DEFAULT_PLAN_BUDGET_MS}.
   */
  budgetMs?: number;
  /** Paths planned between two yields to the event loop. Default {@link DEFAULT_PLAN_SLICE}. */
  sliceSize?: number;
  /** Stops planning (rejects with the signal's reason) between slices, e.g. at shutdown. */
  signal?: AbortSignal;
  /** Planners shared with earlier commits of the same settings. Default: none (plan every path). */
  cache?: PlanCache;
}

/** Paths' plans one planner keeps. */
const MAX_KEPT_PATHS = 100_000;

/**
 * One commit's settings applied to paths: configs are built and hashed once
 * per file shape, and a path's result is kept, so commits with the same
 * settings (see {@link PlanCache}) plan each path once.
 */
class Planner {
  /** Every config this planner gave a file, by id. */
  readonly configs = new Map<string, FileLintConfig>();
  private readonly byShape = new Map<string, { config: FileLintConfig; id: string } | null>();
  private readonly byPath = new Map<string, PlannedFile | null>();

  constructor(
    readonly settings: RepoLintSettings,
    private readonly versions: LinterVersions,
  ) {}

  /** The path's plan, or null when it is not linted (not a source, ignored). */
  fileOf(path: string): PlannedFile | null {
    let file = this.byPath.get(path);
    if (file === undefined) {
      file = this.planPath(path);
      // A huge tree (or history of trees) does not keep every path it ever had.
      if (this.byPath.size >= MAX_KEPT_PATHS) this.byPath.clear();
      this.byPath.set(path, file);
    }
    return file;
  }

  private planPath(path: string): PlannedFile | null {
    const shape = fileShape(path, this.settings);
    if (!shape) return null;
    const key = shapeKey(shape);
    let hit = this.byShape.get(key);
    if (!hit) {
      const config = configOfShape(shape, this.settings);
      const id = configId(config, this.versions);
      // Two shapes can give one config (e.g. overrides that set nothing): one object per id.
      hit = { config: this.configs.get(id) ?? config, id };
      this.configs.set(id, hit.config);
      this.byShape.set(key, hit);
    }
    return { path, config: hit.config, configId: hit.id };
  }
}

/**
 * Planners by settings key: a history's commits mostly share their
 * configuration files, so a path is planned once per configuration rather
 * than once per commit. Keeps the last `size` settings (default 8).
 */
export class PlanCache {
  private readonly planners: LRUCache<string, Planner>;

  constructor(size = 8) {
    this.planners = new LRUCache({ max: size });
  }

  /** The planner of `input`'s settings (loaded, and checked, only when new). Throws RepoConfigError. */
  planner(input: RepoSettingsInput, versions: LinterVersions): Planner {
    const key = `${settingsKey(input)}\0${JSON.stringify(versions)}`;
    let planner = this.planners.get(key);
    if (!planner) {
      planner = new Planner(loadRepoSettings(input), versions);
      this.planners.set(key, planner);
    }
    return planner;
  }
}

/**
 * Settings + effective config of every lintable file of one commit, in one
 * go (tools, tests, small trees). Throws RepoConfigError for invalid repo JSON.
 * Services use {@link planRepoLintAsync}.
 */
export function planRepoLint(input: RepoSettingsInput, versions: LinterVersions = linterVersions()): RepoLintPlan {
  const planner = new Planner(loadRepoSettings(input), versions);
  const files: PlannedFile[] = [];
  for (const path of input.paths) {
    const file = planner.fileOf(path);
    if (file) files.push(file);
  }
  return { settings: planner.settings, files, configs: configsOf(files) };
}

/** The distinct configs of `files`, by id. */
function configsOf(files: readonly PlannedFile[]): Map<string, FileLintConfig> {
  const configs = new Map<string, FileLintConfig>();
  for (const f of files) configs.set(f.configId, f.config);
  return configs;
}

/**
 * {@link planRepoLint} in slices of `sliceSize` paths with a yield to the
 * event loop after each, within a time budget. Throws RepoConfigError for
 * invalid repo JSON, PlanBudgetError when the budget is spent.
 */
export async function planRepoLintAsync(input: RepoSettingsInput, options: PlanOptions = {}): Promise<RepoLintPlan> {
  const budgetMs = options.budgetMs ?? DEFAULT_PLAN_BUDGET_MS;
  const slice = Math.max(1, options.sliceSize ?? DEFAULT_PLAN_SLICE);
  const { signal } = options;
  let spent = 0;
  const timed = <T>(fn: () => T): T => {
    const start = performance.now();
    try {
      return fn();
    } finally {
      spent += performance.now() - start;
    }
  };

  const versions = options.versions ?? linterVersions();
  const planner = timed(() => options.cache?.planner(input, versions) ?? new Planner(loadRepoSettings(input), versions));
  const { paths } = input;
  const files: PlannedFile[] = [];
  for (let i = 0; i < paths.length;) {
    signal?.throwIfAborted();
    const end = Math.min(paths.length, i + slice);
    timed(() => {
      for (; i < end; i++) {
        const file = planner.fileOf(paths[i]);
        if (file) files.push(file);
      }
    });
    if (spent > budgetMs) throw new PlanBudgetError(budgetMs, i, paths.length);
    if (i < paths.length) await nextTurn();
  }
  return { settings: planner.settings, files, configs: configsOf(files) };
}
