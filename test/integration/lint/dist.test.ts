/**
 * The pool from compiled output: thread.js next to pool.js, plain node, no tsx.
 * Emits shared/ the way `tsc -p tsconfig.build.json` lays out dist/ (one .js per
 * .ts, same relative paths), with TypeScript's transpiler to stay fast.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import ts from "typescript";
import { afterAll, expect, test } from "vitest";
import { LintEngine, defaultFileConfig } from "../../../shared/lint/index.js";
import type { LintFileResult, LintTask } from "../../../shared/lint/index.js";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../..", import.meta.url));
// Inside the project so that node_modules resolves from the emitted files.
mkdirSync(join(root, "node_modules/.cache"), { recursive: true });
const out = mkdtempSync(join(root, "node_modules/.cache/farm-lint-dist-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function emit(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) emit(path);
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) {
      const js = ts.transpileModule(readFileSync(path, "utf8"), {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
        fileName: path,
      }).outputText;
      const target = join(out, relative(root, path)).replace(/\.ts$/, ".js");
      mkdirSync(join(target, ".."), { recursive: true });
      writeFileSync(target, js);
    }
  }
}

test("compiled pool runs thread.js with plain node", async () => {
  emit(join(root, "shared"));
  // node_modules/ is a package boundary for Node's type lookup: say "module" like the project does.
  writeFileSync(join(out, "package.json"), '{"type": "module"}');
  const tasks: LintTask[] = [
    { path: "a.js", content: "debugger;\nx = 1;\n", config: defaultFileConfig("a.js") },
    { path: "b.ts", content: "export const y: any = 1;\n", config: defaultFileConfig("b.ts") },
  ];
  const script = `
    import { LintPool } from ${JSON.stringify(join(out, "shared/lint/pool.js"))};
    const pool = new LintPool({ threads: 2 });
    const results = await pool.lint(JSON.parse(process.argv[1]));
    await pool.close();
    process.stdout.write(JSON.stringify({ results, execArgv: process.execArgv }));
  `;
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script, JSON.stringify(tasks)], {
    cwd: out,
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  const { results, execArgv } = JSON.parse(stdout) as { results: LintFileResult[]; execArgv: string[] };
  // Plain node: nothing registers tsx, and `--input-type` must not leak into the threads.
  expect(execArgv.join(" ")).not.toMatch(/tsx/);
  expect(execArgv).toContain("--input-type=module");
  expect(readdirSync(join(out, "shared/lint")).filter((f) => f.endsWith(".ts"))).toEqual([]);
  const engine = new LintEngine();
  expect(results.map((r) => r.messages)).toEqual([await engine.lintFile(tasks[0]), await engine.lintFile(tasks[1])]);
  expect(results[1].messages.map((m) => m.ruleId)).toEqual(["@typescript-eslint/no-explicit-any"]);
}, 60_000);
