/**
 * The three parts of a commit's toolchain together, as the pipeline will use
 * them: read from a commit made here (resolve), installed from a real registry
 * without scripts (install), run in the sandbox (sandbox); the reference is the
 * toolchain's own `eslint --format json .` on a checkout of the same commit.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { installToolchain } from "../../../shared/toolchain/install.js";
import { resolveToolchain } from "../../../shared/toolchain/resolve.js";
import { runSandboxed } from "../../../shared/toolchain/sandbox.js";
import { gitTree } from "../../harness/commit-tree.js";
import { useTempDir } from "../../harness/files.js";
import { TestRepo } from "../../harness/git.js";
import { TestRegistry, writeTestPackage } from "../../harness/registry.js";
import { eslintDirectly } from "../../harness/toolchain-dir.js";

const tmp = useTempDir("farm-toolchain-e2e-");
let registry: TestRegistry;

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

beforeAll(async () => {
  // eslint and its dependencies come through the registry's uplink; the plugin only from it.
  registry = await TestRegistry.start({ proxyPublic: true, localPackages: [PLUGIN.name] });
  await registry.publish(writeTestPackage(path.join(tmp, "packages"), PLUGIN));
}, 60_000);

afterAll(async () => {
  await registry?.dispose();
});

test("a commit's flat config, its plugin and its ESLint: resolved from the tree, installed, run sandboxed, as its own eslint reports", async () => {
  const repo = new TestRepo(path.join(tmp, "repo"));
  repo.commit("lint with our own plugin", {
    "package.json": JSON.stringify({ name: "app", type: "module", devDependencies: { eslint: "10.15.0", [PLUGIN.name]: "1.0.0" } }),
    "eslint.config.mjs": `import farmtest from "${PLUGIN.name}";
export default [
  { ignores: ["vendor/"] },
  { files: ["**/*.js"], plugins: { farmtest }, rules: { "farmtest/no-foo": "error", "no-unused-vars": "warn", semi: "error" } },
];
`,
    "src/a.js": "const foo = 1\nexport const bar = foo;\n",
    "src/b.js": "function unused() {}\nexport const ok = 2;\n",
    "vendor/c.js": "const foo = 1\n",
  });

  const spec = await resolveToolchain(gitTree(repo.dir, "HEAD"));
  expect(spec.format).toBe("flat");
  expect(spec.configFile).toBe("eslint.config.mjs");
  expect(Object.keys(spec.packages).sort()).toEqual(["eslint", PLUGIN.name]);

  const toolchain = await installToolchain(spec, { cacheDir: path.join(tmp, "toolchains"), registry: registry.url, timeoutMs: 120_000 });
  expect(toolchain.versions).toEqual({ eslint: "10.15.0", [PLUGIN.name]: "1.0.0" });

  // The commit's files, checked out as the pipeline will materialise them.
  const work = path.join(tmp, "work");
  mkdirSync(work);
  execFileSync("sh", ["-c", 'git -C "$1" archive HEAD | tar -x -C "$2"', "sh", repo.dir, work]);

  const sandboxed = await runSandboxed({ toolchain, workDir: work, paths: ["."], timeoutMs: 60_000, memoryMb: 512 });
  expect(sandboxed.reason).toBeUndefined();
  expect(sandboxed.ok).toBe(true);
  expect(sandboxed.eslintVersion).toBe("10.15.0");
  const byPath = (files: { path: string }[]) => [...files].sort((x, y) => x.path.localeCompare(y.path));
  const reference = await eslintDirectly(toolchain, work, ["."]);
  expect(byPath(sandboxed.files)).toEqual(byPath(reference));
  // What the reference says, so that both being empty cannot pass.
  const rules = sandboxed.files.flatMap((f) => f.messages.map((m) => `${f.path} ${m.ruleId}`)).sort();
  expect(rules).toEqual(["src/a.js farmtest/no-foo", "src/a.js farmtest/no-foo", "src/a.js semi", "src/b.js no-unused-vars"]);
}, 180_000);
