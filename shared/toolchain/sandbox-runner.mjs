// The program that runs inside the sandbox (issue 25): plain JavaScript that Node runs as is,
// shipped beside the launcher (sandbox.ts). It reads requests as JSON lines on stdin (never argv),
// loads the toolchain's OWN ESLint once, lints as `eslint <paths>` would from each request's work
// dir, and prints one JSON line (a SandboxResult, with the request's id) per request on stdout; it
// exits when stdin ends. One request and the end: a one-shot run; more: a session (sandbox-pool.ts),
// which keeps the loaded plugins for the next batch of the same toolchain and config inputs.
// Everything the repository's code prints goes to stderr, so it cannot interleave with the replies.
// Mode "plan" lints nothing: it says which of `paths` `eslint .` would lint, each with its
// effective config's hash and the rules of that config that are not run (a PlanResult).
//
// Request: { id?, mode: "lint" | "plan", nodeModules, cwd, scratch, paths, format: "flat" | "eslintrc" | null,
//            memoryMb, notRun: string[] }
import { createHash } from "node:crypto";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import readline from "node:readline";
import { pathToFileURL } from "node:url";

/**
 * Rules whose result depends on more than the file and the config inputs the sandbox holds:
 * other files of the tree, the repository's installed dependencies, package.json fields the
 * inputs leave out. Named by rule (any of the plugin names they are known by).
 */
const TREE_READING = new Set([
  ...["n", "node"].flatMap((p) =>
    [
      "no-missing-require",
      "no-missing-import",
      "no-extraneous-require",
      "no-extraneous-import",
      "no-unpublished-require",
      "no-unpublished-import",
      "no-unpublished-bin",
      "file-extension-in-import",
      "no-hide-core-modules",
    ].map((r) => `${p}/${r}`),
  ),
  ...["import", "import-x"].flatMap((p) =>
    [
      "no-unresolved",
      "named",
      "namespace",
      "default",
      "export",
      "no-named-as-default",
      "no-named-as-default-member",
      "no-deprecated",
      "no-extraneous-dependencies",
      "no-cycle",
      "no-unused-modules",
      "no-relative-packages",
      "no-relative-parent-imports",
      "no-useless-path-segments",
      "no-restricted-paths",
      "no-internal-modules",
      "no-self-import",
      "no-import-module-exports",
      "extensions",
      "order",
    ].map((r) => `${p}/${r}`),
  ),
]);
const UNUSED_DIRECTIVE = /^Unused eslint-disable directive \(no problems were reported from '([^']+)'\)/;

/** ESLint's warning for a path given explicitly but ignored by the config: `eslint <paths>` noise, not a finding. */
const IGNORED = /^File ignored\b/;
/** A failed allocation the heap limit or the address-space limit refused. */
const OUT_OF_MEMORY = /allocation failed|out of memory|Invalid (typed )?array length/i;

// The repository's code may log; stdout carries only the replies (a write straight to fd 1 is caught
// by the launcher: a line that is not the awaited reply ends the run). process.stdout is first touched
// by the first reply: before, fd 1 stays a blocking pipe, so a flood is a flood, not an EAGAIN.
for (const name of ["log", "info", "debug"]) console[name] = console.error;
// A plugin's stray async failure must not crash the run before it reports.
process.on("uncaughtException", (e) => console.error("uncaught:", e?.message ?? e));
process.on("unhandledRejection", (e) => console.error("unhandled rejection:", e?.message ?? e));

function reply(result) {
  return new Promise((resolve) => process.stdout.write(`${JSON.stringify(result)}\n`, resolve));
}

function firstLine(text) {
  return String(text).split("\n", 1)[0].slice(0, 500);
}

function trimMessage(m) {
  const out = { ruleId: m.ruleId ?? null, severity: m.severity === 2 ? 2 : 1, message: String(m.message) };
  for (const key of ["line", "column", "endLine", "endColumn"]) if (typeof m[key] === "number") out[key] = m[key];
  if (m.fatal) out.fatal = true;
  return out;
}

function onlyIgnoredWarning(result) {
  const [m, more] = result.messages;
  return m !== undefined && more === undefined && m.ruleId == null && m.severity === 1 && IGNORED.test(m.message);
}

/** The ESLint class the config system needs, for ESLint 8 (eslintrc or flat), 9 (either) and 10 (flat). */
async function eslintClass(api, requireFromToolchain, major, flat) {
  if (typeof api.loadESLint === "function") return api.loadESLint({ useFlatConfig: flat });
  if (!flat) return api.ESLint;
  if (major >= 9) return api.ESLint;
  return requireFromToolchain("eslint/use-at-your-own-risk").FlatESLint;
}

const rel = (cwd, file) => path.relative(cwd, file).split(path.sep).join("/");

async function lint({ req, ESLint, options, flat }) {
  const notRun = new Set(req.notRun ?? []);
  const eslint = new ESLint(options);
  const overrides = [];
  if (notRun.size > 0) overrides.push({ rules: Object.fromEntries([...notRun].map((r) => [r, "off"])) });
  // Type information needs the whole program (tsconfig, every file, installed types): its rules are
  // not run, and a parser asked for a program would fail without it.
  if (flat) {
    const typed = new Set();
    // Per file: a config's type-aware parser options are found by file (a directory has no config of its own).
    for (const p of req.paths.filter((q) => isFile(path.resolve(req.cwd, q)))) {
      if (wantsTypes((await eslint.calculateConfigForFile(p))?.languageOptions?.parserOptions)) typed.add(path.resolve(req.cwd, p));
    }
    if (typed.size > 0) overrides.push({ files: [(f) => typed.has(f)], languageOptions: { parserOptions: NO_TYPES } });
  } else overrides.push({ parserOptions: NO_TYPES });
  const linter = overrides.length === 0 ? eslint : new ESLint({ ...options, overrideConfig: flat ? overrides : merge(overrides) });
  const results = await linter.lintFiles([...req.paths]);
  const kept = (m) => !(m.ruleId == null && notRun.has(UNUSED_DIRECTIVE.exec(m.message)?.[1]));
  return results.filter((r) => !onlyIgnoredWarning(r)).map((r) => ({ path: rel(req.cwd, r.filePath), messages: r.messages.filter(kept).map(trimMessage) }));
}

const isFile = (file) => fs.statSync(file, { throwIfNoEntry: false })?.isFile() === true;
const NO_TYPES = { project: null, projectService: false, programs: null };
const wantsTypes = (o) => Boolean(o && (o.project || o.projectService || o.programs || o.EXPERIMENTAL_useProjectService));
const merge = (objects) => objects.reduce((a, b) => ({ ...a, ...b }), {});

/** The files `eslint .` lints among req.paths, each with its config's hash and what of it is not run. */
async function plan({ req, ESLint, options, flat, requireFromToolchain }) {
  const eslint = new ESLint(options);
  const out = [];
  const add = (p, config, ruleOf) => out.push({ path: p, configHash: configHash(config, flat), notRun: notRunOf(config, ruleOf) });
  if (flat) {
    for (const p of req.paths) {
      const config = await eslint.calculateConfigForFile(p);
      if (config) add(p, config, (id) => flatRule(config, id));
    }
    return out;
  }
  // eslintrc: which files `eslint .` walks to (extensions, overrides' patterns, ignores) is its file enumerator's.
  const wanted = new Set(req.paths);
  const { FileEnumerator } = unsupportedApi(requireFromToolchain);
  const enumerator = new FileEnumerator({ cwd: req.cwd, errorOnUnmatchedPattern: false });
  for (const { config: array, filePath, ignored } of enumerator.iterateFiles(["."])) {
    const p = rel(req.cwd, filePath);
    if (ignored || !wanted.has(p)) continue;
    add(p, await eslint.calculateConfigForFile(p), (id) => array.pluginRules?.get(id));
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

function unsupportedApi(requireFromToolchain) {
  try {
    return requireFromToolchain("eslint/use-at-your-own-risk");
  } catch {
    return requireFromToolchain("eslint/lib/cli-engine/file-enumerator"); // ESLint 7: no exports map
  }
}

function flatRule(config, id) {
  const slash = id.lastIndexOf("/");
  if (slash < 0) return undefined;
  return config.plugins?.[id.slice(0, slash)]?.rules?.[id.slice(slash + 1)];
}

const severityOf = (entry) => {
  const s = Array.isArray(entry) ? entry[0] : entry;
  return s === "off" || s === 0 ? 0 : s === "warn" || s === 1 ? 1 : 2;
};

function notRunOf(config, ruleOf) {
  const out = [];
  for (const [id, entry] of Object.entries(config.rules ?? {})) {
    if (severityOf(entry) === 0) continue;
    if (TREE_READING.has(id) || ruleOf(id)?.meta?.docs?.requiresTypeChecking === true) out.push(id);
  }
  return out.sort();
}

/**
 * A stable hash of an effective config: rules that are off left out (an override that turns off a
 * rule nothing enables changes nothing), plugins by name (their code is pinned by the toolchain id),
 * parsers and processors by name and version or, without a meta, by the source of their functions.
 */
function configHash(config, flat) {
  const { plugins, rules, ...rest } = config;
  const on = {};
  for (const [id, entry] of Object.entries(rules ?? {})) {
    if (severityOf(entry) === 0) continue;
    on[id] = [severityOf(entry), ...(Array.isArray(entry) ? entry.slice(1) : [])];
  }
  const pluginNames = flat ? Object.keys(plugins ?? {}).sort() : [...(plugins ?? [])].sort();
  const doc = stable({ ...rest, plugins: pluginNames, rules: on }, new Set(), 0);
  return createHash("sha256").update(JSON.stringify(doc)).digest("hex");
}

function stable(value, seen, depth) {
  if (typeof value === "function") return `fn:${createHash("sha256").update(String(value)).digest("hex").slice(0, 16)}`;
  if (value === undefined) return null;
  if (value === null || typeof value !== "object") return value;
  if (value instanceof RegExp) return `re:${String(value)}`;
  const meta = value.meta;
  if (meta && typeof meta.name === "string") return `${meta.name}@${meta.version ?? ""}`;
  if (seen.has(value) || depth > 16) return "[seen]";
  seen.add(value);
  let out;
  if (Array.isArray(value)) out = value.map((v) => stable(v, seen, depth + 1));
  else {
    out = {};
    for (const k of Object.keys(value).sort()) out[k] = stable(value[k], seen, depth + 1);
  }
  seen.delete(value);
  return out;
}

/** The ESLint module of the toolchain, imported once per process. */
let eslintModule;

async function handle(req) {
  const requireFromToolchain = createRequire(path.join(req.nodeModules, "..", "noop.js"));
  let version;
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(req.nodeModules, "eslint", "package.json"), "utf8"));
    version = String(pkg.version);
  } catch (e) {
    return { ok: false, files: [], reason: `the toolchain has no ESLint (${firstLine(e.message)})` };
  }
  const major = Number(version.split(".")[0]);
  const flat = req.format ? req.format === "flat" : major >= 9;
  if (major < 7) return { ok: false, eslintVersion: version, files: [], reason: `ESLint ${version} is not supported (7 or later)` };
  if (!flat && major >= 10) return { ok: false, eslintVersion: version, files: [], reason: `ESLint ${version} cannot read eslintrc configs` };
  try {
    eslintModule ??= await import(pathToFileURL(requireFromToolchain.resolve("eslint")).href);
    const ESLint = await eslintClass(eslintModule.default ?? eslintModule, requireFromToolchain, major, flat);
    // Without a cache, ESLint 8 still deletes the cache file, in cwd unless told: point it at the scratch.
    const common = { cwd: req.cwd, errorOnUnmatchedPattern: false, cacheLocation: path.join(req.scratch, ".eslintcache") };
    const options = flat ? common : { ...common, useEslintrc: true };
    const run = { req, ESLint, options, flat, requireFromToolchain };
    const files = req.mode === "plan" ? await plan(run) : await lint(run);
    return { ok: true, eslintVersion: version, files };
  } catch (e) {
    console.error(e); // the whole story for whoever reads the stderr
    const message = firstLine(e?.message ?? e);
    const reason = OUT_OF_MEMORY.test(message) ? `ran out of memory (${req.memoryMb} MiB): ${message}` : `ESLint failed: ${message}`;
    return { ok: false, eslintVersion: version, files: [], reason };
  }
}

async function main() {
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === "") continue;
    let req;
    try {
      req = JSON.parse(line);
    } catch {
      await reply({ ok: false, files: [], reason: "the request is not JSON" });
      continue;
    }
    const result = await handle(req);
    await reply(typeof req.id === "string" ? { ...result, id: req.id } : result);
  }
  process.exit(0);
}

await main();
