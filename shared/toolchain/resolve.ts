/**
 * A commit's lint toolchain, read as data from its tree (never run): the
 * config ESLint would load at the root, the packages it imports (found by
 * parsing) or names (eslintrc's extends, plugins, parsers), and their
 * versions — exact from the npm lockfile, else package.json's ranges,
 * resolved as the registry stood at the commit's date.
 */
import { parseConfigText } from "../lint/extends.js";
import { PACKAGE_JSON, Manifest } from "./manifest.js";
import { findConfigFile, type ConfigFile } from "./config-file.js";
import { ToolchainUnresolvedError } from "./errors.js";
import { scanEslintrc, scanEslintrcData, scanEslintrcModule } from "./eslintrc-packages.js";
import { flatCompatVisitor } from "./flat-compat.js";
import { scanImports } from "./imports.js";
import { resolveLimits, type ResolveOptions } from "./limits.js";
import { Lockfile } from "./lockfile.js";
import { Notes } from "./notes.js";
import { exactVersion } from "./package-name.js";
import { Scan } from "./scan.js";
import { toolchainId } from "./spec.js";
import { TreeFiles } from "./tree-files.js";
import type { CommitTree, ToolchainSpec } from "./types.js";

export type { ResolveOptions } from "./limits.js";

/** What ESLint needs to load a TypeScript config (ESLint ≥ 9.18). */
const TS_CONFIG_LOADER = "jiti";
/**
 * Packages a project installs for its linting, by name: what a config reaches
 * without naming it (eslintrc's `plugin:prettier/recommended` extends `prettier`,
 * an optional peer that npm does not install) is among them, and the tools plugins
 * run as peers at the project's own version (prettier for eslint-plugin-prettier,
 * typescript for typescript-eslint): unpinned, npm would install today's.
 */
const LINT_PACKAGE =
  /^(?:eslint|typescript-eslint|globals|jiti|prettier|typescript|@eslint\/.+|@typescript-eslint\/.+|eslint-(?:plugin|config|formatter)-.+|@[^/]+\/eslint-(?:plugin|config)(?:-.+)?|(?:@[^/]+\/)?[^/]*eslint-parser|@babel\/eslint-plugin)$/;

/** ESLint without a version anywhere in the commit: the newest at its date, before 9 for an eslintrc config (ESLint 9 ignores those). */
const UNVERSIONED_ESLINT = { flat: "*", eslintrc: "<9" } as const;

/**
 * The toolchain of the commit whose tree is `tree`. Bounded by `opts` (see
 * ResolveOptions); what it cannot read faithfully is said in `notes`. Throws
 * ToolchainUnresolvedError only when some version is a range and the commit's
 * date is not a date; errors of `tree.read` itself are the caller's and pass through.
 */
export async function resolveToolchain(tree: CommitTree, opts: ResolveOptions = {}): Promise<ToolchainSpec> {
  const limits = resolveLimits(opts);
  const notes = new Notes(limits.maxNotes);
  const files = new TreeFiles(tree, limits.maxFileBytes, notes);
  const manifest = await Manifest.read(files, notes);
  const config = findConfigFile(files, manifest);
  if (config === null && manifest.spec("eslint") === undefined) {
    notes.add("no ESLint config at the root and no eslint in package.json: no toolchain (data-only linting)");
    return { id: toolchainId({}), configFile: null, format: null, packages: {}, notes: notes.list() };
  }
  if (config === null) notes.add("no ESLint config at the root: eslint is a dependency of package.json only");
  const lock = await Lockfile.read(files, limits.maxLockfileBytes, notes, tree.date);

  const scan = new Scan(files, limits, notes);
  scan.name("eslint", config?.file ?? PACKAGE_JSON, "named");
  if (config !== null) await scanConfig(scan, config, manifest, lock);
  // After the config's own: the packages package.json installs for linting, which the config may reach unnamed.
  for (const name of manifest.dependencyNames()) if (LINT_PACKAGE.test(name)) scan.name(name, PACKAGE_JSON, "named");

  const packages: Record<string, string> = {};
  let ranged = false;
  for (const [name, { file, how }] of scan.packages) {
    if (Object.keys(packages).length >= limits.maxPackages) {
      notes.add(`more than ${limits.maxPackages} packages named by the config: the rest left out`);
      break;
    }
    const locked = lock.version(name);
    let spec = locked ?? manifest.registrySpec(name, notes);
    if (spec === undefined && name === "eslint") {
      spec = UNVERSIONED_ESLINT[config?.format ?? "flat"];
      notes.add(`eslint is not in ${PACKAGE_JSON}${lock.file ? ` nor ${lock.file}` : ""}: "${spec}" as of the commit's date`);
    }
    if (spec === undefined) {
      notes.add(`${name} is ${how} by ${file} but not in ${PACKAGE_JSON}`);
      continue;
    }
    const exact = locked ?? exactVersion(spec);
    packages[name] = exact ?? spec;
    if (exact === null) ranged = true;
  }
  const sorted = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a < b ? -1 : 1)));
  const before = ranged ? commitDate(tree.date) : undefined;
  return {
    id: toolchainId(sorted, before),
    configFile: config?.file ?? null,
    format: config?.format ?? null,
    packages: sorted,
    ...(before === undefined ? {} : { before }),
    notes: notes.list(),
  };
}

/** Adds to `scan` the packages the config file imports or names. */
async function scanConfig(scan: Scan, config: ConfigFile, manifest: Manifest, lock: Lockfile): Promise<void> {
  const { file, format } = config;
  if (format === "flat") {
    await scanImports(scan, file, 0, flatCompatVisitor(scan));
    if (/\.[cm]?ts$/.test(file)) {
      if (manifest.spec(TS_CONFIG_LOADER) !== undefined || lock.version(TS_CONFIG_LOADER) !== undefined) scan.name(TS_CONFIG_LOADER, file, "named");
      else scan.notes.add(`${file} is TypeScript: ESLint loads it with ${TS_CONFIG_LOADER}, which is not in ${PACKAGE_JSON}`);
    }
    return;
  }
  if (/\.c?js$/.test(file)) return scanEslintrcModule(scan, file);
  if (file === PACKAGE_JSON) return scanEslintrc(scan, manifest.eslintConfig, file);
  return scanEslintrcData(scan, file, parseConfigText);
}

/** The commit's date as an ISO instant (one text per instant, whatever the input's zone). */
function commitDate(date: string): string {
  const ms = Date.parse(date);
  if (Number.isNaN(ms)) throw new ToolchainUnresolvedError(`the commit's date "${date.slice(0, 60)}" is not a date: its ranges cannot be resolved`);
  return new Date(ms).toISOString();
}
