/**
 * The oracle of issue 25 on a real repository: farm (its own toolchain per
 * commit) against the repository's own lint run as its maintainers run it — a
 * checkout, `npm ci --ignore-scripts`, `npx eslint --format json .` — message
 * by message, file by file. Default: mocha at its HEAD, plus three commits made
 * here on a clone that add a violation of a core rule (`no-unused-vars`), of an
 * `eslint-plugin-n` rule (`n/no-deprecated-api`) and of a markdown rule
 * (`markdown/no-empty-links`), each a rule mocha's config turns on.
 *
 *   node --import tsx test/bench/toolchain-oracle.ts [--repo PATH] [--sha REV] [--no-violations]
 *
 * Needs bubblewrap and the npm registry. Exit 1 when a commit differs.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { farmBuilt } from "./history-farm.js";
import { log, PROJECT_ROOT, run } from "./history-util.js";
import { MOCHA, mochaRepo } from "./history-workload.js";

const { values: opts } = parseArgs({
  options: { repo: { type: "string" }, sha: { type: "string" }, "no-violations": { type: "boolean", default: false } },
});

type Row = string;
interface Report {
  sha: string;
  files: { path: string; messages: { ruleId: string | null; line: number; column: number; message: string }[] }[];
  notes?: string[];
}
interface EslintFile {
  filePath: string;
  messages: { ruleId: string | null; line?: number; column?: number; message: string }[];
}

const git = (repo: string, args: string[]) => run("git", ["-C", repo, ...args]);
const row = (p: string, m: { ruleId: string | null; line?: number; column?: number; message: string }): Row =>
  `${p}:${m.line ?? 1}:${m.column ?? 1} ${m.ruleId ?? "(none)"} ${m.message}`;

/** The violations made on the clone, one commit each: [subject, file, text]. */
const VIOLATIONS: [string, string, string][] = [
  ["oracle: a core rule", "lib/farm-oracle-core.js", "const unusedThing = 1;\nexport const b = 2;\n"],
  ["oracle: an eslint-plugin-n rule", "lib/farm-oracle-n.cjs", "'use strict';\n\nmodule.exports = () => new Buffer(8);\n"],
  ["oracle: a markdown rule", "docs/farm-oracle.md", "# Oracle\n\nA link to [nowhere]().\n"],
];

async function main() {
  const work = mkdtempSync(path.join(os.tmpdir(), "farm-toolchain-oracle-"));
  const farm = await farmBuilt();
  let differing = 0;
  try {
    const benchDir = path.resolve(process.env.FARM_BENCH_DIR || path.join(PROJECT_ROOT, ".farm/bench"));
    const source = opts.repo ?? (await mochaRepo(benchDir)).repo;
    const sha = opts.sha ?? (opts.repo ? "HEAD" : MOCHA.head);
    const clone = path.join(work, "clone");
    await run("git", ["clone", "-q", "--no-checkout", source, clone]);
    await git(clone, ["checkout", "-q", "-B", "oracle", sha]);
    const violations = opts["no-violations"] ? [] : VIOLATIONS;
    for (const [subject, file, text] of violations) {
      writeFileSync(path.join(clone, file), text);
      await git(clone, ["add", file]);
      await git(clone, ["-c", "user.name=oracle", "-c", "user.email=oracle@example.com", "commit", "-q", "-m", subject]);
    }
    const commits = violations.length + 1;
    log(`farm analyze ${commits} commits of ${clone} (toolchains on)`);
    const out = path.join(work, "farm.ndjson");
    const env: NodeJS.ProcessEnv = { ...process.env, FARM_DATA_DIR: path.join(work, "data"), FARM_TOOLCHAINS: "on" };
    for (const k of ["NATS_URL", "NATS_CREDS", "NATS_USER", "NATS_PASSWORD"]) delete env[k];
    await run(process.execPath, [...farm.args, "analyze", clone, "--commits", String(commits), "--format", "ndjson", "--out", out], { env });
    const reports = readFileSync(out, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Report);

    // The reference: one checkout, its dependencies installed without scripts once (the commits made here
    // change no package file), its own eslint at each commit.
    await run("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: clone });
    for (const report of reports) {
      await git(clone, ["checkout", "-q", report.sha]);
      const r = await run("npx", ["--no-install", "eslint", "--format", "json", "."], { cwd: clone, okCodes: [0, 1] });
      const own = (JSON.parse(r.stdout) as EslintFile[]).map((f) => ({ path: path.relative(clone, f.filePath), messages: f.messages }));
      const ownRows = own.flatMap((f) => f.messages.map((m) => row(f.path, m))).sort();
      const farmRows = report.files.flatMap((f) => f.messages.map((m) => row(f.path, m))).sort();
      const ownFiles = own.map((f) => f.path).sort();
      const farmFiles = report.files.map((f) => f.path).sort();
      const same = JSON.stringify(ownRows) === JSON.stringify(farmRows) && JSON.stringify(ownFiles) === JSON.stringify(farmFiles);
      if (!same) differing++;
      process.stdout.write(
        `${report.sha.slice(0, 10)}  own: ${ownFiles.length} files, ${ownRows.length} messages  farm: ${farmFiles.length} files, ${farmRows.length} messages  ${same ? "equal" : "DIFFERENT"}\n`,
      );
      for (const x of ownRows) process.stdout.write(`    ${farmRows.includes(x) ? "both" : "own only"}: ${x}\n`);
      for (const x of farmRows.filter((y) => !ownRows.includes(y))) process.stdout.write(`    farm only: ${x}\n`);
      const missing = ownFiles.filter((f) => !farmFiles.includes(f));
      const extra = farmFiles.filter((f) => !ownFiles.includes(f));
      if (missing.length + extra.length > 0)
        process.stdout.write(`    files only own: ${missing.slice(0, 8).join(", ")}; only farm: ${extra.slice(0, 8).join(", ")}\n`);
      for (const n of report.notes ?? []) process.stdout.write(`    note: ${n.slice(0, 300)}\n`);
    }
    process.stdout.write(`${reports.length - differing} of ${reports.length} commits equal to their own eslint .\n`);
  } finally {
    rmSync(farm.dir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
  if (differing > 0) process.exitCode = 1;
}

await main();
