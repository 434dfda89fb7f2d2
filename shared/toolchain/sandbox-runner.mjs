// The program that runs inside the sandbox (issue 25): plain JavaScript that Node runs as is,
// shipped beside the launcher (sandbox.ts). It reads its request as JSON on stdin (never argv),
// loads the toolchain's OWN ESLint, lints as `eslint <paths>` would from the work dir, and
// prints one JSON document (a SandboxResult) on stdout. Everything the repository's code
// prints goes to stderr, so it cannot interleave with that document.
//
// Request: { nodeModules, cwd, scratch, paths, format: "flat" | "eslintrc" | null, memoryMb }
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

/** ESLint's warning for a path given explicitly but ignored by the config: `eslint <paths>` noise, not a finding. */
const IGNORED = /^File ignored\b/;
/** A failed allocation the heap limit or the address-space limit refused. */
const OUT_OF_MEMORY = /allocation failed|out of memory|Invalid (typed )?array length/i;

// The repository's code may log; stdout carries only the result.
for (const name of ["log", "info", "debug"]) console[name] = console.error;
// A plugin's stray async failure must not crash the run before it reports.
process.on("uncaughtException", (e) => console.error("uncaught:", e?.message ?? e));
process.on("unhandledRejection", (e) => console.error("unhandled rejection:", e?.message ?? e));

function reply(result) {
  process.stdout.write(JSON.stringify(result), () => process.exit(0));
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

async function main() {
  const req = JSON.parse(fs.readFileSync(0, "utf8"));
  const requireFromToolchain = createRequire(path.join(req.nodeModules, "..", "noop.js"));
  let version;
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(req.nodeModules, "eslint", "package.json"), "utf8"));
    version = String(pkg.version);
  } catch (e) {
    return reply({ ok: false, files: [], reason: `the toolchain has no ESLint (${firstLine(e.message)})` });
  }
  const major = Number(version.split(".")[0]);
  const flat = req.format ? req.format === "flat" : major >= 9;
  if (major < 7) return reply({ ok: false, eslintVersion: version, files: [], reason: `ESLint ${version} is not supported (7 or later)` });
  if (!flat && major >= 10) return reply({ ok: false, eslintVersion: version, files: [], reason: `ESLint ${version} cannot read eslintrc configs` });
  try {
    const mod = await import(pathToFileURL(requireFromToolchain.resolve("eslint")).href);
    const ESLint = await eslintClass(mod.default ?? mod, requireFromToolchain, major, flat);
    // Without a cache, ESLint 8 still deletes the cache file, in cwd unless told: point it at the scratch.
    const common = { cwd: req.cwd, errorOnUnmatchedPattern: false, cacheLocation: path.join(req.scratch, ".eslintcache") };
    const options = flat ? common : { ...common, useEslintrc: true };
    const results = await new ESLint(options).lintFiles([...req.paths]);
    const files = results
      .filter((r) => !onlyIgnoredWarning(r))
      .map((r) => ({ path: path.relative(req.cwd, r.filePath).split(path.sep).join("/"), messages: r.messages.map(trimMessage) }));
    return reply({ ok: true, eslintVersion: version, files });
  } catch (e) {
    console.error(e); // the whole story for whoever reads the stderr
    const message = firstLine(e?.message ?? e);
    const reason = OUT_OF_MEMORY.test(message) ? `ran out of memory (${req.memoryMb} MiB): ${message}` : `ESLint failed: ${message}`;
    return reply({ ok: false, eslintVersion: version, files: [], reason });
  }
}

await main();
