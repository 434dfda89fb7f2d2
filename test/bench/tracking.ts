/**
 * Issue tracking on a real history (issue 26): farm's new and fixed issues
 * for commits that rename or reformat many files, against two references
 * computed in the same run from the same reports:
 * - the floor: per file (following the renames farm reports), the messages
 *   whose rule or text is not in the parent any more (fixed) or was not in it
 *   (new), counted as multisets. No tracking can report less;
 * - the old tracking: fingerprints of path + rule + the physical line's text,
 *   as farm had them before, from the files' contents at both commits.
 * Default: mocha's "chore: applied formatting to all files" (76d71949) and
 * "feat!: change root package.json type to module" (da015de4), with each
 * commit's config read as data and with its own toolchain.
 *
 *   node --import tsx test/bench/tracking.ts [--repo PATH] [--sha REV ...] [--mode data|own|both] [--json FILE] [--smoke]
 *
 * The own-toolchain mode needs bubblewrap and the npm registry. --smoke: a
 * history made here (a dozen files with issues, then all of them reformatted
 * as Prettier would and moved to another directory), config read as data;
 * exit 1 unless farm is at the floor.
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { ruleName, type Report } from "../../shared/pipeline/report.js";
import { farmBuilt } from "./history-farm.js";
import { log, PROJECT_ROOT, run } from "./history-util.js";
import { mochaRepo } from "./history-workload.js";

const { values: opts } = parseArgs({
  options: {
    repo: { type: "string" },
    sha: { type: "string", multiple: true },
    mode: { type: "string", default: "both" },
    json: { type: "string" },
    smoke: { type: "boolean", default: false },
  },
});

const MOCHA_COMMITS = ["76d719495d09dc4afb37d1179ede8911c52a011e", "da015de4493f6f497802c4fc35ab294e46a59dad"];
const MODES = { data: "off", own: "on" } as const;
type Mode = keyof typeof MODES;

interface Row {
  sha: string;
  subject: string;
  mode: Mode;
  files: number;
  messages: number;
  farm: { new: number; fixed: number; moved: number; carried: number };
  floor: { new: number; fixed: number };
  oldTracking: { new: number; fixed: number };
}

type Msg = Report["files"][number]["messages"][number];

/** git in `repo`, a bare repository or a work tree. */
const git = (repo: string, args: string[]) => run("git", ["-C", repo, ...args]);

/** Per (rule, message) how many more `a` has than `b`, summed. */
function excess(a: readonly Msg[], b: readonly Msg[]): number {
  const count = new Map<string, number>();
  for (const m of b) count.set(`${ruleName(m)}\0${m.message}`, (count.get(`${ruleName(m)}\0${m.message}`) ?? 0) + 1);
  let n = 0;
  for (const m of a) {
    const k = `${ruleName(m)}\0${m.message}`;
    const left = count.get(k) ?? 0;
    if (left > 0) count.set(k, left - 1);
    else n++;
  }
  return n;
}

/** Renames and copies as git sees them (`git diff -M -C -C`), by destination. */
async function gitMoves(repo: string, parent: string, sha: string): Promise<Map<string, { from: string; copy: boolean }>> {
  const out = (await git(repo, ["diff", "--name-status", "-z", "-M", "-C", "-C", parent, sha])).stdout.split("\0");
  const moves = new Map<string, { from: string; copy: boolean }>();
  for (let i = 0; i < out.length - 1;) {
    const status = out[i];
    if (/^[RC]/.test(status)) {
      moves.set(out[i + 2], { from: out[i + 1], copy: status.startsWith("C") });
      i += 3;
    } else i += 2;
  }
  return moves;
}

/** The floor: per file pair (renames and copies as git sees them), messages whose rule or text is new or gone. */
function floor(now: Report, before: Report, sourceOf: ReadonlyMap<string, { from: string; copy: boolean }>): { new: number; fixed: number } {
  const beforeByPath = new Map(before.files.map((f) => [f.path, f.messages]));
  const nowPaths = new Set(now.files.map((f) => f.path));
  const followed = new Set<string>();
  let added = 0;
  let fixed = 0;
  for (const f of now.files) {
    const move = sourceOf.get(f.path);
    const from = beforeByPath.has(f.path) ? f.path : move?.from;
    const old = (from !== undefined ? beforeByPath.get(from) : undefined) ?? [];
    added += excess(f.messages, old);
    if (!move?.copy) {
      if (from !== undefined) followed.add(from);
      fixed += excess(old, f.messages);
    }
  }
  for (const f of before.files) if (!nowPaths.has(f.path) && !followed.has(f.path)) fixed += f.messages.length;
  return { new: added, fixed };
}

/** Farm's fingerprints before issue 26: path, rule and the whitespace-normalised physical line, then occurrence. */
async function oldFingerprints(repo: string, r: Report): Promise<Set<string>> {
  const prints = new Set<string>();
  for (const f of r.files) {
    if (f.messages.length === 0) continue;
    const lines = (await git(repo, ["show", `${r.sha}:${f.path}`])).stdout.split(/\r?\n/);
    const seen = new Map<string, number>();
    for (const m of [...f.messages].sort((a, b) => a.line - b.line || a.column - b.column)) {
      const lineHash = createHash("sha256")
        .update((lines[m.line - 1] ?? "").replace(/\s+/g, " ").trim())
        .digest("hex")
        .slice(0, 16);
      const base = `${f.path}\0${m.linter}\0${ruleName(m)}\0${lineHash}`;
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      prints.add(`${base}\0${n}`);
    }
  }
  return prints;
}

/** The smoke history: files with issues, then every one reformatted and moved to lib/ in one commit. */
async function smokeHistory(dir: string): Promise<string> {
  const repo = path.join(dir, "smoke-tracking");
  await run("git", ["init", "-q", "-b", "main", repo]);
  const write = (f: string, text: string) => {
    mkdirSync(path.dirname(path.join(repo, f)), { recursive: true });
    writeFileSync(path.join(repo, f), text);
  };
  const commit = async (msg: string) => {
    await git(repo, ["add", "-A"]);
    await git(repo, ["-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-q", "-m", msg]);
  };
  const files = Array.from({ length: 12 }, (_, i) => i);
  // Lines no formatter touches: enough of the file stays for git to see the move.
  const table = (i: number) => Array.from({ length: 30 }, (_, k) => `// ${i}.${k} unchanged by the formatter`).join("\n");
  for (const i of files)
    write(`src/m${i}.js`, `${table(i)}\nconst unused${i} = require('x${i}')\nfunction f${i} (a, b) {\n  debugger\n  return a + b\n}\nmodule.exports = f${i}\n`);
  await commit("start");
  await git(repo, ["mv", "src", "lib"]);
  for (const i of files)
    write(
      `lib/m${i}.js`,
      `${table(i)}\nconst unused${i} = require("x${i}");\nfunction f${i}(\n  a,\n  b,\n) {\n  debugger;\n  return a + b;\n}\nmodule.exports = f${i};\n`,
    );
  await commit("reformat and move to lib/");
  return repo;
}

async function measure(repo: string, sha: string, mode: Mode, work: string, farmArgs: string[]): Promise<Row> {
  const out = path.join(work, `${mode}-${sha}.ndjson`);
  const env: NodeJS.ProcessEnv = { ...process.env, FARM_DATA_DIR: path.join(work, `data-${mode}`), FARM_TOOLCHAINS: MODES[mode] };
  for (const k of ["NATS_URL", "NATS_CREDS", "NATS_USER", "NATS_PASSWORD"]) delete env[k];
  log(`farm analyze ${sha.slice(0, 8)} and its parent (${mode === "own" ? "its own toolchain" : "config read as data"})`);
  await run(process.execPath, [...farmArgs, "analyze", repo, "--sha", sha, "--commits", "2", "--format", "ndjson", "--out", out], { env });
  const [now, before] = readFileSync(out, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Report)
    .sort((a) => (a.sha === sha ? -1 : 1));
  if (now.sha !== sha || !now.delta) throw new Error(`no report with a delta for ${sha} in ${out}`);
  const [printsNow, printsBefore] = await Promise.all([oldFingerprints(repo, now), oldFingerprints(repo, before)]);
  return {
    sha,
    subject: now.subject ?? "",
    mode,
    files: now.summary.files,
    messages: now.summary.errors + now.summary.warnings,
    farm: { new: now.delta.new.length, fixed: now.delta.fixed.length, moved: now.delta.moved?.length ?? 0, carried: now.delta.carried?.length ?? 0 },
    floor: floor(now, before, await gitMoves(repo, before.sha, now.sha)),
    oldTracking: { new: [...printsNow].filter((p) => !printsBefore.has(p)).length, fixed: [...printsBefore].filter((p) => !printsNow.has(p)).length },
  };
}

async function main() {
  const work = mkdtempSync(path.join(os.tmpdir(), "farm-tracking-bench-"));
  const farm = await farmBuilt();
  try {
    const benchDir = path.resolve(process.env.FARM_BENCH_DIR || path.join(PROJECT_ROOT, ".farm/bench"));
    const repo = opts.smoke ? await smokeHistory(work) : (opts.repo ?? (await mochaRepo(benchDir)).repo);
    const resolve = async (rev: string) => (await git(repo, ["rev-parse", "--verify", `${rev}^{commit}`])).stdout.trim();
    const shas = await Promise.all((opts.sha ?? (opts.repo || opts.smoke ? ["HEAD"] : MOCHA_COMMITS)).map(resolve));
    const modes: Mode[] = opts.smoke ? ["data"] : opts.mode === "both" ? ["data", "own"] : [opts.mode as Mode];
    if (!modes.every((m) => m in MODES)) throw new Error(`--mode must be data, own or both, not ${opts.mode}`);
    const rows: Row[] = [];
    for (const mode of modes) for (const sha of shas) rows.push(await measure(repo, sha, mode, work, farm.args));
    console.log("\ncommit    mode  files  messages  new/fixed: farm   floor   old tracking   moved  carried");
    for (const r of rows)
      console.log(
        `${r.sha.slice(0, 8)}  ${r.mode.padEnd(4)}  ${String(r.files).padStart(5)}  ${String(r.messages).padStart(8)}  ${`${r.farm.new}/${r.farm.fixed}`.padStart(15)}  ${`${r.floor.new}/${r.floor.fixed}`.padStart(6)}  ${`${r.oldTracking.new}/${r.oldTracking.fixed}`.padStart(13)}  ${String(r.farm.moved).padStart(5)}  ${String(r.farm.carried).padStart(7)}  ${r.subject}`,
      );
    const above = rows.filter((r) => r.farm.new > r.floor.new || r.farm.fixed > r.floor.fixed);
    console.log(
      above.length === 0 ? "\nfarm is at the floor on every commit" : `\nabove the floor: ${above.map((r) => `${r.sha.slice(0, 8)} (${r.mode})`).join(", ")}`,
    );
    if (opts.json) writeFileSync(opts.json, JSON.stringify(rows, null, 2));
    if (opts.smoke && above.length > 0) process.exitCode = 1;
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(farm.dir, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exit(1);
});
