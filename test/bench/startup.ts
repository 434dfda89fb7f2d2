/**
 * Start-up benchmark (issue 29): one commit of a small repository, as a
 * developer runs it, against ESLint's own CLI on a checkout of the same
 * commit, timed alternately in the same run (whole processes, wall time):
 *
 *   eslint   `eslint .` with farm's default config for JavaScript (what the
 *            repository's own `npx eslint .` would be)
 *   cold     `farm analyze <repo>` on the embedded default, a fresh data dir
 *            each time: nats-server, services and a lint thread started and
 *            stopped, nothing cached
 *   warm     the same on a kept data dir: the commit's results are cached
 *   attached `farm analyze` on a data dir where `farm up` runs: the CLI is
 *            a client of it (a fresh commit each round, so nothing is cached)
 *
 * Prints min/median/max and each median ÷ eslint's, against the target
 * (cold ≤ 1.5× eslint), and checks that farm and ESLint count the same
 * errors and warnings. The repository names no ESLint of its own, so the
 * repository's own toolchain (FARM_TOOLCHAINS, on) and the data-only mode
 * lint it alike; both are timed.
 *
 *   node --import tsx test/bench/startup.ts [--rounds N] [--smoke] [--json FILE]
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { writeOutputFile } from "../../cli/output-file.js";
import { farmBuilt, type FarmCommand } from "./history-farm.js";
import { fmtS, fmtX, log, machineInfo, PROJECT_ROOT, run, sleep, table } from "./history-util.js";

const TARGET_COLD_OVER_ESLINT = 1.5;

const { values: argv } = parseArgs({
  options: { rounds: { type: "string" }, smoke: { type: "boolean" }, json: { type: "string" } },
});
const smoke = argv.smoke === true;
const rounds = Number(argv.rounds ?? (smoke ? 2 : 7));

/** Twelve CommonJS files with the usual mistakes, one commit. */
const FILES: Record<string, string> = {
  "package.json": JSON.stringify({ name: "startup-bench", version: "1.0.0", main: "index.js" }, null, 2) + "\n",
  "index.js": "const { add } = require('./lib/math');\nconst util = require('./lib/util');\nmodule.exports = { add, util };\n",
  "lib/math.js": "function add(a, b) { return a + b; }\nfunction unused() {}\nmodule.exports = { add };\n",
  "lib/util.js": "module.exports = function show(x) {\n  if (x == null) { debugger; }\n  return String(x);\n};\n",
  "lib/strings.js": "const pad = (s, n) => s.padStart(n);\nmodule.exports = { pad, trim: (s) => s.trim() };\n",
  "lib/io.js": "const fs = require('fs');\nmodule.exports = (p) => fs.readFileSync(p, 'utf8') + missing;\n",
  "lib/list.js": "module.exports = function first(xs) { for (var i = 0; i < xs.length; i++) { return xs[i]; } };\n",
  "lib/obj.js": "module.exports = { a: 1, b: 2, a: 3 };\n",
  "lib/async.js": "module.exports = async function wait(ms) { return new Promise((r) => setTimeout(r, ms)); };\n",
  "bin/cli.js": "#!/usr/bin/env node\nconst main = require('../index');\nconsole.log(main.add(1, 2));\n",
  "test/math.test.js": "const assert = require('assert');\nconst { add } = require('../lib/math');\nassert.strictEqual(add(1, 2), 3);\n",
  "scripts/build.js": "const path = require('path');\nconst out = path.join(__dirname, 'dist');\nlet unusedVar;\nmodule.exports = out;\n",
};

/** farm's default ESLint config for JavaScript files (shared/lint/engine.ts eslintConfigFor), as a user would write it. */
function eslintConfig(): string {
  const url = (spec: string) => JSON.stringify(import.meta.resolve(spec));
  return `import js from ${url("@eslint/js")};
import globals from ${url("globals")};
export default [
  js.configs.recommended,
  { files: ["**/*.js"], languageOptions: { ecmaVersion: "latest", sourceType: "commonjs", globals: globals.node } },
];
`;
}

function sh(cwd: string, cmd: string, args: string[]): Promise<unknown> {
  return run(cmd, args, {
    cwd,
    env: { ...process.env, GIT_AUTHOR_NAME: "bench", GIT_AUTHOR_EMAIL: "b@example.com", GIT_COMMITTER_NAME: "bench", GIT_COMMITTER_EMAIL: "b@example.com" },
  });
}

async function makeRepo(dir: string): Promise<{ repo: string; checkout: string }> {
  const repo = path.join(dir, "repo");
  for (const [rel, text] of Object.entries(FILES)) {
    mkdirSync(path.dirname(path.join(repo, rel)), { recursive: true });
    writeFileSync(path.join(repo, rel), text);
  }
  await sh(repo, "git", ["init", "-q"]);
  await sh(repo, "git", ["add", "-A"]);
  await sh(repo, "git", ["commit", "-qm", "small"]);
  // ESLint's checkout: the same files and its config beside them (not in farm's commit).
  const checkout = path.join(dir, "checkout");
  await sh(dir, "git", ["clone", "-q", repo, checkout]);
  writeFileSync(path.join(checkout, "eslint.config.mjs"), eslintConfig());
  return { repo, checkout };
}

interface Counts {
  errors: number;
  warnings: number;
}

async function eslintOnce(checkout: string): Promise<{ ms: number; counts: Counts }> {
  const bin = path.join(PROJECT_ROOT, "node_modules/eslint/bin/eslint.js");
  const r = await run(process.execPath, [bin, ".", "--format", "json"], { cwd: checkout, okCodes: [0, 1] });
  const files = JSON.parse(r.stdout) as { errorCount: number; warningCount: number }[];
  return { ms: r.wallMs, counts: { errors: files.reduce((n, f) => n + f.errorCount, 0), warnings: files.reduce((n, f) => n + f.warningCount, 0) } };
}

function farmEnv(dataDir: string, toolchains: boolean): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, FARM_DATA_DIR: dataDir, FARM_TOOLCHAINS: toolchains ? "on" : "off" };
  for (const k of ["NATS_URL", "NATS_CREDS", "NATS_USER", "NATS_PASSWORD", "FARM_CONCURRENCY"]) delete env[k];
  return env;
}

async function farmOnce(farm: FarmCommand, repo: string, dataDir: string, toolchains: boolean, sha?: string): Promise<{ ms: number; counts: Counts }> {
  const args = [...farm.args, "analyze", repo, "--format", "json", "--summary", ...(sha ? ["--sha", sha] : [])];
  const r = await run(process.execPath, args, { env: farmEnv(dataDir, toolchains), okCodes: [0] });
  const report = JSON.parse(r.stdout) as { summary: Counts } | { summary: Counts }[];
  const { summary } = Array.isArray(report) ? report[0] : report;
  return { ms: r.wallMs, counts: { errors: summary.errors, warnings: summary.warnings } };
}

interface Stat {
  min: number;
  median: number;
  max: number;
}
const stat = (xs: number[]): Stat => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor((s.length - 1) / 2)], max: s.at(-1)! };
};

/** `farm up` on `dataDir`, ready once it has written its record there; stopped with SIGTERM. */
async function farmUp(farm: FarmCommand, dataDir: string, toolchains: boolean): Promise<() => Promise<void>> {
  const child = spawn(process.execPath, [...farm.args, "up"], { env: farmEnv(dataDir, toolchains), stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  for (let i = 0; !existsSync(path.join(dataDir, "up.json")); i++) {
    if (child.exitCode !== null || i > 600) throw new Error(`farm up did not start:\n${stderr.slice(-2000)}`);
    await sleep(50);
  }
  return async () => {
    child.kill("SIGTERM");
    await exited;
  };
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "farm-startup-bench-"));
  const farm = await farmBuilt();
  try {
    const { repo, checkout } = await makeRepo(dir);
    log(`small repository: ${Object.keys(FILES).length} files, one commit; ${rounds} rounds; farm ${farm.label}`);
    const times: Record<string, number[]> = { eslint: [], "cold, own toolchain": [], "cold, data only": [], warm: [], attached: [] };
    let expected: Counts | undefined;
    const check = (what: string, c: Counts) => {
      expected ??= c;
      if (c.errors !== expected.errors || c.warnings !== expected.warnings)
        throw new Error(`${what} counted ${c.errors} errors, ${c.warnings} warnings; eslint ${expected.errors}, ${expected.warnings}`);
    };
    const warmDir = path.join(dir, "warm");
    // Warm-up of the OS's file cache for both, not counted.
    await eslintOnce(checkout);
    await farmOnce(farm, repo, warmDir, true);
    for (let i = 0; i < rounds; i++) {
      const e = await eslintOnce(checkout);
      check("eslint", e.counts);
      times.eslint.push(e.ms);
      for (const toolchains of [true, false]) {
        const cold = path.join(dir, `cold-${i}-${toolchains}`);
        const f = await farmOnce(farm, repo, cold, toolchains);
        check("farm cold", f.counts);
        times[toolchains ? "cold, own toolchain" : "cold, data only"].push(f.ms);
        rmSync(cold, { recursive: true, force: true });
      }
      const w = await farmOnce(farm, repo, warmDir, true);
      check("farm warm", w.counts);
      times.warm.push(w.ms);
    }
    // Attached: a running farm up on its own data dir; each round a new commit, so nothing is cached.
    const upDir = path.join(dir, "up");
    const stop = await farmUp(farm, upDir, true);
    try {
      for (let i = 0; i < rounds; i++) {
        writeFileSync(path.join(repo, "lib/round.js"), `module.exports = ${i};\n`);
        await sh(repo, "git", ["add", "-A"]);
        await sh(repo, "git", ["commit", "-qm", `round ${i}`]);
        const a = await farmOnce(farm, repo, upDir, true);
        check("farm attached", a.counts);
        times.attached.push(a.ms);
      }
    } finally {
      await stop();
    }

    const base = stat(times.eslint).median;
    const rows = Object.entries(times).map(([what, xs]) => {
      const s = stat(xs);
      return [what, fmtS(s.min), fmtS(s.median), fmtS(s.max), fmtX(s.median / base)];
    });
    const cold = stat(times["cold, own toolchain"]).median / base;
    const coldData = stat(times["cold, data only"]).median / base;
    const machine = machineInfo();
    console.log(`\n## Start-up: one commit of a small repository (${machine.cores} cores, Node ${process.versions.node})\n`);
    console.log(table(["run", "min", "median", "max", "÷ eslint"], rows, [false, true, true, true, true]));
    console.log(`\nfarm and ESLint agree: ${expected!.errors} errors, ${expected!.warnings} warnings.`);
    const met = (r: number) => (r <= TARGET_COLD_OVER_ESLINT ? "met" : "NOT met");
    console.log(
      `target: cold ≤ ${TARGET_COLD_OVER_ESLINT}× eslint: own toolchain ${fmtX(cold)} (${met(cold)}), data only ${fmtX(coldData)} (${met(coldData)})`,
    );
    if (argv.json) {
      const stats = Object.fromEntries(Object.entries(times).map(([k, xs]) => [k, { ...stat(xs), runs: xs }]));
      await writeOutputFile(argv.json, JSON.stringify({ machine, rounds, stats, coldOverEslint: cold, coldDataOverEslint: coldData }, null, 2) + "\n");
    }
  } finally {
    rmSync(farm.dir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
