/**
 * The pipeline with repositories' own toolchains on (issue 25), end to end:
 * `farm analyze` on commits made here, their ESLint and plugins installed from
 * a real registry (verdaccio) and run sandboxed. The reference, commit by
 * commit, is each commit's own `eslint .` on a checkout, run outside farm.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { Report } from "../../../shared/pipeline/report.js";
import { installToolchain } from "../../../shared/toolchain/install.js";
import { resolveToolchain } from "../../../shared/toolchain/resolve.js";
import { FarmCli, killChildren } from "../../harness/cli.js";
import { gitTree } from "../../harness/commit-tree.js";
import { useTempDir } from "../../harness/files.js";
import { gitEnv, TestRepo } from "../../harness/git.js";
import { TestRegistry, writeTestPackage } from "../../harness/registry.js";
import { eslintDirectly } from "../../harness/toolchain-dir.js";

const tmp = useTempDir("farm-toolchain-pipeline-");
const ESLINT = "10.15.0";
let registry: TestRegistry;
let cli: FarmCli;

/** A plugin only this registry has: its rule reports every identifier named `foo`. */
const PLUGIN = {
  name: "eslint-plugin-farmtest",
  version: "1.0.0",
  files: {
    "index.js": `module.exports = { rules: { "no-foo": { meta: { type: "problem", schema: [] }, create: (context) => ({
  Identifier(node) { if (node.name === "foo") context.report({ node, message: "no foo here" }); },
}) } } };
`,
  },
};

/** A hostile plugin: its rule never returns on an identifier named `spin`. */
const LOOP = {
  name: "eslint-plugin-farmloop",
  version: "1.0.0",
  files: {
    "index.js": `module.exports = { rules: { spin: { meta: { type: "problem", schema: [] }, create: () => ({
  Identifier(node) { if (node.name === "spin") for (;;) {} },
}) } } };
`,
  },
};

beforeAll(async () => {
  registry = await TestRegistry.start({ proxyPublic: true, localPackages: [PLUGIN.name, LOOP.name] });
  for (const p of [PLUGIN, LOOP]) await registry.publish(writeTestPackage(path.join(tmp, "packages"), p));
  cli = new FarmCli({
    cwd: tmp,
    env: {
      ...gitEnv(tmp),
      FARM_TOOLCHAINS: "on",
      FARM_NPM_REGISTRY: registry.url,
      FARM_TOOLCHAIN_CACHE_DIR: path.join(tmp, "toolchains"),
      FARM_TOOLCHAIN_TIMEOUT: "20s",
    },
  });
}, 60_000);

afterAll(async () => {
  await killChildren();
  await registry?.dispose();
});

async function analyze(dir: string, commits: number, dataDir: string): Promise<Report[]> {
  const r = await cli.run(["analyze", dir, "--commits", String(commits), "--format", "ndjson"], { FARM_DATA_DIR: path.join(tmp, dataDir) });
  expect(r.stderr).not.toMatch(/error/i);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Report);
}

type Row = [path: string, ruleId: string | null, severity: number, line: number | undefined, column: number | undefined, message: string];

function rows(files: { path: string; messages: { ruleId: string | null; severity: number; line?: number; column?: number; message: string }[] }[]): Row[] {
  return files
    .flatMap((f) => f.messages.map((m): Row => [f.path, m.ruleId, m.severity, m.line, m.column, m.message]))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

/** The commit's own `eslint .` on a checkout of it, outside farm: its files and messages. */
async function reference(repo: TestRepo, sha: string) {
  const toolchain = await installToolchain(await resolveToolchain(gitTree(repo.dir, sha)), {
    cacheDir: path.join(tmp, "toolchains"),
    registry: registry.url,
    timeoutMs: 120_000,
  });
  const work = path.join(tmp, `checkout-${sha}`);
  mkdirSync(work);
  execFileSync("sh", ["-c", 'git -C "$1" archive "$3" | tar -x -C "$2"', "sh", repo.dir, work, sha]);
  return eslintDirectly(toolchain, work, ["."]);
}

test("each commit is linted with its own ESLint, config and plugin: the files and messages of its own eslint .", async () => {
  const repo = new TestRepo(path.join(tmp, "repo"));
  repo.commit("lint with our own plugin", {
    "package.json": JSON.stringify({ name: "app", type: "module", devDependencies: { eslint: ESLINT, [PLUGIN.name]: "1.0.0" } }),
    "eslint.config.mjs": `import farmtest from "${PLUGIN.name}";
export default [
  { ignores: ["vendor/"] },
  { files: ["**/*.js"], plugins: { farmtest }, rules: { "farmtest/no-foo": "error", "no-unused-vars": "warn", semi: "error" } },
];
`,
    "src/a.js": "const foo = 1\nexport const bar = foo;\n",
    "src/b.js": "function unused() {}\nexport const ok = 2;\n",
    "vendor/c.js": "const foo = 1\n",
    "README.md": "# not linted: no config lints markdown\n",
  });
  // ESLint lints .cjs by default, with the config objects that have no `files` (here: none with rules).
  repo.commit("a foo more and a .cjs file", { "src/b.js": "function unused() {}\nexport const foo = 2;\n", "src/d.cjs": "module.exports = undefinedThing\n" });
  repo.commit("no-foo is a warning now", {
    "eslint.config.mjs": `import farmtest from "${PLUGIN.name}";
export default [
  { ignores: ["vendor/"] },
  { files: ["**/*.js"], plugins: { farmtest }, rules: { "farmtest/no-foo": "warn", "no-unused-vars": "warn", semi: "error" } },
];
`,
  });

  const reports = await analyze(repo.dir, 3, "data-faithful");
  expect(reports.map((r) => r.sha)).toEqual([...repo.shas].reverse());
  for (const report of reports) {
    expect(report.toolchain, report.sha).toMatchObject({
      eslint: ESLINT,
      configFile: "eslint.config.mjs",
      format: "flat",
      packages: { eslint: ESLINT, [PLUGIN.name]: "1.0.0" },
    });
    expect(report.linters).toEqual({ eslint: ESLINT });
    const own = await reference(repo, report.sha);
    expect(report.files.map((f) => f.path).sort(), report.sha).toEqual(own.map((f) => f.path).sort());
    expect(rows(report.files), report.sha).toEqual(rows(own));
  }
  // What the references say, so that agreeing on nothing cannot pass.
  const newest = rows(reports[0].files).map(([p, rule, severity]) => `${p} ${rule} ${severity}`);
  expect(newest).toEqual([
    "src/a.js farmtest/no-foo 1",
    "src/a.js farmtest/no-foo 1",
    "src/a.js semi 2",
    "src/b.js farmtest/no-foo 1",
    "src/b.js no-unused-vars 1",
  ]);
  // d.cjs is linted (ESLint's default files) with no rule on: listed, clean; vendor/ and README.md are not.
  expect(reports[0].files.map((f) => f.path).sort()).toEqual(["eslint.config.mjs", "src/a.js", "src/b.js", "src/d.cjs"]);
}, 300_000);

test("a toolchain that cannot be installed is a note naming why, and the commit is linted as data", async () => {
  const repo = new TestRepo(path.join(tmp, "repo-missing"));
  repo.commit("a plugin version that does not exist", {
    "package.json": JSON.stringify({ name: "app", devDependencies: { eslint: ESLINT, [PLUGIN.name]: "9.9.9" } }),
    "eslint.config.mjs": `import farmtest from "${PLUGIN.name}";\nexport default [{ plugins: { farmtest }, rules: { "farmtest/no-foo": "error" } }];\n`,
    "index.js": "module.exports = undefinedThing;\n",
  });
  const [report] = await analyze(repo.dir, 1, "data-missing");
  expect(report.toolchain).toBeUndefined();
  expect(report.notes?.join("\n")).toMatch(new RegExp(`could not be installed: .*${PLUGIN.name}`));
  // farm's own reading: its bundled ESLint's defaults.
  expect(rows(report.files).map(([p, rule]) => `${p} ${rule}`)).toContain("index.js no-undef");
}, 180_000);

test("a plugin rule that never returns is killed: its files say why, the commit before it is whole", async () => {
  const repo = new TestRepo(path.join(tmp, "repo-loop"));
  repo.commit("a hostile plugin, harmless so far", {
    "package.json": JSON.stringify({ name: "app", devDependencies: { eslint: ESLINT, [LOOP.name]: "1.0.0" } }),
    "eslint.config.mjs": `import farmloop from "${LOOP.name}";\nexport default [{ plugins: { farmloop }, rules: { "farmloop/spin": "error", semi: "error" } }];\n`,
    "ok.js": "export const a = 1\n",
  });
  repo.commit("spin", { "spin.js": "export const spin = 1;\n" });
  const [spinning, before] = await analyze(repo.dir, 2, "data-loop");
  expect(rows(before.files).map(([p, rule]) => `${p} ${rule}`)).toEqual(["ok.js semi"]);
  const killed = spinning.files.find((f) => f.path === "spin.js")!;
  expect(killed.messages).toHaveLength(1);
  expect(killed.messages[0]).toMatchObject({ fatal: true, severity: 2 });
  expect(killed.messages[0].message).toMatch(/toolchain did not finish: timed out after \d+ ms/);
}, 240_000);

test("a rule that reads the repository's Prettier settings sees them: package.json's prettier key, a .prettierrc, an .editorconfig", async () => {
  const repo = new TestRepo(path.join(tmp, "repo-prettier"));
  const pkg = (extra: object) =>
    JSON.stringify({ name: "app", type: "module", ...extra, devDependencies: { eslint: ESLINT, "eslint-plugin-prettier": "5.5.7", prettier: "3.10.2" } });
  repo.commit("prettier settings in package.json", {
    "package.json": pkg({ prettier: { singleQuote: true } }),
    "eslint.config.mjs": `import prettier from "eslint-plugin-prettier";\nexport default [{ plugins: { prettier }, rules: { "prettier/prettier": "error" } }];\n`,
    "a.js": "export const a = 'quoted';\n",
  });
  repo.commit("settings in a .prettierrc", { "package.json": pkg({}), ".prettierrc.json": JSON.stringify({ singleQuote: false }) });
  repo.commit("tabs, says .editorconfig", { ".editorconfig": "[*]\nindent_style = tab\n", "b.js": "export function b() {\n  return 1;\n}\n" });

  const reports = await analyze(repo.dir, 3, "data-prettier");
  for (const report of reports) {
    expect(report.toolchain?.packages, report.sha).toMatchObject({ "eslint-plugin-prettier": "5.5.7" });
    expect(rows(report.files), report.sha).toEqual(rows(await reference(repo, report.sha)));
  }
  // What the references say (the config file is not Prettier's style: left out): newest first.
  const said = reports.map((r) => rows(r.files.filter((f) => f.path.endsWith(".js"))).map(([p, rule]) => `${p} ${rule}`));
  expect(said).toEqual([["a.js prettier/prettier", "b.js prettier/prettier"], ["a.js prettier/prettier"], []]);
}, 300_000);

test("an eslintrc commit pinning ESLint 8 is linted by ESLint 8, and a shareable config farm does not bundle (semistandard) is followed", async () => {
  const repo = new TestRepo(path.join(tmp, "repo-eslintrc"));
  // ESLint 8's no-unused-vars leaves caught errors alone (10's reports them): the project's own lint says 0.
  repo.commit("eslint 8.47, .eslintrc.yml", {
    "package.json": JSON.stringify({ name: "app", devDependencies: { eslint: "8.47.0" } }),
    ".eslintrc.yml": "root: true\nextends: eslint:recommended\nenv:\n  node: true\n  es2020: true\n",
    "index.js": "try {\n  require('./other');\n} catch (err) {\n  module.exports = null;\n}\n",
  });
  repo.commit("semistandard", {
    "package.json": JSON.stringify({
      name: "app",
      devDependencies: {
        eslint: "8.47.0",
        "eslint-config-semistandard": "17.0.0",
        "eslint-config-standard": "17.1.0",
        "eslint-plugin-import": "2.29.1",
        "eslint-plugin-n": "15.7.0",
        "eslint-plugin-promise": "6.1.1",
      },
    }),
    ".eslintrc.yml": "root: true\nextends: semistandard\n",
    "lib/b.js": 'const x = "double"\nmodule.exports = x;\n',
  });

  const [semistandard, plain] = await analyze(repo.dir, 2, "data-eslintrc");
  for (const report of [semistandard, plain]) {
    expect(report.toolchain, report.sha).toMatchObject({ eslint: "8.47.0", format: "eslintrc", configFile: ".eslintrc.yml" });
    const own = await reference(repo, report.sha);
    expect(report.files.map((f) => f.path).sort(), report.sha).toEqual(own.map((f) => f.path).sort());
    expect(rows(report.files), report.sha).toEqual(rows(own));
  }
  expect(plain.files.map((f) => f.path)).toEqual(["index.js"]);
  expect(rows(plain.files)).toEqual([]);
  expect(semistandard.toolchain?.packages).toMatchObject({ "eslint-config-semistandard": "17.0.0", "eslint-plugin-n": "15.7.0" });
  expect(rows(semistandard.files).map(([p, rule]) => `${p} ${rule}`)).toEqual(["lib/b.js quotes", "lib/b.js semi"]);
  // Read as data instead (farm's bundled ESLint), the plain commit differs: what this test guards.
  const off = await cli.run(["analyze", repo.dir, "--sha", plain.sha, "--format", "json"], {
    FARM_DATA_DIR: path.join(tmp, "data-eslintrc-off"),
    FARM_TOOLCHAINS: "off",
  });
  expect(off.code, off.stderr).toBe(0);
  expect(rows((JSON.parse(off.stdout) as Report).files).map(([p, rule]) => `${p} ${rule}`)).toEqual(["index.js no-unused-vars"]);
  // The import plugin's tree-reading rules are named, not silently run differently.
  expect(semistandard.notes?.join("\n")).toMatch(/not run .*import\//);
}, 300_000);

test("a type-aware typescript-eslint config: its other rules as its own eslint . reports them, commit after commit; its type-aware rules named as not run", async () => {
  const repo = new TestRepo(path.join(tmp, "repo-ts"));
  repo.commit("typescript-eslint, type-aware", {
    "package.json": JSON.stringify({ name: "app", type: "module", devDependencies: { eslint: ESLINT, "typescript-eslint": "8.74.0", typescript: "5.9.3" } }),
    "tsconfig.json": JSON.stringify({ compilerOptions: { strict: true, module: "nodenext", target: "es2022", noEmit: true }, include: ["src"] }),
    // No tsconfigRootDir: typescript-eslint infers it from where the config was loaded.
    "eslint.config.mjs": `import tseslint from "typescript-eslint";
export default tseslint.config(
  { ignores: ["eslint.config.mjs"] },
  ...tseslint.configs.recommendedTypeChecked,
  { languageOptions: { parserOptions: { projectService: true } } },
);
`,
    "src/a.ts": "export const a: any = 1;\n",
    "src/b.ts": "export function b(x: number): number {\n  return x + 1;\n}\n",
  });
  // Later commits lint in the same sandbox session as the first: what typescript-eslint remembers must not leak.
  repo.commit("an unused variable", { "src/b.ts": "export function b(x: number): number {\n  const unused = 2;\n  return x + 1;\n}\n" });
  repo.commit("c", { "src/c.ts": "export const c: any = 3;\n" });

  const reports = await analyze(repo.dir, 3, "data-ts");
  for (const report of reports) {
    expect(report.toolchain?.packages, report.sha).toMatchObject({ "typescript-eslint": "8.74.0" });
    expect(rows(report.files), report.sha).toEqual(rows(await reference(repo, report.sha)));
    expect(report.notes?.join("\n"), report.sha).toMatch(/not run .*@typescript-eslint\/no-unsafe-assignment/);
  }
  const said = reports.map((r) => rows(r.files).map(([p, rule]) => `${p} ${rule}`));
  expect(said).toEqual([
    ["src/a.ts @typescript-eslint/no-explicit-any", "src/b.ts @typescript-eslint/no-unused-vars", "src/c.ts @typescript-eslint/no-explicit-any"],
    ["src/a.ts @typescript-eslint/no-explicit-any", "src/b.ts @typescript-eslint/no-unused-vars"],
    ["src/a.ts @typescript-eslint/no-explicit-any"],
  ]);
}, 300_000);
