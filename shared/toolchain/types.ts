/**
 * A commit's lint toolchain (issue 25): what its maintainers run to lint it,
 * read from the commit's tree as data (resolve), installed without scripts into
 * a content-addressed cache (install), and run only inside a sandbox (sandbox).
 * These types are the seams between the three.
 */

/** Which configuration system the commit's ESLint uses. */
export type ConfigFormat = "flat" | "eslintrc";

/** What the resolver may read of one commit (root-relative paths, as git lists them). */
export interface CommitTree {
  /** Every path of the commit's tree. */
  readonly paths: readonly string[];
  /** A file's text, or null when the path is absent (or not a regular file). */
  read(path: string): Promise<string | null>;
  /** The commit's date (ISO 8601): without a lockfile, ranges resolve as the registry stood then. */
  readonly date: string;
}

/**
 * The lint toolchain of a commit: ESLint plus every package its config needs.
 * Content-addressed: two commits (of any branch or repository) with the same
 * spec share one install.
 */
export interface ToolchainSpec {
  /** sha256 (hex, first 32) of the canonical JSON of `packages` and `before`: the install's cache key. */
  id: string;
  /** The config file at the root that ESLint would load (`eslint.config.cjs`, `.eslintrc.yml`, `package.json`), or null. */
  configFile: string | null;
  format: ConfigFormat | null;
  /**
   * Packages to install at the top level, name → version: exact versions when a
   * lockfile pins them, else package.json's ranges (resolved with `before`).
   * Always has `eslint` when the repository lints with ESLint.
   */
  packages: Record<string, string>;
  /** Set when some version is a range: resolve as the registry stood at this date (npm's `--before`). */
  before?: string;
  /** What could not be read faithfully (e.g. "yarn.lock is not read: ranges of package.json resolved as of <date>"). */
  notes: string[];
}

/** An installed toolchain: its spec and where its `node_modules` is (read-only to the sandbox). */
export interface InstalledToolchain {
  spec: ToolchainSpec;
  /** Directory that holds `node_modules/` (and the package.json written for the install). */
  dir: string;
  /** Versions actually installed of the top-level packages (name → exact version). */
  versions: Record<string, string>;
}

/** One lint run in the sandbox: the toolchain's own ESLint over files materialised in `workDir`. */
export interface SandboxRequest {
  toolchain: InstalledToolchain;
  /** A scratch directory holding the commit's files to lint and its config files (written by the caller). */
  workDir: string;
  /** Root-relative paths to lint; ESLint's own `files`/`ignores` decide, as `eslint <paths>` would. */
  paths: readonly string[];
  /** Wall-clock limit for the whole run, ms. */
  timeoutMs: number;
  /** Heap limit of the sandboxed process, MiB. */
  memoryMb: number;
  /** Rules turned off (what a plan named as reading more than the file); their unused-disable warnings are dropped too. */
  notRun?: readonly string[];
}

/** Which of a commit's files its ESLint lints and with which effective config, asked in the sandbox without linting. */
export interface PlanRequest {
  toolchain: InstalledToolchain;
  /** The commit's config inputs with their content, and every candidate path (an empty file when not an input). */
  workDir: string;
  /** Candidate paths (root-relative); the plan keeps those that `eslint .` would lint. */
  paths: readonly string[];
  timeoutMs: number;
  memoryMb: number;
}

/** One file `eslint .` would lint: its effective config's hash and the rules of that config that are not run. */
export interface PlannedFile {
  path: string;
  /** sha256 (hex) of the effective config as this toolchain computes it (rules that are off left out). */
  configHash: string;
  /** Enabled rules that read other files, installed dependencies or type information (sorted). */
  notRun: string[];
}

export interface PlanResult {
  ok: boolean;
  eslintVersion?: string;
  files: PlannedFile[];
  reason?: string;
}

/** One file's messages as the sandboxed ESLint reports them (its `LintResult`, trimmed). */
export interface SandboxFileResult {
  path: string;
  messages: {
    ruleId: string | null;
    severity: 1 | 2;
    line?: number;
    column?: number;
    endLine?: number;
    endColumn?: number;
    message: string;
    fatal?: boolean;
  }[];
}

export interface SandboxResult {
  ok: boolean;
  /** ESLint's version as the sandbox loaded it. */
  eslintVersion?: string;
  files: SandboxFileResult[];
  /** Why the run failed or was killed (time, memory, a refused access), in words a report can carry. */
  reason?: string;
}
