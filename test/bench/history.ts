/**
 * History benchmark (issue 6, parts 1 and 3): lint every commit of a real
 * history four ways, on the same commits and the same ESLint config.
 *
 *   (a) `eslint .` on a checkout of each commit, one after another
 *   (b) the same with `--cache --cache-strategy content --concurrency auto`
 *   (c) `farm analyze <repo> --commits N --format ndjson --summary` on the embedded default, cold
 *       and warm (the history as a user reads it: one summary and delta per commit), then once more
 *       warm with `--format ndjson` (every commit's full per-file report), timed on its own
 *   (d) the floor: CPU time to lint each distinct (blob, config) once, divided by the cores
 *
 * Checks: the summary runs' files, errors and warnings per commit, and the full
 * reports' issues per commit (per file on a mismatch), against ESLint's.
 * Plus memory: peak RSS of the farm process during (c); of each service run as
 * its own process over the benchmark commits (and, for mocha beyond 200
 * commits, over the newest 200 too: flat in history length?), and over a 200-
 * and a 1,000-commit synthetic history.
 *
 *   node --import tsx test/bench/history.ts [--workload mongoose|mocha] [--repo PATH] [--commits N|all] [--smoke] [--json FILE]
 *
 * Workloads, both kept under FARM_BENCH_DIR (default .farm/bench) and reused:
 * - mongoose (default): a bare git repo of mongoose's npm releases 7.0.0 → 9.12.1,
 *   one commit per release, built once from the npm registry;
 * - mocha: mocha's real history (3,044 first-parent commits up to e6b9ee77),
 *   cloned once from a git bundle (FARM_MOCHA_BUNDLE, default <project>/../shared/bench/mocha.bundle).
 * Results and how to read them: docs/benchmarks.md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { keyOf, planHistory, runEslintHistory, writeSampleConfig, type CommitCounts, type EslintRun, type HistoryPlan } from "./history-eslint.js";
import {
  farmBuilt,
  farmFromSource,
  FORMAT_ARGS,
  runFarmEmbedded,
  runFarmSplit,
  SERVICES,
  type FarmCommand,
  type FarmRun,
  type ReportCounts,
  type SplitRun,
} from "./history-farm.js";
import { summarizeProfiles, type ProfileSummary } from "./history-profile.js";
import { fmtMB, fmtMiB, fmtN, fmtS, fmtX, git, gitDirOf, log, machineInfo, PROJECT_ROOT, run, table, type ProcSample } from "./history-util.js";
import { DEFAULT_PACKAGE, MOCHA, memoryRepo, mochaRepo, npmReleaseRepo, smokeRepo } from "./history-workload.js";
import { writeOutputFile } from "../../cli/output-file.js";

/** 200 commits (mongoose, mocha): (c) cold ≥ 20× faster than (b), ≤ 1.5× (d) (the README's targets). */
const TARGET_B_OVER_C = 20;
const TARGET_C_OVER_D = 1.5;
/** mocha, whole history: (c) cold ≤ 1.3× (d), ((c) − (d)) / commits ≤ 3 ms, (c) warm ≥ 50× faster than (b). */
const TARGET_ALL_C_OVER_D = 1.3;
const TARGET_ALL_OVERHEAD_MS = 3;
const TARGET_ALL_B_OVER_C_WARM = 50;
/** Peak RSS of every service and of the CLI flat in history length: N commits vs the newest 200 ≤ 1.3× (mocha, N > 200). */
const TARGET_RSS_FLAT = 1.3;
const RSS_BASE_COMMITS = 200;
const WORKLOADS = ["mongoose", "mocha"] as const;
type Workload = (typeof WORKLOADS)[number];

const { values: opts } = parseArgs({
  options: {
    workload: { type: "string" }, // "mongoose" (default) | "mocha"
    repo: { type: "string" },
    sha: { type: "string" },
    commits: { type: "string" },
    smoke: { type: "boolean", default: false },
    json: { type: "string" },
    package: { type: "string" },
    from: { type: "string" },
    to: { type: "string" },
    "memory-commits": { type: "string" },
    farm: { type: "string" }, // "src" | "build"
    skip: { type: "string" }, // comma list of a,b,c,d,memory,split-real
    profile: { type: "boolean", default: false },
    "keep-work": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (opts.help) {
  process.stdout.write(`node --import tsx test/bench/history.ts [options]
  --workload NAME        mongoose (default): mongoose's npm releases as commits (see --package);
                         mocha: mocha's real history, cloned once from a git bundle (${MOCHA.bundleEnv})
  --repo PATH            any local git repo instead of a workload
  --sha SHA              newest commit to analyze (default HEAD; mocha ${MOCHA.head.slice(0, 8)}…)
  --commits N|all        commits to analyze (default 200; smoke 4); all: the whole first-parent history
  --smoke                tiny local repos, well under a minute (CI)
  --json FILE            write the results as JSON
  --package NAME         npm package of the default workload (default ${DEFAULT_PACKAGE.pkg}, with --from/--to)
  --from V / --to V      version range of the release repo (default ${DEFAULT_PACKAGE.from}..${DEFAULT_PACKAGE.to})
  --memory-commits N     long synthetic history for the aggregator memory test (default 1000; smoke 10)
  --farm src|build|FILE  farm from source (tsx), compiled from the current source into .farm/bench-build-<pid>
                         (default), or a given cli/farm.js
  --skip a,b,c,d,memory,split-real  leave runs out (the table then has gaps; with a skipped, issue counts
                         are checked against (b), else (d); --skip a for a whole history: (a) takes hours);
                         memory: the synthetic-history aggregator test; split-real: one process per service
                         on the benchmark commits (and on the newest ${RSS_BASE_COMMITS}, mocha beyond ${RSS_BASE_COMMITS} commits)
  --profile              one more cold farm run under --cpu-prof; prints where the time goes
  --keep-work            keep the temp dir (checkouts, configs, farm data, profiles)
Env: FARM_BENCH_DIR (default .farm/bench) caches the release repo and its tarballs, and mocha-repo;
     ${MOCHA.bundleEnv} (default <project>/../shared/bench/mocha.bundle) the mocha bundle.
Targets: mongoose (and --repo, --smoke): (c) >= ${TARGET_B_OVER_C}× faster than (b), (c) <= ${TARGET_C_OVER_D}× (d).
  mocha, 200 commits: the same two; whole history (--commits all): (c) <= ${TARGET_ALL_C_OVER_D}× (d),
  ((c) - (d)) / commits <= ${TARGET_ALL_OVERHEAD_MS} ms, (c) warm >= ${TARGET_ALL_B_OVER_C_WARM}× faster than (b);
  mocha beyond ${RSS_BASE_COMMITS} commits: peak RSS of every service and of the CLI <= ${TARGET_RSS_FLAT}× its peak on the newest ${RSS_BASE_COMMITS}.
  (c) in the targets is the summary run (${FORMAT_ARGS.summary.join(" ")}); the full reports (${FORMAT_ARGS.full.join(" ")})
  are timed as their own row.
`);
  process.exit(0);
}

function usage(msg: string): never {
  process.stderr.write(`history benchmark: ${msg} (--help for usage)\n`);
  process.exit(2);
}

const smoke = opts.smoke;
const SKIPPABLE = ["a", "b", "c", "d", "memory", "split-real"];
const skip = new Set((opts.skip ?? "").split(",").filter(Boolean));
for (const s of skip) if (!SKIPPABLE.includes(s)) usage(`--skip ${s}: not one of ${SKIPPABLE.join(",")}`);
if (opts.workload !== undefined && !(WORKLOADS as readonly string[]).includes(opts.workload)) usage(`--workload must be one of ${WORKLOADS.join(", ")}`);
if (opts.workload !== undefined && opts.repo) usage("--workload and --repo exclude each other (--repo analyzes the given repo)");
if (opts.workload !== undefined && smoke) usage("--workload and --smoke exclude each other (--smoke uses its own tiny repos)");
const workloadName: Workload = (opts.workload as Workload | undefined) ?? "mongoose";
if (workloadName === "mocha" && (opts.package || opts.from || opts.to)) usage("--package, --from and --to belong to the mongoose (npm releases) workload");
if (opts.commits !== undefined && opts.commits !== "all" && !(Number.isInteger(Number(opts.commits)) && Number(opts.commits) >= 1))
  usage("--commits must be a positive integer or all");
const benchDir = path.resolve(process.env.FARM_BENCH_DIR || path.join(PROJECT_ROOT, ".farm/bench"));
const workDir = mkdtempSync(path.join(os.tmpdir(), "farm-history-"));
const cores = os.availableParallelism();

function int(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
}

interface Check {
  name: string;
  equal: number;
  total: number;
  /** expected / got: errors + warnings; detail: the summary fields that differ; files: the paths that differ. */
  mismatches: { sha: string; expected: number; got: number; detail?: string; files?: string[] }[];
}

/** A commit's files, errors and warnings; per file (errors + warnings) where known. */
type Counts = ReportCounts;
const issues = (c: Counts | undefined) => (c ? c.errors + c.warnings : -1);
const TOTALS = ["files", "errors", "warnings"] as const;

/** What the other runs' issue counts are checked against: (a), else (b) (with --skip a), else (d). */
interface Reference {
  /** In check names: "eslint (a)". */
  label: string;
  /** In mismatch lines: "eslint". */
  short: string;
  get: (sha: string) => Counts | undefined;
}

/** Per commit: errors + warnings of `got` against the reference's (per file on a mismatch, where both have files). */
function compare(name: string, plan: HistoryPlan, ref: Reference, got: (sha: string) => Counts | undefined): Check {
  const check: Check = { name, equal: 0, total: plan.commits.length, mismatches: [] };
  for (const c of plan.commits) {
    const ea = ref.get(c.sha);
    const g = got(c.sha);
    const expected = issues(ea);
    if (g && ea && issues(g) === expected) {
      check.equal++;
      continue;
    }
    let files: string[] | undefined;
    if (g?.perFile && ea?.perFile) {
      const ef = ea.perFile;
      const paths = new Set([...ef.keys(), ...g.perFile.keys()]);
      files = [...paths]
        .filter((p) => ef.get(p) !== g.perFile!.get(p))
        .slice(0, 8)
        .map((p) => `${p}: ${ref.short} ${ef.get(p) ?? "absent"}, ${name.split(" ")[0]} ${g.perFile!.get(p) ?? "absent"}`);
    }
    check.mismatches.push({ sha: c.sha, expected, got: issues(g), files });
  }
  return check;
}

/** Per commit: the summary's files, errors and warnings, each equal to the reference's. */
function compareTotals(name: string, plan: HistoryPlan, ref: Reference, got: (sha: string) => Counts | undefined): Check {
  const check: Check = { name, equal: 0, total: plan.commits.length, mismatches: [] };
  const who = name.split(" ")[0];
  for (const c of plan.commits) {
    const e = ref.get(c.sha);
    const g = got(c.sha);
    if (e && g && TOTALS.every((k) => e[k] === g[k])) {
      check.equal++;
      continue;
    }
    const detail = !e
      ? `no ${ref.short} counts`
      : !g
        ? `commit not printed by ${who}`
        : TOTALS.filter((k) => e[k] !== g[k])
            .map((k) => `${k}: ${ref.short} ${e[k]}, ${who} ${g[k]}`)
            .join("; ");
    check.mismatches.push({ sha: c.sha, expected: issues(e), got: issues(g), detail });
  }
  return check;
}

const fromEslint =
  (r: EslintRun) =>
  (sha: string): Counts | undefined =>
    r.perCommit.get(sha) satisfies CommitCounts | undefined;

const fromReports =
  (runs: Map<string, ReportCounts>) =>
  (sha: string): Counts | undefined =>
    runs.get(sha);

function procRow(name: string, s: ProcSample | undefined): string[] {
  return [name, fmtMiB(s?.hwmKb), s ? fmtS(s.cpuMs) : "-"];
}

let farm: FarmCommand | undefined;

async function main() {
  const t0 = performance.now();
  const machine = machineInfo();
  log(`work dir ${workDir}`);

  // ------------------------------------------------------------ workload
  let repo: string;
  let workload: Record<string, unknown>;
  if (opts.repo) {
    repo = path.resolve(opts.repo);
    workload = { kind: "local repo", repo };
  } else if (smoke) {
    repo = await smokeRepo(workDir);
    workload = { kind: "synthetic smoke repo (4 commits covering sourceType, TS, JSX, parse errors, skipped files)", repo };
  } else if (workloadName === "mocha") {
    const cloned = await mochaRepo(benchDir);
    repo = cloned.repo;
    workload = { kind: "mocha's first-parent history", name: "mocha", bundle: cloned.bundle, repo };
  } else {
    const spec = { pkg: opts.package ?? DEFAULT_PACKAGE.pkg, from: opts.from ?? DEFAULT_PACKAGE.from, to: opts.to ?? DEFAULT_PACKAGE.to };
    if (opts.package && (!opts.from || !opts.to)) throw new Error("--package needs --from and --to (a version range to pin the history)");
    const built = await npmReleaseRepo(benchDir, spec);
    repo = built.repo;
    workload = { kind: "npm releases", name: "mongoose", package: spec.pkg, range: `${spec.from}..${spec.to}`, releases: built.plan.releases.length, repo };
  }
  const mocha = !opts.repo && !smoke && workloadName === "mocha";
  const gitDir = gitDirOf(repo);
  const head = (await git(gitDir, ["rev-parse", "--verify", "--end-of-options", `${opts.sha ?? (mocha ? MOCHA.head : "HEAD")}^{commit}`])).stdout.trim();
  const available = Number((await git(gitDir, ["rev-list", "--first-parent", "--count", head])).stdout.trim());
  const commits = opts.commits === "all" ? available : Math.min(int("commits", opts.commits, smoke ? 4 : 200), available);
  const wholeHistory = commits === available;
  const memoryCommits = int("memory-commits", opts["memory-commits"], smoke ? 10 : 1000);

  log(`planning ${commits} commits of ${repo}`);
  const plan = await planHistory(gitDir, head, commits);
  const distinctBlobs = new Set(plan.commits.flatMap((c) => c.files.map((f) => f.blob))).size;
  const unmirrored = [...new Set(plan.commits.flatMap((c) => c.unmirrored))];
  Object.assign(workload, {
    head,
    commits,
    wholeHistory,
    oldest: plan.commits[0]?.subject,
    newest: plan.commits.at(-1)?.subject,
    fileVersions: plan.fileVersions,
    distinctBlobs,
    distinctBlobConfigs: plan.distinct.size,
    configs: plan.configs.size,
    contentSkippedBlobs: plan.contentSkipped,
  });
  writeSampleConfig(plan, path.join(workDir, "eslint.config.sample.mjs"));
  log(`${fmtN(plan.fileVersions)} file versions, ${fmtN(plan.distinct.size)} distinct (blob, config)`);

  farm = opts.farm === "src" ? farmFromSource() : opts.farm?.startsWith("/") ? { args: [opts.farm], label: opts.farm } : await farmBuilt();

  // ------------------------------------------------------------ (d) the floor
  let floor: { cpuMs: number; wallMs: number; files: number; counts: Record<string, [number, number]> } | undefined;
  if (!skip.has("d")) {
    log(`(d) linting ${fmtN(plan.distinct.size)} distinct (blob, config) in-process`);
    const input = path.join(workDir, "floor-input.json");
    writeFileSync(input, JSON.stringify({ gitDir, items: [...plan.distinct.values()], configs: Object.fromEntries(plan.configs) }));
    const r = await run(process.execPath, ["--import", "tsx", path.join(PROJECT_ROOT, "test/bench/history-floor.ts"), input], {
      cwd: PROJECT_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      maxBuffer: 1 << 30,
    } as never);
    floor = JSON.parse(r.stdout) as NonNullable<typeof floor>;
    log(`(d) floor: ${fmtS(floor.cpuMs)} CPU for ${fmtN(floor.files)} files / ${cores} cores = ${fmtS(floor.cpuMs / cores)}`);
  }

  // ------------------------------------------------------------ (c) farm
  let cold: FarmRun | undefined;
  let warm: FarmRun | undefined;
  let full: FarmRun | undefined;
  if (!skip.has("c")) {
    const dataDir = path.join(workDir, "farm-data");
    rmSync(dataDir, { recursive: true, force: true });
    log(`(c) farm analyze ${FORMAT_ARGS.summary.join(" ")}, cold (${farm.label})`);
    cold = await runFarmEmbedded({ farm, repo, sha: head, commits, dataDir, outFile: path.join(workDir, "farm-cold.ndjson"), output: "summary" });
    log(
      `(c) cold: ${fmtS(cold.wallMs)} (commits queued at ${fmtS(cold.ingestDoneMs)}, all completed at ${fmtS(cold.allCompletedMs)}, ${fmtMB(cold.outputBytes)} of summaries; CPU farm ${fmtS(cold.cpuMs)}, nats-server ${fmtS(cold.natsCpuMs)}); warm run`,
    );
    warm = await runFarmEmbedded({ farm, repo, sha: head, commits, dataDir, outFile: path.join(workDir, "farm-warm.ndjson"), output: "summary" });
    log(
      `(c) warm: ${fmtS(warm.wallMs)} (commits queued at ${fmtS(warm.ingestDoneMs)}, all completed at ${fmtS(warm.allCompletedMs)}; CPU farm ${fmtS(warm.cpuMs)}); full per-file reports (${FORMAT_ARGS.full.join(" ")}), warm`,
    );
    const fullFile = path.join(workDir, "farm-full.ndjson");
    full = await runFarmEmbedded({ farm, repo, sha: head, commits, dataDir, outFile: fullFile, output: "full" });
    log(
      `(c) full reports, warm: ${fmtS(full.wallMs)} (all completed at ${fmtS(full.allCompletedMs)}, ${fmtMB(full.outputBytes)} of reports; CPU farm ${fmtS(full.cpuMs)})`,
    );
    if (!opts["keep-work"]) rmSync(fullFile, { force: true }); // gigabytes for a whole history
    if (floor) {
      const d = floor.cpuMs / cores;
      log(`(c)/(d) cold ${fmtX(cold.wallMs / d)}, warm ${fmtX(warm.wallMs / d)}; ((c) cold − (d)) / commits ${((cold.wallMs - d) / commits).toFixed(1)} ms`);
    }
  }

  // ------------------------------------------------------------ (a), (b)
  let plain: EslintRun | undefined;
  let cached: EslintRun | undefined;
  if (!skip.has("a")) {
    log(`(a) eslint . on ${commits} checkouts${commits > 500 ? " (a few seconds per commit: --skip a leaves it out)" : ""}`);
    plain = await runEslintHistory(plan, workDir, "plain");
    log(`(a) ${fmtS(plain.eslintMs)}`);
  }
  if (!skip.has("b")) {
    log(`(b) eslint . --cache --cache-strategy content --concurrency auto on ${commits} checkouts`);
    cached = await runEslintHistory(plan, workDir, "cache");
    log(`(b) ${fmtS(cached.eslintMs)}`);
  }

  // ------------------------------------------------------------ memory
  const split: SplitRun[] = [];
  let memRepoCommits = 0;
  if (!skip.has("memory")) {
    const memRepo = await memoryRepo(path.join(benchDir, "synthetic"), memoryCommits);
    const memHead = (await git(memRepo, ["rev-parse", "HEAD"])).stdout.trim();
    memRepoCommits = memoryCommits;
    const shortRun = Math.max(2, Math.round(memoryCommits / 5));
    for (const n of [shortRun, memoryCommits]) {
      log(`memory: one process per service, ${n} commits of the synthetic repo`);
      split.push(await runFarmSplit({ farm, repo: memRepo, sha: memHead, commits: n, dir: path.join(workDir, `split-${n}`) }));
    }
  }

  // The real history once more, one process per service: the linter-runner's own peak RSS; for mocha
  // beyond 200 commits, the newest 200 too: every service's and the CLI's peak flat in history length?
  let splitReal: SplitRun | undefined;
  let splitReal200: SplitRun | undefined;
  if (!skip.has("split-real") && !smoke) {
    if (mocha && commits > RSS_BASE_COMMITS) {
      log(`memory: one process per service, the newest ${RSS_BASE_COMMITS} commits of the benchmark repo`);
      splitReal200 = await runFarmSplit({ farm, repo, sha: head, commits: RSS_BASE_COMMITS, dir: path.join(workDir, `split-real-${RSS_BASE_COMMITS}`) });
    }
    log(`memory: one process per service, ${commits} commits of the benchmark repo`);
    splitReal = await runFarmSplit({ farm, repo, sha: head, commits, dir: path.join(workDir, "split-real") });
  }

  // ------------------------------------------------------------ profile (optional, one more cold run)
  let profile: ProfileSummary | undefined;
  if (opts.profile) {
    const profDir = path.join(workDir, "cpu-prof");
    mkdirSync(profDir, { recursive: true });
    log("profile: cold farm run under --cpu-prof");
    const profRun = await runFarmEmbedded({
      farm,
      repo,
      sha: head,
      commits,
      dataDir: path.join(workDir, "farm-prof"),
      outFile: path.join(workDir, "farm-prof.ndjson"),
      output: "summary",
      cpuProfDir: profDir,
    });
    profile = summarizeProfiles(profDir, profRun.wallMs);
  }

  // ------------------------------------------------------------ checks
  const checks: Check[] = [];
  const commitBySha = new Map(plan.commits.map((c) => [c.sha, c]));
  const fromFloor =
    floor &&
    ((sha: string): Counts | undefined => {
      const c = commitBySha.get(sha);
      if (!c) return undefined;
      let errors = 0;
      let warnings = 0;
      const perFile = new Map<string, number>();
      for (const f of c.files) {
        const k = floor!.counts[keyOf(f)];
        perFile.set(f.path, k ? k[0] + k[1] : NaN);
        errors += k ? k[0] : NaN;
        warnings += k ? k[1] : NaN;
      }
      return { files: c.files.length, errors, warnings, perFile };
    });
  const ref: Reference | undefined = plain
    ? { label: "eslint (a)", short: "eslint", get: fromEslint(plain) }
    : cached
      ? { label: "eslint --cache (b)", short: "eslint-cache", get: fromEslint(cached) }
      : fromFloor && { label: "floor (d)", short: "floor", get: fromFloor };
  if (ref) {
    if (cold) checks.push(compareTotals(`farm cold, summaries (files, errors, warnings) == ${ref.label}`, plan, ref, fromReports(cold.reports)));
    if (warm) checks.push(compareTotals(`farm warm, summaries (files, errors, warnings) == ${ref.label}`, plan, ref, fromReports(warm.reports)));
    if (full) checks.push(compare(`farm full reports (warm) == ${ref.label}`, plan, ref, fromReports(full.reports)));
    if (cached && plain) checks.push(compare(`eslint --cache (b) == ${ref.label}`, plan, ref, fromEslint(cached)));
    if (fromFloor && (plain || cached)) checks.push(compare(`floor (d) == ${ref.label}`, plan, ref, fromFloor));
  }

  // ------------------------------------------------------------ results
  const floorMs = floor ? floor.cpuMs / cores : undefined;
  const ratio = (x?: number, y?: number) => (x !== undefined && y !== undefined && y > 0 ? x / y : undefined);
  const ratios = {
    aOverC: ratio(plain?.eslintMs, cold?.wallMs),
    bOverC: ratio(cached?.eslintMs, cold?.wallMs),
    cOverD: ratio(cold?.wallMs, floorMs),
    aOverCWarm: ratio(plain?.eslintMs, warm?.wallMs),
    bOverCWarm: ratio(cached?.eslintMs, warm?.wallMs),
    cWarmOverD: ratio(warm?.wallMs, floorMs),
  };
  /** ((c) cold − (d)) / commits, ms: what farm spends per commit beyond linting each distinct (blob, config) once. */
  const overheadMs = cold && floorMs !== undefined ? (cold.wallMs - floorMs) / commits : undefined;
  const verdict = (ok: boolean | undefined) => (ok === undefined ? "n/a" : ok ? "PASS" : "BELOW");
  interface Target {
    id: string;
    label: string;
    target: string;
    value?: number;
    shown: string;
    verdict: string;
    onCommits: number;
    note: string;
  }
  const targetList: Target[] = [];
  const addTarget = (id: string, label: string, value: number | undefined, op: ">=" | "<=", limit: number, shown: string, note = "") =>
    targetList.push({
      id,
      label,
      target: `${op} ${limit}`,
      value,
      shown,
      verdict: verdict(value === undefined ? undefined : op === ">=" ? value >= limit : value <= limit),
      onCommits: commits,
      note,
    });
  if (mocha && wholeHistory) {
    addTarget(
      "cOverD",
      `(c) cold within ${TARGET_ALL_C_OVER_D}× of (d) on the whole history (${commits} commits)`,
      ratios.cOverD,
      "<=",
      TARGET_ALL_C_OVER_D,
      fmtX(ratios.cOverD),
    );
    addTarget(
      "overheadPerCommitMs",
      `((c) cold − (d)) / commits <= ${TARGET_ALL_OVERHEAD_MS} ms`,
      overheadMs,
      "<=",
      TARGET_ALL_OVERHEAD_MS,
      overheadMs === undefined ? "-" : `${overheadMs.toFixed(1)} ms`,
    );
    addTarget(
      "bOverCWarm",
      `(c) warm >= ${TARGET_ALL_B_OVER_C_WARM}× faster than (b) on the whole history`,
      ratios.bOverCWarm,
      ">=",
      TARGET_ALL_B_OVER_C_WARM,
      fmtX(ratios.bOverCWarm),
    );
  } else {
    const note = mocha
      ? commits !== 200
        ? " (mocha's targets are for 200 commits and the whole history: indicative only)"
        : ""
      : commits < 200
        ? " (fewer than 200 commits: indicative only)"
        : "";
    addTarget("bOverC", `(c) >= ${TARGET_B_OVER_C}× faster than (b) on ${commits} commits`, ratios.bOverC, ">=", TARGET_B_OVER_C, fmtX(ratios.bOverC), note);
    addTarget("cOverD", `(c) within ${TARGET_C_OVER_D}× of (d)`, ratios.cOverD, "<=", TARGET_C_OVER_D, fmtX(ratios.cOverD), mocha ? note : "");
  }
  // Peak RSS per process, N commits against the newest 200 (one process per service, cold each).
  const rssFlat =
    splitReal &&
    splitReal200 &&
    (() => {
      const procs = [...SERVICES, "client", "nats-server"].map((name) => {
        const baseKb = splitReal200!.procs[name]?.hwmKb;
        const peakKb = splitReal!.procs[name]?.hwmKb;
        const r = ratio(peakKb, baseKb);
        const inTarget = name !== "nats-server";
        return { name, baseKb, peakKb, ratio: r, inTarget, ok: inTarget && r !== undefined ? r <= TARGET_RSS_FLAT : undefined };
      });
      const judged = procs.filter((x) => x.inTarget);
      const worst = judged.every((x) => x.ratio !== undefined) ? judged.reduce((a, b) => (b.ratio! > a.ratio! ? b : a)) : undefined;
      return { baseCommits: RSS_BASE_COMMITS, commits, procs, worst };
    })();
  if (rssFlat) {
    const w = rssFlat.worst;
    addTarget(
      "rssFlat",
      `peak RSS of every service and the CLI, ${commits} vs ${RSS_BASE_COMMITS} commits, <= ${TARGET_RSS_FLAT}×`,
      w?.ratio,
      "<=",
      TARGET_RSS_FLAT,
      w ? `${fmtX(w.ratio)} (${w.name})` : "-",
    );
  }
  const targets = Object.fromEntries(targetList.map((t) => [t.id, { target: t.target, value: t.value, verdict: t.verdict, onCommits: t.onCommits }]));
  const countsOk = checks.every((c) => c.equal === c.total);
  const aggregator = split.map((s) => ({ commits: s.commits, peakRssKb: s.procs.aggregator?.hwmKb }));
  const aggGrowth =
    aggregator.length === 2 && aggregator[0].peakRssKb && aggregator[1].peakRssKb ? aggregator[1].peakRssKb / aggregator[0].peakRssKb : undefined;
  const machineAfter = machineInfo();

  const per = (ms?: number) => (ms === undefined ? "-" : fmtS(ms / commits));
  const rows: string[][] = [
    ["(a) eslint . per commit", fmtS(plain?.eslintMs), per(plain?.eslintMs), fmtX(ratios.aOverC), fmtX(ratios.aOverCWarm)],
    ["(b) eslint --cache content --concurrency auto", fmtS(cached?.eslintMs), per(cached?.eslintMs), fmtX(ratios.bOverC), fmtX(ratios.bOverCWarm)],
    ["(c) farm analyze --summary, cold (empty data dir)", fmtS(cold?.wallMs), per(cold?.wallMs), fmtX(cold ? 1 : undefined), ""],
    ["(c) farm analyze --summary, warm (same data dir)", fmtS(warm?.wallMs), per(warm?.wallMs), "", fmtX(warm ? 1 : undefined)],
    [
      "(c) farm, full per-file reports (warm, ndjson)",
      fmtS(full?.wallMs),
      per(full?.wallMs),
      fmtX(ratio(full?.wallMs, cold?.wallMs)),
      fmtX(ratio(full?.wallMs, warm?.wallMs)),
    ],
    [
      `(d) floor: ${floor ? fmtS(floor.cpuMs) : "-"} CPU / ${cores} cores`,
      fmtS(floorMs),
      per(floorMs),
      fmtX(ratio(floorMs, cold?.wallMs)),
      fmtX(ratio(floorMs, warm?.wallMs)),
    ],
  ];
  let out = "";
  const p = (s = "") => (out += `${s}\n`);
  p();
  p(
    `History benchmark — ${machine.date.slice(0, 19)}Z on ${machine.cpu}, ${cores} cores, ${machine.memGiB} GiB; node ${machine.node}, ${machine.natsServer}, eslint ${machine.eslint}, ${machine.git}`,
  );
  p(`load average before ${machine.loadAvg.join(" ")}, after ${machineAfter.loadAvg.join(" ")} (shared machine: absolute times are noisy, ratios less so)`);
  p(
    `workload: ${workload.kind}${workload.package ? ` ${workload.package} ${workload.range}` : ""} — ${repo}${wholeHistory && !smoke ? " (the whole first-parent history)" : ""}`,
  );
  p(
    `  ${commits} commits (${plan.commits[0]?.subject} … ${plan.commits.at(-1)?.subject}), ${fmtN(plan.fileVersions)} file versions linted by farm, ${fmtN(distinctBlobs)} distinct blobs, ${fmtN(plan.distinct.size)} distinct (blob, config), ${plan.configs.size} configs`,
  );
  p(
    `  farm ran ${farm.label}; ESLint used a generated eslint.config.mjs equivalent to farm's default (sample: ${path.join(workDir, "eslint.config.sample.mjs")}${opts["keep-work"] ? "" : ", removed at exit unless --keep-work"})`,
  );
  if (unmirrored.length) p(`  NOTE: the repo has ${unmirrored.join(", ")}, which farm honours and the generated ESLint config does not: counts may differ`);
  p();
  p(table(["run", "wall", "per commit", "vs (c) cold", "vs (c) warm"], rows, [false, true, true, true, true]));
  p();
  p(
    `(a)/(c) ${fmtX(ratios.aOverC)}   (b)/(c) ${fmtX(ratios.bOverC)}   (c)/(d) ${fmtX(ratios.cOverD)}      warm: (a)/(c) ${fmtX(ratios.aOverCWarm)}   (b)/(c) ${fmtX(ratios.bOverCWarm)}   (c)/(d) ${fmtX(ratios.cWarmOverD)}`,
  );
  if (overheadMs !== undefined) p(`(c) cold − (d): ${fmtS(cold!.wallMs - floorMs!)}, ${overheadMs.toFixed(1)} ms per commit`);
  const labelWidth = Math.max(...targetList.map((t) => t.label.length + 1));
  for (const t of targetList) p(`target ${`${t.label}:`.padEnd(labelWidth)} ${t.shown} ${t.verdict}${t.note}`);
  if (plain)
    p(
      `(a) excludes checkouts (${fmtS(plain.checkoutMs)} of git read-tree + config writing); (a) and (b) include each eslint process's start-up and config loading.`,
    );
  if (cold) {
    p(
      `(c) cold and warm: farm analyze ${FORMAT_ARGS.summary.join(" ")} (a summary and delta per commit); the full-reports row: ${FORMAT_ARGS.full.join(" ")} on the warm data dir, after the warm run`,
    );
    p(
      `(c) cold timeline: ingest queued the commits at ${fmtS(cold.ingestDoneMs)}, last commit completed at ${fmtS(cold.allCompletedMs)}, process exit at ${fmtS(cold.wallMs)} (summaries fetched, ${fmtMB(cold.outputBytes)} of NDJSON written, shutdown)`,
    );
    p(
      `(c) cold CPU: farm process ${fmtS(cold.cpuMs)} (all threads), nats-server ${fmtS(cold.natsCpuMs)}; floor CPU ${floor ? fmtS(floor.cpuMs) : "-"}; ${cold.progress ?? ""}`,
    );
  }
  if (warm)
    p(
      `(c) warm timeline: commits queued at ${fmtS(warm.ingestDoneMs)}, last commit completed at ${fmtS(warm.allCompletedMs)}, process exit at ${fmtS(warm.wallMs)}; farm process CPU ${fmtS(warm.cpuMs)}`,
    );
  if (full)
    p(
      `(c) full reports timeline: commits queued at ${fmtS(full.ingestDoneMs)}, last commit completed at ${fmtS(full.allCompletedMs)}, process exit at ${fmtS(full.wallMs)} (${fmtMB(full.outputBytes)} of NDJSON written); farm process CPU ${fmtS(full.cpuMs)}`,
    );
  p();
  p("Issue counts per commit (summaries: files, errors and warnings each equal; the rest: errors + warnings, per file on a mismatch)");
  if (checks.length === 0) p("  (nothing to check: (a), (b) and (d) skipped, or (c) and all but one of them)");
  else
    p(
      table(
        ["check", "commits equal", "result"],
        checks.map((c) => [c.name, `${c.equal}/${c.total}`, c.equal === c.total ? "PASS" : "FAIL"]),
        [false, true, false],
      ),
    );
  for (const c of checks)
    for (const m of c.mismatches.slice(0, 3)) {
      p(`  ${c.name}: ${m.sha.slice(0, 10)} ${ref!.short} ${m.expected}, got ${m.got}${m.detail ? ` (${m.detail})` : ""}`);
      for (const f of m.files ?? []) p(`      ${f}`);
    }
  p();
  p("Memory (peak RSS = VmHWM)");
  if (cold)
    p(
      `  (c) embedded, cold: farm process ${fmtMiB(cold.peakRssKb)} (services, lint threads and CLI in one process), its nats-server ${fmtMiB(cold.natsPeakRssKb)}; warm: ${fmtMiB(warm?.peakRssKb)}; full reports (warm): ${fmtMiB(full?.peakRssKb)}`,
    );
  if (splitReal) {
    p(`  one process per service, the ${commits} benchmark commits (cold, ${fmtS(splitReal.wallMs)}; the client prints summaries):`);
    p(
      table(
        ["process", "peak RSS", "CPU"],
        [...SERVICES, "nats-server", "client"].map((n) => procRow(n, splitReal!.procs[n])),
        [false, true, true],
      ),
    );
  }
  if (rssFlat) {
    p(
      `  peak RSS flat in history length? The newest ${RSS_BASE_COMMITS} commits (cold, ${fmtS(splitReal200!.wallMs)}) against the ${commits} benchmark commits, one process per service; target <= ${TARGET_RSS_FLAT}× for every service and the CLI (client):`,
    );
    p(
      table(
        ["process", `${RSS_BASE_COMMITS} commits`, `${commits} commits`, "ratio", `<= ${TARGET_RSS_FLAT}×`],
        rssFlat.procs.map((x) => [
          x.name,
          fmtMiB(x.baseKb),
          fmtMiB(x.peakKb),
          fmtX(x.ratio),
          !x.inTarget ? "(not a target)" : x.ok === undefined ? "n/a" : x.ok ? "PASS" : "ABOVE",
        ]),
        [false, true, true, true, false],
      ),
    );
  }
  if (split.length) {
    p(`  one process per service, synthetic repo of ${memRepoCommits} commits × 60 files (each commit edits 2 files):`);
    const names = [...SERVICES, "nats-server", "client"];
    p(
      table(
        ["process", ...split.map((s) => `${s.commits} commits: peak RSS`), ...split.map((s) => `${s.commits}: CPU`)],
        names.map((n) => {
          const rs = split.map((s) => procRow(n, s.procs[n]));
          return [n, ...rs.map((r) => r[1]), ...rs.map((r) => r[2])];
        }),
        [false, true, true, true, true],
      ),
    );
    p(
      `  aggregator peak RSS ${split.map((s) => `${fmtMiB(s.procs.aggregator?.hwmKb)} at ${s.commits} commits`).join(", ")}: ×${aggGrowth?.toFixed(2) ?? "-"} for ${(split[1].commits / split[0].commits).toFixed(0)}× the commits — ${aggGrowth === undefined ? "n/a" : aggGrowth < 1.25 ? "does not grow with history length" : "GROWS with history length"}`,
    );
  }
  if (profile) {
    p();
    p(profile.text);
  }
  p();
  p(`total bench time ${fmtS(performance.now() - t0)}`);
  process.stdout.write(out);

  if (opts.json) {
    const result = {
      benchmark: "history",
      machine,
      loadAvgAfter: machineAfter.loadAvg,
      smoke,
      workload,
      farm: farm.label,
      runs: {
        a: plain && { wallMs: plain.eslintMs, checkoutMs: plain.checkoutMs },
        b: cached && { wallMs: cached.eslintMs, checkoutMs: cached.checkoutMs },
        cCold: cold && {
          format: FORMAT_ARGS.summary.join(" "),
          wallMs: cold.wallMs,
          cpuMs: cold.cpuMs,
          peakRssKb: cold.peakRssKb,
          natsPeakRssKb: cold.natsPeakRssKb,
          natsCpuMs: cold.natsCpuMs,
          ingestDoneMs: cold.ingestDoneMs,
          allCompletedMs: cold.allCompletedMs,
          outputBytes: cold.outputBytes,
        },
        cWarm: warm && {
          format: FORMAT_ARGS.summary.join(" "),
          wallMs: warm.wallMs,
          cpuMs: warm.cpuMs,
          peakRssKb: warm.peakRssKb,
          ingestDoneMs: warm.ingestDoneMs,
          allCompletedMs: warm.allCompletedMs,
          outputBytes: warm.outputBytes,
        },
        cFullWarm: full && {
          format: FORMAT_ARGS.full.join(" "),
          wallMs: full.wallMs,
          cpuMs: full.cpuMs,
          peakRssKb: full.peakRssKb,
          natsPeakRssKb: full.natsPeakRssKb,
          ingestDoneMs: full.ingestDoneMs,
          allCompletedMs: full.allCompletedMs,
          outputBytes: full.outputBytes,
        },
        d: floor && { cpuMs: floor.cpuMs, singleThreadWallMs: floor.wallMs, files: floor.files, cores, floorMs },
      },
      ratios,
      overheadPerCommitMs: overheadMs,
      targets,
      checks: checks.map((c) => ({ name: c.name, equal: c.equal, total: c.total, mismatches: c.mismatches.slice(0, 20) })),
      memory: {
        embeddedPeakRssKb: cold?.peakRssKb,
        embeddedNatsPeakRssKb: cold?.natsPeakRssKb,
        split: split.map((s) => ({ commits: s.commits, wallMs: s.wallMs, procs: s.procs })),
        splitReal: splitReal && { commits, wallMs: splitReal.wallMs, procs: splitReal.procs },
        splitRealBase: splitReal200 && { commits: splitReal200.commits, wallMs: splitReal200.wallMs, procs: splitReal200.procs },
        rssFlat: rssFlat && {
          target: `<= ${TARGET_RSS_FLAT}`,
          baseCommits: rssFlat.baseCommits,
          commits: rssFlat.commits,
          procs: Object.fromEntries(
            rssFlat.procs.map((x) => [
              x.name,
              {
                baseCommitsPeakRssKb: x.baseKb,
                peakRssKb: x.peakKb,
                ratio: x.ratio,
                verdict: !x.inTarget ? "not a target" : x.ok === undefined ? "n/a" : x.ok ? "PASS" : "ABOVE",
              },
            ]),
          ),
          worst: rssFlat.worst && { process: rssFlat.worst.name, ratio: rssFlat.worst.ratio },
          verdict: targets.rssFlat?.verdict,
        },
        aggregatorGrowth: aggGrowth,
      },
      profile: profile && { threads: profile.threads },
      totalMs: performance.now() - t0,
    };
    mkdirSync(path.dirname(path.resolve(opts.json)), { recursive: true });
    await writeOutputFile(opts.json, JSON.stringify(result, null, 2) + "\n");
    log(`results written to ${opts.json}`);
  }
  return countsOk;
}

main()
  .finally(() => farm?.dir && rmSync(farm.dir, { recursive: true, force: true }))
  .then((ok) => {
    if (!opts["keep-work"]) rmSync(workDir, { recursive: true, force: true });
    if (!ok) {
      process.stderr.write("issue counts differ between farm and eslint: see the table above\n");
      process.exitCode = 1;
    }
  })
  .catch((err) => {
    process.stderr.write(`history benchmark failed: ${(err as Error).stack ?? err}\n(work dir kept: ${workDir})\n`);
    process.exitCode = 1;
  });
