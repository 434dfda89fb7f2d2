/**
 * A commit's own toolchain on a real repository (issue 25), part by part:
 * resolve (from the tree, as data), install (cold: an empty cache; then warm),
 * and `eslint .` in the sandbox on a checkout, with the messages it reports by
 * rule. Default: mocha at its HEAD (the benchmarks' bundle).
 *
 *   node --import tsx test/bench/toolchain.ts [--repo PATH] [--rev REV] [--registry URL]
 *
 * Needs bubblewrap (bwrap) and the npm registry (or `--registry`).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { installToolchain } from "../../shared/toolchain/install.js";
import { resolveToolchain } from "../../shared/toolchain/resolve.js";
import { runSandboxed } from "../../shared/toolchain/sandbox.js";
import { gitTree } from "../harness/commit-tree.js";
import { fmtS, log, PROJECT_ROOT } from "./history-util.js";
import { mochaRepo } from "./history-workload.js";

const { values: opts } = parseArgs({ options: { repo: { type: "string" }, rev: { type: "string", default: "HEAD" }, registry: { type: "string" } } });

async function timed<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const out = await fn();
  log(`${what}: ${fmtS(performance.now() - t0)}`);
  return out;
}

async function main() {
  const benchDir = path.resolve(process.env.FARM_BENCH_DIR || path.join(PROJECT_ROOT, ".farm/bench"));
  const repo = opts.repo ?? (await mochaRepo(benchDir)).repo;
  const work = mkdtempSync(path.join(os.tmpdir(), "farm-bench-toolchain-"));
  try {
    const spec = await timed("resolve", () => resolveToolchain(gitTree(repo, opts.rev)));
    log(`toolchain ${spec.id}: ${spec.configFile} (${spec.format}), ${JSON.stringify(spec.packages)}${spec.before ? `, before ${spec.before}` : ""}`);
    for (const note of spec.notes) log(`  note: ${note}`);
    const install = { cacheDir: path.join(work, "toolchains"), registry: opts.registry, timeoutMs: 600_000 };
    const toolchain = await timed("install, cold", () => installToolchain(spec, install));
    await timed("install, warm", () => installToolchain(spec, install));
    log(`installed ${JSON.stringify(toolchain.versions)}`);
    const checkout = path.join(work, "checkout");
    mkdirSync(checkout);
    execFileSync("sh", ["-c", 'git -C "$1" archive "$2" | tar -x -C "$3"', "sh", repo, opts.rev, checkout]);
    const r = await timed("eslint . in the sandbox", () => runSandboxed({ toolchain, workDir: checkout, paths: ["."], timeoutMs: 600_000, memoryMb: 2048 }));
    const rules = new Map<string, number>();
    for (const f of r.files) for (const m of f.messages) rules.set(m.ruleId ?? "(fatal)", (rules.get(m.ruleId ?? "(fatal)") ?? 0) + 1);
    log(
      `ESLint ${r.eslintVersion}: ${r.ok ? "ok" : `failed: ${r.reason}`}; ${r.files.length} files, ${[...rules.values()].reduce((a, b) => a + b, 0)} messages`,
    );
    for (const [rule, n] of [...rules].sort((a, b) => b[1] - a[1])) log(`  ${n}\t${rule}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
