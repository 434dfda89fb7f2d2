/**
 * What `npm run build` ships: build.mjs compiles with tsc, then bundles the
 * CLI and the lint thread in place. A bundled module that finds files beside
 * itself (the lint thread's entry, the web app's assets, the sandbox's runner,
 * pino's worker) must still find them, and the bundles must analyze a
 * repository with plain node.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, test } from "vitest";
import { ROOT, spawnNode } from "../../harness/children.js";
import { useTempDir } from "../../harness/files.js";
import { TestRepo } from "../../harness/git.js";

const run = promisify(execFile);
const tmp = useTempDir("farm-built-");
// Inside the project, so that the packages left out of the bundles resolve from node_modules.
mkdirSync(path.join(ROOT, "node_modules/.cache"), { recursive: true });
const out = mkdtempSync(path.join(ROOT, "node_modules/.cache/farm-build-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

beforeAll(async () => {
  await run(process.execPath, ["build.mjs", "--out", out, "--fast"], { cwd: ROOT });
}, 120_000);

/** The bundles build.mjs writes: the CLI's entry and chunks, the lint thread. */
function bundles(): string[] {
  const cli = readdirSync(path.join(out, "cli"))
    .filter((f) => f === "farm.js" || /-[A-Z0-9]{8}\.js$/.test(f))
    .map((f) => path.join(out, "cli", f));
  return [...cli, path.join(out, "shared/lint/thread.js")];
}

test("every place a bundled module looks for files beside itself exists in the build", () => {
  const places = new Set<string>();
  for (const file of bundles()) {
    for (const m of readFileSync(file, "utf8").matchAll(/__farmUrl\("([^"]+)"\)/g)) places.add(path.resolve(path.dirname(file), m[1]!));
  }
  const rel = [...places].map((p) => path.relative(out, p));
  // The lint thread's entry (thread-start), the web app's assets, the sandbox's runner beside their modules.
  expect(rel).toEqual(expect.arrayContaining(["shared/lint/thread-start.js", "services/web/assets.js", "shared/toolchain/sandbox.js"]));
  expect(rel.filter((p) => !existsSync(path.join(out, p)))).toEqual([]);
});

test("the built CLI, run by plain node, analyzes a repository with its bundled lint thread", async () => {
  const repo = new TestRepo(path.join(tmp, "repo"));
  repo.commit("two files", { "a.js": "debugger;\nmissing();\n", "b.js": "const unused = 1;\n" });
  const child = spawnNode([path.join(out, "cli/farm.js"), "analyze", repo.dir, "--format", "json", "--summary"], {
    cwd: tmp,
    env: { FARM_DATA_DIR: path.join(tmp, "data"), NATS_URL: "" },
  });
  const { code, stdout } = await child.finished;
  expect(code, child.output()).toBe(0);
  const report = JSON.parse(stdout) as { summary: { files: number; errors: number }; rules: Record<string, number> };
  expect(report.summary).toMatchObject({ files: 2, errors: 3 });
  expect(report.rules).toEqual({ "eslint/no-debugger": 1, "eslint/no-undef": 1, "eslint/no-unused-vars": 1 });
}, 60_000);
