/**
 * The faithful mode of the history benchmark (issue 25): `farm analyze` of a
 * history with each commit's own toolchain, against the same history read as
 * data, in one run on the embedded default:
 *
 *   data only          FARM_TOOLCHAINS=off, cold
 *   own, cold          FARM_TOOLCHAINS=on, an empty toolchain cache (every install from the registry)
 *   own, warm          FARM_TOOLCHAINS=on, the toolchains installed by the cold run, fresh results
 *
 * Prints the wall times, own-warm ÷ data-only (target ≤ 1.3), own-cold (target: a whole history ≤ 10 min on
 * 2 cores), the distinct toolchains, and what the commits say: messages, notes of toolchains not installed
 * or not run. The same commits give the same counts cold and warm (checked).
 *
 *   node --import tsx test/bench/toolchain-history.ts [--repo PATH] [--sha REV] [--commits N|all] [--smoke] [--json FILE]
 *
 * Default: mocha's history (the benchmarks' bundle, see history-workload.ts), newest 200 commits.
 * --smoke: a history made here (3 commits, ESLint pinned, one toolchain) — needs the npm registry.
 * Needs bubblewrap (bwrap).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { farmBuilt, runFarmEmbedded, type FarmRun } from "./history-farm.js";
import { fmtS, fmtX, log, machineInfo, PROJECT_ROOT, run, table } from "./history-util.js";
import { MOCHA, mochaRepo } from "./history-workload.js";

const TARGET_WARM_OVER_DATA = 1.3;
const TARGET_WHOLE_COLD_MS = 10 * 60_000;

const { values: opts } = parseArgs({
  options: {
    repo: { type: "string" },
    sha: { type: "string" },
    commits: { type: "string" },
    smoke: { type: "boolean", default: false },
    json: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (opts.help) {
  process.stdout.write(`node --import tsx test/bench/toolchain-history.ts [--repo PATH] [--sha REV] [--commits N|all] [--smoke] [--json FILE]
  default: mocha's history (${MOCHA.bundleEnv}), newest 200 commits; --smoke: 3 commits made here (needs the npm registry)
  targets: own toolchains, warm cache ÷ data only <= ${TARGET_WARM_OVER_DATA}×; a whole history cold <= ${TARGET_WHOLE_COLD_MS / 60_000} min
`);
  process.exit(0);
}

interface Line {
  sha: string;
  summary: { files: number; errors: number; warnings: number };
  notes?: string[];
  toolchain?: { id: string };
}

function lines(file: string): Line[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);
}

/** git in `repo`, a bare repository or a work tree. */
const git = (repo: string, args: string[]) => run("git", ["-C", repo, ...args]);

/** A tiny history whose toolchain is ESLint alone, pinned: one install, three commits. */
async function smokeHistory(dir: string): Promise<string> {
  const repo = path.join(dir, "smoke-toolchain");
  await run("git", ["init", "-q", "-b", "main", repo]);
  const commit = async (msg: string, files: Record<string, string>) => {
    for (const [f, text] of Object.entries(files)) {
      const full = path.join(repo, f);
      mkdirSync(path.dirname(full), { recursive: true });
      writeFileSync(full, text);
    }
    await git(repo, ["add", "-A"]);
    await git(repo, ["-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-q", "-m", msg]);
  };
  await commit("eslint 10, flat", {
    "package.json": JSON.stringify({ name: "smoke", type: "module", devDependencies: { eslint: "10.15.0" } }),
    "eslint.config.js": 'export default [{ rules: { semi: "error", "no-unused-vars": "warn" } }];\n',
    "a.js": "export const a = 1\n",
  });
  await commit("b", { "b.js": "const unused = 2;\nexport const b = 3;\n" });
  await commit("a fixed", { "a.js": "export const a = 1;\n" });
  return repo;
}

async function main() {
  const work = mkdtempSync(path.join(os.tmpdir(), "farm-toolchain-history-"));
  const farm = await farmBuilt();
  try {
    const benchDir = path.resolve(process.env.FARM_BENCH_DIR || path.join(PROJECT_ROOT, ".farm/bench"));
    const repo = opts.smoke ? await smokeHistory(work) : (opts.repo ?? (await mochaRepo(benchDir)).repo);
    const sha = (await git(repo, ["rev-parse", "--verify", `${opts.sha ?? (opts.repo || opts.smoke ? "HEAD" : MOCHA.head)}^{commit}`])).stdout.trim();
    const total = Number((await git(repo, ["rev-list", "--first-parent", "--count", sha])).stdout.trim());
    const commits = opts.smoke ? 3 : opts.commits === "all" ? total : Math.min(total, Number(opts.commits ?? 200));
    const m = machineInfo();
    log(`${JSON.stringify(m)}; ${repo} ${sha.slice(0, 10)}, ${commits} commits`);
    const toolchains = path.join(work, "toolchains");
    const runOnce = async (name: string, env: Record<string, string>): Promise<{ run: FarmRun; out: Line[] }> => {
      const outFile = path.join(work, `${name}.ndjson`);
      const dataDir = path.join(work, `data-${name}`);
      const run = await runFarmEmbedded({ farm, repo, sha, commits, dataDir, outFile, output: "summary", env });
      log(`${name}: ${fmtS(run.wallMs)} (${run.progress ?? ""})`);
      rmSync(dataDir, { recursive: true, force: true });
      return { run, out: lines(outFile) };
    };
    const data = await runOnce("data-only", { FARM_TOOLCHAINS: "off" });
    const cold = await runOnce("own-cold", { FARM_TOOLCHAINS: "on", FARM_TOOLCHAIN_CACHE_DIR: toolchains });
    const warm = await runOnce("own-warm", { FARM_TOOLCHAINS: "on", FARM_TOOLCHAIN_CACHE_DIR: toolchains });

    const key = (l: Line) => `${l.sha} ${l.summary.files} ${l.summary.errors} ${l.summary.warnings}`;
    const sameColdWarm = JSON.stringify(cold.out.map(key)) === JSON.stringify(warm.out.map(key));
    const messages = (out: Line[]) => out.reduce((n, l) => n + l.summary.errors + l.summary.warnings, 0);
    const noted = (out: Line[], re: RegExp) => out.filter((l) => (l.notes ?? []).some((n) => re.test(n))).length;
    const ids = new Set(cold.out.flatMap((l) => (l.toolchain ? [l.toolchain.id] : [])));
    const ratio = warm.run.wallMs / data.run.wallMs;
    process.stdout.write(
      `\n${table(
        ["run", "wall", "messages", "commits with a toolchain", "not installed", "did not run"],
        [data, cold, warm].map((r, i) => [
          ["data only", "own toolchains, cold", "own toolchains, warm"][i],
          fmtS(r.run.wallMs),
          String(messages(r.out)),
          String(r.out.filter((l) => l.toolchain).length),
          String(noted(r.out, /could not be installed/)),
          String(noted(r.out, /did not run|did not finish/)),
        ]),
        [false, true, true, true, true, true],
      )}\n`,
    );
    process.stdout.write(`distinct toolchains: ${ids.size}; cold and warm agree on every commit: ${sameColdWarm ? "yes" : "NO"}\n`);
    process.stdout.write(
      `own toolchains warm ÷ data only: ${fmtX(ratio)} (target <= ${TARGET_WARM_OVER_DATA}×: ${ratio <= TARGET_WARM_OVER_DATA ? "met" : "NOT met"})\n`,
    );
    if (commits === total)
      process.stdout.write(
        `whole history cold: ${fmtS(cold.run.wallMs)} (target <= ${fmtS(TARGET_WHOLE_COLD_MS)}: ${cold.run.wallMs <= TARGET_WHOLE_COLD_MS ? "met" : "NOT met"})\n`,
      );
    if (opts.json) {
      const summary = {
        repo,
        sha,
        commits,
        toolchains: ids.size,
        wallMs: { data: data.run.wallMs, cold: cold.run.wallMs, warm: warm.run.wallMs },
        ratio,
        sameColdWarm,
      };
      writeFileSync(opts.json, JSON.stringify(summary, null, 2) + "\n");
    }
    if (!sameColdWarm) process.exitCode = 1;
    if (opts.smoke && (ids.size !== 1 || messages(warm.out) === 0)) {
      process.stderr.write("smoke: expected one toolchain and some messages\n");
      process.exitCode = 1;
    }
  } finally {
    rmSync(farm.dir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
