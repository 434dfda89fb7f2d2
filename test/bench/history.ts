/**
 * History benchmark (issue 6, parts 1 and 3): lint every commit of a real
 * history four ways, on the same commits and the same ESLint config.
 *
 *   (a) `eslint .` on a checkout of each commit, one after another
 *   (b) the same with `--cache --cache-strategy content --concurrency auto`
 *   (c) `farm analyze <repo> --commits N --format json` on the embedded default, cold and warm
 *   (d) the floor: CPU time to lint each distinct (blob, config) once, divided by the cores
 *
 * plus memory: peak RSS of the farm process during (c), and of each service
 * run as its own process over a 200- and a 1,000-commit history.
 *
 *   node --import tsx test/bench/history.ts [--repo PATH] [--commits N] [--smoke] [--json FILE]
 *
 * Default workload: a bare git repo of mongoose's npm releases 7.0.0 → 9.12.1,
 * one commit per release, built once under FARM_BENCH_DIR (default
 * .farm/bench) from the npm registry and reused. Results and how to read them: README.md, "Benchmarks".
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { keyOf, planHistory, runEslintHistory, writeSampleConfig, type CommitCounts, type EslintRun, type HistoryPlan } from "./history-eslint.js";
import { farmBuilt, farmFromSource, runFarmEmbedded, runFarmSplit, SERVICES, type FarmCommand, type FarmRun, type ReportCounts, type SplitRun } from "./history-farm.js";
import { summarizeProfiles, type ProfileSummary } from "./history-profile.js";
import { fmtMiB, fmtN, fmtS, fmtX, git, gitDirOf, log, machineInfo, PROJECT_ROOT, run, table, type ProcSample } from "./history-util.js";
import { DEFAULT_PACKAGE, memoryRepo, npmReleaseRepo, smokeRepo } from "./history-workload.js";

const TARGET_B_OVER_C = 20;
const TARGET_C_OVER_D = 2;

const { values: opts } = parseArgs({
  options: {
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
    skip: { type: "string" }, // comma list of a,b,c,d,memory
    profile: { type: "boolean", default: false },
    "keep-work": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (opts.help) {
  process.stdout.write(`node --import tsx test/bench/history.ts [options]
  --repo PATH            any local git repo (default: the npm release repo of --package)
  --sha SHA              newest commit to analyze (default HEAD)
  --commits N            commits to analyze (default 200; smoke 4)
  --smoke                tiny local repos, well under a minute (CI)
  --json FILE            write the results as JSON
  --package NAME         npm package of the default workload (default ${DEFAULT_PACKAGE.pkg}, with --from/--to)
  --from V / --to V      version range of the release repo (default ${DEFAULT_PACKAGE.from}..${DEFAULT_PACKAGE.to})
  --memory-commits N     long synthetic history for the aggregator memory test (default 1000; smoke 10)
  --farm src|build|FILE  farm from source (tsx), compiled from the current source into .farm/bench-build-<pid>
                         (default), or a given cli/farm.js
  --skip a,b,c,d,memory,split-real  leave runs out (development only: the table then has gaps)
  --profile              one more cold farm run under --cpu-prof; prints where the time goes
  --keep-work            keep the temp dir (checkouts, configs, farm data, profiles)
Env: FARM_BENCH_DIR (default .farm/bench) caches the release repo and its tarballs.
`);
  process.exit(0);
}

const smoke = opts.smoke;
const skip = new Set((opts.skip ?? "").split(",").filter(Boolean));
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
  mismatches: { sha: string; expected: number; got: number; files?: string[] }[];
}

/** Per commit: errors + warnings of `got` against (a)'s. */
function compare(name: string, plan: HistoryPlan, a: Map<string, CommitCounts>, got: (sha: string) => { total: number; perFile?: Map<string, number> } | undefined): Check {
  const check: Check = { name, equal: 0, total: plan.commits.length, mismatches: [] };
  for (const c of plan.commits) {
    const ea = a.get(c.sha);
    const g = got(c.sha);
    const expected = ea ? ea.errors + ea.warnings : -1;
    if (g && ea && g.total === expected) {
      check.equal++;
      continue;
    }
    let files: string[] | undefined;
    if (g?.perFile && ea) {
      const paths = new Set([...ea.perFile.keys(), ...g.perFile.keys()]);
      files = [...paths].filter((p) => ea.perFile.get(p) !== g.perFile!.get(p)).slice(0, 8).map((p) => `${p}: eslint ${ea.perFile.get(p) ?? "absent"}, ${name.split(" ")[0]} ${g.perFile!.get(p) ?? "absent"}`);
    }
    check.mismatches.push({ sha: c.sha, expected, got: g?.total ?? -1, files });
  }
  return check;
}

const fromReports = (runs: Map<string, ReportCounts>) => (sha: string) => {
  const r = runs.get(sha);
  return r && { total: r.errors + r.warnings, perFile: r.perFile };
};

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
  } else {
    const spec = { pkg: opts.package ?? DEFAULT_PACKAGE.pkg, from: opts.from ?? DEFAULT_PACKAGE.from, to: opts.to ?? DEFAULT_PACKAGE.to };
    if (opts.package && (!opts.from || !opts.to)) throw new Error("--package needs --from and --to (a version range to pin the history)");
    const built = await npmReleaseRepo(benchDir, spec);
    repo = built.repo;
    workload = { kind: "npm releases", package: spec.pkg, range: `${spec.from}..${spec.to}`, releases: built.plan.releases.length, repo };
  }
  const gitDir = gitDirOf(repo);
  const head = (await git(gitDir, ["rev-parse", "--verify", "--end-of-options", `${opts.sha ?? "HEAD"}^{commit}`])).stdout.trim();
  const available = Number((await git(gitDir, ["rev-list", "--first-parent", "--count", head])).stdout.trim());
  const commits = Math.min(int("commits", opts.commits, smoke ? 4 : 200), available);
  const memoryCommits = int("memory-commits", opts["memory-commits"], smoke ? 10 : 1000);

  log(`planning ${commits} commits of ${repo}`);
  const plan = await planHistory(gitDir, head, commits);
  const distinctBlobs = new Set(plan.commits.flatMap((c) => c.files.map((f) => f.blob))).size;
  const unmirrored = [...new Set(plan.commits.flatMap((c) => c.unmirrored))];
  Object.assign(workload, {
    head,
    commits,
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
    floor = JSON.parse(r.stdout);
  }

  // ------------------------------------------------------------ (c) farm
  let cold: FarmRun | undefined;
  let warm: FarmRun | undefined;
  if (!skip.has("c")) {
    const dataDir = path.join(workDir, "farm-data");
    rmSync(dataDir, { recursive: true, force: true });
    log(`(c) farm analyze, cold (${farm.label})`);
    cold = await runFarmEmbedded({ farm, repo, sha: head, commits, dataDir, outFile: path.join(workDir, "farm-cold.json") });
    log(`(c) cold: ${fmtS(cold.wallMs)}; warm run`);
    warm = await runFarmEmbedded({ farm, repo, sha: head, commits, dataDir, outFile: path.join(workDir, "farm-warm.json") });
    log(`(c) warm: ${fmtS(warm.wallMs)}`);
  }

  // ------------------------------------------------------------ (a), (b)
  let plain: EslintRun | undefined;
  let cached: EslintRun | undefined;
  if (!skip.has("a")) {
    log(`(a) eslint . on ${commits} checkouts`);
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

  // The real history once more, one process per service: the linter-runner's own peak RSS.
  let splitReal: SplitRun | undefined;
  if (!skip.has("memory") && !skip.has("split-real") && !smoke) {
    log(`memory: one process per service, ${commits} commits of the benchmark repo`);
    splitReal = await runFarmSplit({ farm, repo, sha: head, commits, dir: path.join(workDir, "split-real") });
  }

  // ------------------------------------------------------------ profile (optional, one more cold run)
  let profile: ProfileSummary | undefined;
  if (opts.profile) {
    const profDir = path.join(workDir, "cpu-prof");
    mkdirSync(profDir, { recursive: true });
    log("profile: cold farm run under --cpu-prof");
    const profRun = await runFarmEmbedded({ farm, repo, sha: head, commits, dataDir: path.join(workDir, "farm-prof"), outFile: path.join(workDir, "farm-prof.json"), cpuProfDir: profDir });
    profile = summarizeProfiles(profDir, profRun.wallMs);
  }

  // ------------------------------------------------------------ checks
  const checks: Check[] = [];
  if (plain) {
    const a = plain.perCommit;
    if (cold) checks.push(compare("farm cold == eslint (a)", plan, a, fromReports(cold.reports)));
    if (warm) checks.push(compare("farm warm == eslint (a)", plan, a, fromReports(warm.reports)));
    if (cached) checks.push(compare("eslint --cache (b) == eslint (a)", plan, a, (sha) => {
      const r = cached!.perCommit.get(sha);
      return r && { total: r.errors + r.warnings, perFile: r.perFile };
    }));
    if (floor) checks.push(compare("floor (d) == eslint (a)", plan, a, (sha) => {
      const c = plan.commits.find((x) => x.sha === sha)!;
      let total = 0;
      const perFile = new Map<string, number>();
      for (const f of c.files) {
        const k = floor!.counts[keyOf(f)];
        const n = k ? k[0] + k[1] : NaN;
        perFile.set(f.path, n);
        total += n;
      }
      return { total, perFile };
    }));
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
  const verdict = (ok: boolean | undefined) => (ok === undefined ? "n/a" : ok ? "PASS" : "BELOW");
  const targets = {
    bOverC: { target: `>= ${TARGET_B_OVER_C}`, value: ratios.bOverC, verdict: verdict(ratios.bOverC === undefined ? undefined : ratios.bOverC >= TARGET_B_OVER_C), onCommits: commits },
    cOverD: { target: `<= ${TARGET_C_OVER_D}`, value: ratios.cOverD, verdict: verdict(ratios.cOverD === undefined ? undefined : ratios.cOverD <= TARGET_C_OVER_D) },
  };
  const countsOk = checks.every((c) => c.equal === c.total);
  const aggregator = split.map((s) => ({ commits: s.commits, peakRssKb: s.procs.aggregator?.hwmKb }));
  const aggGrowth = aggregator.length === 2 && aggregator[0].peakRssKb && aggregator[1].peakRssKb ? aggregator[1].peakRssKb / aggregator[0].peakRssKb : undefined;
  const machineAfter = machineInfo();

  const per = (ms?: number) => (ms === undefined ? "-" : fmtS(ms / commits));
  const rows: string[][] = [
    ["(a) eslint . per commit", fmtS(plain?.eslintMs), per(plain?.eslintMs), fmtX(ratios.aOverC), fmtX(ratios.aOverCWarm)],
    ["(b) eslint --cache content --concurrency auto", fmtS(cached?.eslintMs), per(cached?.eslintMs), fmtX(ratios.bOverC), fmtX(ratios.bOverCWarm)],
    ["(c) farm analyze, cold (empty data dir)", fmtS(cold?.wallMs), per(cold?.wallMs), fmtX(cold ? 1 : undefined), ""],
    ["(c) farm analyze, warm (same data dir)", fmtS(warm?.wallMs), per(warm?.wallMs), "", fmtX(warm ? 1 : undefined)],
    [`(d) floor: ${floor ? fmtS(floor.cpuMs) : "-"} CPU / ${cores} cores`, fmtS(floorMs), per(floorMs), fmtX(ratio(floorMs, cold?.wallMs)), fmtX(ratio(floorMs, warm?.wallMs))],
  ];
  let out = "";
  const p = (s = "") => (out += `${s}\n`);
  p();
  p(`History benchmark — ${machine.date.slice(0, 19)}Z on ${machine.cpu}, ${cores} cores, ${machine.memGiB} GiB; node ${machine.node}, ${machine.natsServer}, eslint ${machine.eslint}, ${machine.git}`);
  p(`load average before ${machine.loadAvg.join(" ")}, after ${machineAfter.loadAvg.join(" ")} (shared machine: absolute times are noisy, ratios less so)`);
  p(`workload: ${workload.kind}${workload.package ? ` ${workload.package} ${workload.range}` : ""} — ${repo}`);
  p(`  ${commits} commits (${plan.commits[0]?.subject} … ${plan.commits.at(-1)?.subject}), ${fmtN(plan.fileVersions)} file versions linted by farm, ${fmtN(distinctBlobs)} distinct blobs, ${fmtN(plan.distinct.size)} distinct (blob, config), ${plan.configs.size} configs`);
  p(`  farm ran ${farm.label}; ESLint used a generated eslint.config.mjs equivalent to farm's default (sample: ${path.join(workDir, "eslint.config.sample.mjs")}${opts["keep-work"] ? "" : ", removed at exit unless --keep-work"})`);
  if (unmirrored.length) p(`  NOTE: the repo has ${unmirrored.join(", ")}, which farm honours and the generated ESLint config does not: counts may differ`);
  p();
  p(table(["run", "wall", "per commit", "vs (c) cold", "vs (c) warm"], rows, [false, true, true, true, true]));
  p();
  p(`(a)/(c) ${fmtX(ratios.aOverC)}   (b)/(c) ${fmtX(ratios.bOverC)}   (c)/(d) ${fmtX(ratios.cOverD)}      warm: (a)/(c) ${fmtX(ratios.aOverCWarm)}   (b)/(c) ${fmtX(ratios.bOverCWarm)}   (c)/(d) ${fmtX(ratios.cWarmOverD)}`);
  p(`target (c) >= ${TARGET_B_OVER_C}× faster than (b) on ${commits} commits: ${fmtX(ratios.bOverC)} ${targets.bOverC.verdict}${commits < 200 ? " (fewer than 200 commits: indicative only)" : ""}`);
  p(`target (c) within ${TARGET_C_OVER_D}× of (d):                     ${fmtX(ratios.cOverD)} ${targets.cOverD.verdict}`);
  if (plain) p(`(a) excludes checkouts (${fmtS(plain.checkoutMs)} of git read-tree + config writing); (a) and (b) include each eslint process's start-up and config loading.`);
  if (cold) {
    p(`(c) cold timeline: ingest queued the commits at ${fmtS(cold.ingestDoneMs)}, last commit completed at ${fmtS(cold.allCompletedMs)}, process exit at ${fmtS(cold.wallMs)} (reports fetched, ${(cold.outputBytes / 1e6).toFixed(1)} MB of JSON written, shutdown)`);
    p(`(c) cold CPU: farm process ${fmtS(cold.cpuMs)} (all threads), nats-server ${fmtS(cold.natsCpuMs)}; floor CPU ${floor ? fmtS(floor.cpuMs) : "-"}; ${cold.progress ?? ""}`);
  }
  p();
  p("Issue counts (errors + warnings per commit)");
  p(table(["check", "commits equal", "result"], checks.map((c) => [c.name, `${c.equal}/${c.total}`, c.equal === c.total ? "PASS" : "FAIL"]), [false, true, false]));
  for (const c of checks)
    for (const m of c.mismatches.slice(0, 3)) {
      p(`  ${c.name}: ${m.sha.slice(0, 10)} eslint ${m.expected}, got ${m.got}`);
      for (const f of m.files ?? []) p(`      ${f}`);
    }
  p();
  p("Memory (peak RSS = VmHWM)");
  if (cold) p(`  (c) embedded, cold: farm process ${fmtMiB(cold.peakRssKb)} (services, lint threads and CLI in one process), its nats-server ${fmtMiB(cold.natsPeakRssKb)}; warm: ${fmtMiB(warm?.peakRssKb)}`);
  if (splitReal) {
    p(`  one process per service, the ${commits} benchmark commits (cold, ${fmtS(splitReal.wallMs)}):`);
    p(table(["process", "peak RSS", "CPU"], [...SERVICES, "nats-server", "client"].map((n) => procRow(n, splitReal!.procs[n])), [false, true, true]));
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
    p(`  aggregator peak RSS ${split.map((s) => `${fmtMiB(s.procs.aggregator?.hwmKb)} at ${s.commits} commits`).join(", ")}: ×${aggGrowth?.toFixed(2) ?? "-"} for ${(split[1].commits / split[0].commits).toFixed(0)}× the commits — ${aggGrowth === undefined ? "n/a" : aggGrowth < 1.25 ? "does not grow with history length" : "GROWS with history length"}`);
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
        cCold: cold && { wallMs: cold.wallMs, cpuMs: cold.cpuMs, peakRssKb: cold.peakRssKb, natsPeakRssKb: cold.natsPeakRssKb, natsCpuMs: cold.natsCpuMs, ingestDoneMs: cold.ingestDoneMs, allCompletedMs: cold.allCompletedMs, outputBytes: cold.outputBytes },
        cWarm: warm && { wallMs: warm.wallMs, cpuMs: warm.cpuMs, peakRssKb: warm.peakRssKb, ingestDoneMs: warm.ingestDoneMs, allCompletedMs: warm.allCompletedMs },
        d: floor && { cpuMs: floor.cpuMs, singleThreadWallMs: floor.wallMs, files: floor.files, cores, floorMs },
      },
      ratios,
      targets,
      checks: checks.map((c) => ({ name: c.name, equal: c.equal, total: c.total, mismatches: c.mismatches.slice(0, 20) })),
      memory: {
        embeddedPeakRssKb: cold?.peakRssKb,
        embeddedNatsPeakRssKb: cold?.natsPeakRssKb,
        split: split.map((s) => ({ commits: s.commits, wallMs: s.wallMs, procs: s.procs })),
        splitReal: splitReal && { commits, wallMs: splitReal.wallMs, procs: splitReal.procs },
        aggregatorGrowth: aggGrowth,
      },
      profile: profile && { threads: profile.threads },
      totalMs: performance.now() - t0,
    };
    mkdirSync(path.dirname(path.resolve(opts.json)), { recursive: true });
    writeFileSync(opts.json, JSON.stringify(result, null, 2) + "\n");
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
