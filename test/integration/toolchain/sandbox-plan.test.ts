/**
 * A plan in the sandbox (issue 25): which of a commit's files its own ESLint
 * lints, as `eslint .` run directly decides (flat `files`/`ignores`, eslintrc's
 * extensions, overrides and ignore files), each file's effective config as a
 * hash, and the rules that read more than the file, which are then not run.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { planSandboxed, runSandboxed } from "../../../shared/toolchain/sandbox.js";
import type { InstalledToolchain } from "../../../shared/toolchain/types.js";
import { useTempDir } from "../../harness/files.js";
import { copyToolchain, eslintDirectly, writePackage } from "../../harness/toolchain-dir.js";

const tmp = useTempDir("farm-sandbox-plan-");

/** A plugin named like eslint-plugin-n: one rule that reads the tree, one that needs types, one that reads only the file. */
const N = {
  "package.json": JSON.stringify({ name: "eslint-plugin-n", version: "1.0.0", main: "index.js" }),
  "index.js": `const report = (message) => ({ meta: { schema: [] }, create: (context) => ({ Program(node) { context.report({ node, message }); } }) });
module.exports = { rules: {
  "no-missing-require": report("missing"),
  typed: { ...report("typed"), meta: { schema: [], docs: { requiresTypeChecking: true } } },
  plain: report("plain"),
} };`,
};

let flat: InstalledToolchain;
let legacy: InstalledToolchain;

beforeAll(() => {
  flat = copyToolchain(path.join(tmp, "toolchain-10"), { eslint: "eslint" }, "flat");
  writePackage(flat.dir, "eslint-plugin-n", N);
  legacy = copyToolchain(path.join(tmp, "toolchain-8"), { eslint8: "eslint" }, "eslintrc");
});

let dirs = 0;
function workDir(files: Record<string, string>): string {
  const dir = path.join(tmp, `work-${++dirs}`);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

const request = (toolchain: InstalledToolchain, dir: string, paths: string[]) => ({ toolchain, workDir: dir, paths, timeoutMs: 30_000, memoryMb: 256 });
const empty = (paths: string[]) => Object.fromEntries(paths.map((p) => [p, ""]));

describe("flat config (ESLint 10)", () => {
  const CANDIDATES = ["src/a.js", "src/special/b.js", "lib/c.js", "vendor/d.js", "README.md", "e.cjs", ".hidden.js", "f.ts"];
  const CONFIG = `export default [
  { ignores: ["vendor/"] },
  { files: ["**/*.js"], rules: { semi: "error" } },
  { files: ["src/special/**"], rules: { "no-var": "error" } },
  { files: ["lib/**"], rules: { "no-var": "off" } },
];
`;

  it("plans the files that its eslint . lints, and no other", async () => {
    const dir = workDir({ "eslint.config.mjs": CONFIG, ...empty(CANDIDATES) });
    const plan = await planSandboxed(request(flat, dir, CANDIDATES));
    expect(plan.ok, plan.reason).toBe(true);
    expect(plan.eslintVersion).toBe(flat.versions.eslint);
    const direct = await eslintDirectly(flat, dir, ["."]);
    const linted = direct.map((f) => f.path).filter((p) => p !== "eslint.config.mjs");
    expect(plan.files.map((f) => f.path).sort()).toEqual(linted.sort());
    expect(linted.sort()).toEqual([".hidden.js", "e.cjs", "lib/c.js", "src/a.js", "src/special/b.js"]);
  });

  it("gives files with the same effective config the same hash: an override that turns off a rule nothing enables changes nothing", async () => {
    const dir = workDir({ "eslint.config.mjs": CONFIG, ...empty(CANDIDATES) });
    const hash = new Map((await planSandboxed(request(flat, dir, CANDIDATES))).files.map((f) => [f.path, f.configHash]));
    expect(hash.get("lib/c.js")).toBe(hash.get("src/a.js"));
    expect(hash.get("src/special/b.js")).not.toBe(hash.get("src/a.js"));
    // .cjs files get only the config objects without `files`: semi is not on for them.
    expect(hash.get("e.cjs")).not.toBe(hash.get("src/a.js"));
  });

  it("names the enabled rules that read the tree or need type information, per file", async () => {
    const config = `import n from "eslint-plugin-n";
export default [
  { files: ["**/*.js"], plugins: { n }, rules: { "n/no-missing-require": "error", "n/typed": "warn", "n/plain": "error" } },
  { files: ["quiet/**"], rules: { "n/no-missing-require": "off", "n/typed": "off" } },
];
`;
    const paths = ["a.js", "quiet/b.js"];
    const dir = workDir({ "eslint.config.mjs": config, ...empty(paths) });
    const plan = await planSandboxed(request(flat, dir, paths));
    expect(plan.ok, plan.reason).toBe(true);
    expect(Object.fromEntries(plan.files.map((f) => [f.path, f.notRun]))).toEqual({ "a.js": ["n/no-missing-require", "n/typed"], "quiet/b.js": [] });
  });

  it("does not run the rules it is told not to, nor reports their disable comments as unused", async () => {
    const config = `import n from "eslint-plugin-n";
export default [{ plugins: { n }, linterOptions: { reportUnusedDisableDirectives: "warn" }, rules: { "n/no-missing-require": "error", "n/plain": "error" } }];
`;
    const dir = workDir({ "eslint.config.mjs": config, "a.js": "// eslint-disable-next-line n/no-missing-require\nrequire('./gone');\n" });
    const run = await runSandboxed({ ...request(flat, dir, ["a.js"]), notRun: ["n/no-missing-require"] });
    expect(run.ok, run.reason).toBe(true);
    expect(run.files.flatMap((f) => f.messages.map((m) => `${m.ruleId} ${m.message}`))).toEqual(["n/plain plain"]);
    // Run as configured, the rule reports on the Program node (line 1, which the comment does not cover),
    // and the comment is reported unused: the warning the run above left out.
    const all = await runSandboxed(request(flat, dir, ["a.js"]));
    const said = all.files.flatMap((f) => f.messages.map((m) => `${m.ruleId} ${m.message}`)).sort();
    expect(said).toEqual([
      "n/no-missing-require missing",
      "n/plain plain",
      expect.stringMatching(/^null Unused eslint-disable directive .*'n\/no-missing-require'/),
    ]);
  });
});

describe("eslintrc (ESLint 8)", () => {
  const CANDIDATES = ["src/a.js", "scripts/x.mjs", "scripts/y.cjs", "vendor/d.js", ".hidden.js", "README.md"];
  const FILES = {
    ".eslintrc.json": JSON.stringify({
      root: true,
      parserOptions: { ecmaVersion: 2022 },
      rules: { semi: "error" },
      overrides: [{ files: ["scripts/*.mjs"], parserOptions: { sourceType: "module" }, rules: { "no-var": "error" } }],
    }),
    ".eslintignore": "vendor/\n",
  };

  it("plans what its eslint . walks to: .js files and overrides' patterns, minus ignore files and dotfiles", async () => {
    const dir = workDir({ ...FILES, ...empty(CANDIDATES) });
    const plan = await planSandboxed(request(legacy, dir, CANDIDATES));
    expect(plan.ok, plan.reason).toBe(true);
    expect(plan.eslintVersion).toBe(legacy.versions.eslint);
    const direct = await eslintDirectly(legacy, dir, ["."]);
    expect(plan.files.map((f) => f.path).sort()).toEqual(direct.map((f) => f.path).sort());
    expect(plan.files.map((f) => f.path).sort()).toEqual(["scripts/x.mjs", "src/a.js"]);
    const [x, a] = plan.files.sort((p, q) => (p.path < q.path ? -1 : 1));
    expect(x.configHash).not.toBe(a.configHash);
  });

  it("fails with ESLint's reason when the config does not load", async () => {
    const dir = workDir({ ".eslintrc.json": "{ not json", "a.js": "" });
    const plan = await planSandboxed(request(legacy, dir, ["a.js"]));
    expect(plan.ok).toBe(false);
    expect(plan.reason).toMatch(/ESLint failed: .*eslintrc/i);
  });
});
