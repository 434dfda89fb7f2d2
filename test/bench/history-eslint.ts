/**
 * The ESLint side of the history benchmark:
 * - which files of each commit farm lints, decided by farm's own code
 *   (shared/lint/lintable.ts, planRepoLint, the runner's binary/minified checks);
 * - an eslint.config.mjs equivalent to farm's default config
 *   (shared/lint/engine.ts eslintConfigFor) whose ignores skip exactly what farm
 *   skips, so `eslint .` lints the same files with the same settings;
 * - runs (a) `eslint .` per commit and (b) the same with a content cache and
 *   `--concurrency auto`, on a private checkout of each commit.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { loadConfig } from "../../shared/runtime/config.js";
import { firstParentHistory, listTree, readBlobs } from "../../shared/git/index.js";
import { isBinary, isLintable, looksMinified } from "../../shared/lint/lintable.js";
import { LINTABLE_EXTENSIONS, planRepoLint, repoConfigPaths, type FileLintConfig } from "../../shared/lint/index.js";
import { git, log, PROJECT_ROOT, run } from "./history-util.js";

export interface FileVersion {
  path: string;
  blob: string;
  configId: string;
}

export interface CommitPlan {
  sha: string;
  date: string;
  subject: string;
  /** The files farm lints and counts in the report summary. */
  files: FileVersion[];
  /** Paths with a lintable extension that farm does not lint (size cap, symlink, binary, minified, .farm.json ignores). */
  skipped: string[];
  /** package.json "type" by directory ("" = root). */
  packageTypes: [string, string | undefined][];
  /** Repo lint settings farm honours but this benchmark's ESLint config does not mirror. */
  unmirrored: string[];
}

export interface HistoryPlan {
  gitDir: string;
  head: string;
  /** Oldest first. */
  commits: CommitPlan[];
  configs: Map<string, FileLintConfig>;
  /** Distinct (blob, config id) → a path it appears under. */
  distinct: Map<string, FileVersion>;
  fileVersions: number;
  /** Distinct blobs of lintable paths whose content farm skips (binary / minified). */
  contentSkipped: number;
}

export const keyOf = (f: { blob: string; configId: string }) => `${f.blob}.${f.configId}`;

const VENDORED_DIRS = ["node_modules", "bower_components", "vendor", "vendors", "third_party", "jspm_packages"];
const VENDORED = new RegExp(`(^|/)(${VENDORED_DIRS.join("|")})/`);

function hasLintableExt(p: string): boolean {
  const dot = p.lastIndexOf(".");
  return dot > p.lastIndexOf("/") && LINTABLE_EXTENSIONS.includes(p.slice(dot).toLowerCase());
}

/**
 * What farm lints in the last `n` first-parent commits up to `head`, worked
 * out with farm's own functions (no NATS involved).
 */
export async function planHistory(gitDir: string, head: string, n: number): Promise<HistoryPlan> {
  const maxFileSize = loadConfig(process.env).maxFileSize;
  const history = (await firstParentHistory(gitDir, head, n - 1)).reverse();
  const configTexts = new Map<string, string>();
  const configs = new Map<string, FileLintConfig>();
  const candidates: {
    info: (typeof history)[number];
    files: FileVersion[];
    lintableExtPaths: string[];
    types: [string, string | undefined][];
    unmirrored: string[];
  }[] = [];
  for (const c of history) {
    const tree = await listTree(gitDir, c.sha);
    const paths = tree.map((e) => e.path);
    const cfgPaths = new Set(repoConfigPaths(paths));
    const cfgEntries = tree.filter((e) => cfgPaths.has(e.path));
    const missing = [...new Set(cfgEntries.map((e) => e.blob).filter((b) => !configTexts.has(b)))];
    for await (const [blob, data] of readBlobs(gitDir, missing)) configTexts.set(blob, data.toString("utf8"));
    const plan = planRepoLint({ paths, contents: new Map(cfgEntries.map((e) => [e.path, configTexts.get(e.blob)!])) });
    for (const [id, cfg] of plan.configs) configs.set(id, cfg);
    const byPath = new Map(tree.map((e) => [e.path, e]));
    // Same filter as the splitter: planned (extension, .farm.json ignores) and isLintable (mode, size, vendored, minified name).
    const files = plan.files
      .filter((f) => isLintable(byPath.get(f.path)!, maxFileSize))
      .map((f) => ({ path: f.path, blob: byPath.get(f.path)!.blob, configId: f.configId }));
    const unmirrored = paths.filter((p) => p === ".farm.json" || (path.posix.basename(p) === ".jshintrc" && !VENDORED.test(p)));
    candidates.push({
      info: c,
      files,
      lintableExtPaths: paths.filter(hasLintableExt),
      types: [...plan.settings.packageTypes].filter(([dir]) => !VENDORED.test(`${dir}/`)),
      unmirrored,
    });
  }
  // The runner's content checks, once per distinct blob.
  const blobs = new Set(candidates.flatMap((c) => c.files.map((f) => f.blob)));
  const skipBlob = new Set<string>();
  const utf8 = new TextDecoder();
  for await (const [blob, data] of readBlobs(gitDir, blobs)) {
    if (isBinary(data) || looksMinified(utf8.decode(data))) skipBlob.add(blob);
  }
  const distinct = new Map<string, FileVersion>();
  let fileVersions = 0;
  const commits: CommitPlan[] = candidates.map((c) => {
    const files = c.files.filter((f) => !skipBlob.has(f.blob));
    const linted = new Set(files.map((f) => f.path));
    for (const f of files) if (!distinct.has(keyOf(f))) distinct.set(keyOf(f), f);
    fileVersions += files.length;
    return {
      sha: c.info.sha,
      date: c.info.authorDate,
      subject: c.info.subject,
      files,
      skipped: c.lintableExtPaths.filter((p) => !linted.has(p) && !VENDORED.test(p)),
      packageTypes: c.types,
      unmirrored: c.unmirrored,
    };
  });
  return { gitDir, head, commits, configs, distinct, fileVersions, contentSkipped: skipBlob.size };
}

// ---------------------------------------------------------------- the equivalent ESLint config

/** Escapes minimatch syntax so a repo path matches only itself. */
function globEscape(p: string): string {
  return p.replace(/[\\*?[\]{}()!+@]/g, "\\$&");
}

const LINT_FILES = LINTABLE_EXTENSIONS.map((ext) => `**/*${ext}`);
const TS_FILES = ["**/*.ts", "**/*.tsx", "**/*.mts", "**/*.cts"];

/**
 * farm's default config (eslintConfigFor) for a whole checkout: sourceType from
 * each directory's nearest package.json, .mjs/.cjs fixed, JSX for .jsx/.tsx,
 * typescript-eslint recommended for TS files only — in the same block order
 * as farm, so typescript-eslint's base block wins for TS files as it does in
 * farm. Ignores: the vendored directories farm skips plus this commit's
 * lintable-extension files that farm skips (size cap, symlinks, minified,
 * binary). ESLint's own default ignores (node_modules, .git) stay on.
 */
export function eslintConfigSource(c: CommitPlan): string {
  const url = (spec: string) => JSON.stringify(import.meta.resolve(spec));
  const rootType = c.packageTypes.find(([dir]) => dir === "")?.[1] === "module" ? "module" : "commonjs";
  const nested = c.packageTypes
    .filter(([dir]) => dir !== "")
    .sort((a, b) => a[0].split("/").length - b[0].split("/").length || a[0].localeCompare(b[0]))
    .map(([dir, type]) => {
      const files = [".js", ".jsx", ".ts", ".tsx"].map((ext) => `${globEscape(dir)}/**/*${ext}`);
      return `  { files: ${JSON.stringify(files)}, languageOptions: { sourceType: ${JSON.stringify(type === "module" ? "module" : "commonjs")} } },`;
    });
  const ignores = [...VENDORED_DIRS.map((d) => `**/${d}/`), ...c.skipped.map(globEscape)];
  return `// Generated by test/bench/history.ts for commit ${c.sha}:
// farm's default ESLint config (shared/lint/engine.ts eslintConfigFor) for \`eslint .\`.
import js from ${url("@eslint/js")};
import globals from ${url("globals")};
import tseslint from ${url("typescript-eslint")};

export default [
  { ignores: ${JSON.stringify(ignores)} },
  js.configs.recommended,
  { files: ${JSON.stringify(LINT_FILES)}, languageOptions: { ecmaVersion: "latest", sourceType: ${JSON.stringify(rootType)}, globals: globals.node } },
  { files: ["**/*.jsx", "**/*.tsx"], languageOptions: { parserOptions: { ecmaFeatures: { jsx: true } } } },
${nested.join("\n")}
  { files: ["**/*.mjs", "**/*.mts"], languageOptions: { sourceType: "module" } },
  { files: ["**/*.cjs", "**/*.cts"], languageOptions: { sourceType: "commonjs" } },
  ...tseslint.configs.recommended.map((block) => ({ ...block, files: ${JSON.stringify(TS_FILES)} })),
];
`;
}

// ---------------------------------------------------------------- (a) and (b)

export interface CommitCounts {
  files: number;
  errors: number;
  warnings: number;
  /** path → errors + warnings (for diagnosing a mismatch). */
  perFile: Map<string, number>;
}

export interface EslintRun {
  mode: "plain" | "cache";
  /** Sum of the eslint processes' wall times. */
  eslintMs: number;
  /** Sum of the checkout times (not part of eslintMs). */
  checkoutMs: number;
  perCommit: Map<string, CommitCounts>;
}

interface EslintJsonResult {
  filePath: string;
  errorCount: number;
  warningCount: number;
  messages: unknown[];
}

const ESLINT_BIN = path.join(PROJECT_ROOT, "node_modules/eslint/bin/eslint.js");

/**
 * Checks out each commit (oldest first) into a private work tree with a
 * private index — the cached repo's HEAD and index are never touched — and
 * runs `eslint .` there. Only the eslint process is timed.
 */
export async function runEslintHistory(plan: HistoryPlan, workDir: string, mode: "plain" | "cache"): Promise<EslintRun> {
  const dir = path.join(workDir, `eslint-${mode}`);
  rmSync(dir, { recursive: true, force: true });
  const checkout = path.join(dir, "checkout");
  const cfgDir = path.join(dir, "config");
  mkdirSync(checkout, { recursive: true });
  mkdirSync(cfgDir, { recursive: true });
  const cfg = path.join(cfgDir, "eslint.config.mjs");
  const out = path.join(dir, "out.json");
  const cache = path.join(dir, "eslintcache");
  const env = { ...process.env, GIT_INDEX_FILE: path.join(dir, "index") };
  const args = [ESLINT_BIN, ".", "--config", cfg, "--format", "json", "--output-file", out, "--no-error-on-unmatched-pattern"];
  if (mode === "cache") args.push("--cache", "--cache-strategy", "content", "--cache-location", cache, "--concurrency", "auto");
  const result: EslintRun = { mode, eslintMs: 0, checkoutMs: 0, perCommit: new Map() };
  let lastCfg = "";
  for (const [i, c] of plan.commits.entries()) {
    const t0 = performance.now();
    await git(plan.gitDir, [`--work-tree=${checkout}`, "read-tree", "--reset", "-u", c.sha], { env });
    const src = eslintConfigSource(c);
    if (src !== lastCfg) writeFileSync(cfg, (lastCfg = src));
    rmSync(out, { force: true });
    result.checkoutMs += performance.now() - t0;
    const r = await run(process.execPath, args, { cwd: checkout, okCodes: [0, 1], stdio: ["ignore", "pipe", "pipe"] });
    result.eslintMs += r.wallMs;
    const results = JSON.parse(readFileSync(out, "utf8")) as EslintJsonResult[];
    const counts: CommitCounts = { files: results.length, errors: 0, warnings: 0, perFile: new Map() };
    for (const f of results) {
      counts.errors += f.errorCount;
      counts.warnings += f.warningCount;
      counts.perFile.set(path.relative(checkout, f.filePath).split(path.sep).join("/"), f.errorCount + f.warningCount);
    }
    result.perCommit.set(c.sha, counts);
    if ((i + 1) % 25 === 0) log(`eslint ${mode}: ${i + 1}/${plan.commits.length} commits, ${(result.eslintMs / 1000).toFixed(0)} s so far`);
  }
  return result;
}

/** The generated config of the newest commit, for people who want to look at it. */
export function writeSampleConfig(plan: HistoryPlan, file: string): void {
  writeFileSync(file, eslintConfigSource(plan.commits.at(-1)!));
}
