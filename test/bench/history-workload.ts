/**
 * Workloads of the history benchmark.
 *
 * - npmReleaseRepo: a bare git repo whose commits are the successive published
 *   versions of an npm package (the tarball's `package/` contents, one commit
 *   per release, author/committer date = the release date), in version order.
 *   Only the npm registry is needed. Built incrementally: tarballs are cached,
 *   each release is one commit, and a rerun continues after the last one.
 * - mochaRepo: mocha's real history (3,044 first-parent commits up to
 *   MOCHA.head), a bare clone of a git bundle kept next to the project
 *   (FARM_MOCHA_BUNDLE); no network.
 * - syntheticRepo: small local repos (smoke test, 1,000-commit memory test),
 *   written with `git fast-import` in well under a second.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { git, log, mapLimit, PROJECT_ROOT, run } from "./history-util.js";

export interface Release {
  version: string;
  time: string;
  tarball: string;
  integrity: string;
}

export interface ReleasePlan {
  pkg: string;
  from: string;
  to: string;
  releases: Release[];
}

/** The default workload: mongoose 7.0.0 → 9.12.1 (≈ 220 releases of 200–280 JS/TS files, 0.2–0.7 MB tarballs). */
export const DEFAULT_PACKAGE = { pkg: "mongoose", from: "7.0.0", to: "9.12.1" };

const BOT = { name: "npm registry", email: "releases@farm-bench.invalid" };

function semverParts(v: string): number[] {
  return v.split(".").map(Number);
}

export function compareSemver(a: string, b: string): number {
  const x = semverParts(a);
  const y = semverParts(b);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}

async function npmViewJson<T>(args: string[]): Promise<T> {
  const r = await run("npm", ["view", ...args, "--json"], { stdio: ["ignore", "pipe", "pipe"] });
  return JSON.parse(r.stdout) as T;
}

/**
 * Stable releases in [from, to] published no later than `to` itself (so that
 * a backport published later never lands in the middle of a cached history),
 * in version order. Two registry calls.
 */
async function planReleases(pkg: string, from: string, to: string): Promise<ReleasePlan> {
  const times = await npmViewJson<Record<string, string>>([pkg, "time"]);
  if (!times[to]) throw new Error(`${pkg}@${to} is not published`);
  const cutoff = Date.parse(times[to]);
  type Dist = { version: string; "dist.tarball": string; "dist.integrity": string };
  const dists = await npmViewJson<Dist[] | Dist>([`${pkg}@>=${from} <=${to}`, "version", "dist.tarball", "dist.integrity"]);
  const releases: Release[] = (Array.isArray(dists) ? dists : [dists])
    .filter((d) => /^\d+\.\d+\.\d+$/.test(d.version) && times[d.version] && Date.parse(times[d.version]) <= cutoff)
    .map((d) => ({ version: d.version, time: times[d.version], tarball: d["dist.tarball"], integrity: d["dist.integrity"] }))
    .sort((a, b) => compareSemver(a.version, b.version));
  return { pkg, from, to, releases };
}

function checkIntegrity(data: Buffer, integrity: string): boolean {
  const [algo, expected] = integrity.split("-", 2);
  if (!["sha512", "sha384", "sha256", "sha1"].includes(algo)) return true;
  return createHash(algo).update(data).digest("base64") === expected;
}

async function download(rel: Release, file: string): Promise<void> {
  if (existsSync(file) && checkIntegrity(readFileSync(file), rel.integrity)) return;
  for (let attempt = 1; ; attempt++) {
    try {
      // Node's fetch trusts NODE_EXTRA_CA_CERTS by itself.
      const res = await fetch(rel.tarball);
      if (!res.ok) throw new Error(`GET ${rel.tarball}: ${res.status}`);
      const data = Buffer.from(await res.arrayBuffer());
      if (!checkIntegrity(data, rel.integrity)) throw new Error(`integrity mismatch for ${rel.tarball}`);
      writeFileSync(`${file}.tmp`, data);
      renameSync(`${file}.tmp`, file);
      return;
    } catch (err) {
      if (attempt >= 4) throw err;
      await new Promise((r) => setTimeout(r, 1000 * attempt));
    }
  }
}

/** Subjects of the repo's history, oldest first ("" when it has no commits yet). */
async function committedVersions(repo: string, pkg: string): Promise<string[]> {
  const head = await git(repo, ["rev-parse", "--verify", "--quiet", "refs/heads/main"], { okCodes: [0, 1] });
  if (head.code !== 0) return [];
  const r = await git(repo, ["log", "--first-parent", "--reverse", "--format=%s", "refs/heads/main"]);
  const prefix = `${pkg} `;
  return r.stdout
    .split("\n")
    .filter(Boolean)
    .map((s) => (s.startsWith(prefix) ? s.slice(prefix.length) : s));
}

/**
 * Builds (or continues) the release repo and returns its path. `benchDir`
 * holds the repo (`<pkg>-repo`, bare), its plan and the tarball cache.
 */
export async function npmReleaseRepo(benchDir: string, spec = DEFAULT_PACKAGE): Promise<{ repo: string; plan: ReleasePlan }> {
  const { pkg, from, to } = spec;
  const safe = pkg.replace(/^@/, "").replace(/\//g, "-");
  const repo = path.join(benchDir, `${safe}-repo`);
  const planFile = `${repo}.plan.json`;
  mkdirSync(benchDir, { recursive: true });
  let plan: ReleasePlan;
  if (existsSync(planFile)) plan = JSON.parse(readFileSync(planFile, "utf8")) as ReleasePlan;
  else {
    log(`planning ${pkg}@${from}..${to} from the npm registry`);
    plan = await planReleases(pkg, from, to);
    writeFileSync(planFile, JSON.stringify(plan, null, 1));
  }
  if (!existsSync(path.join(repo, "HEAD"))) {
    await run("git", ["init", "-q", "--bare", "-b", "main", repo]);
    for (const [k, v] of [
      ["gc.auto", "0"],
      ["core.autocrlf", "false"],
      ["commit.gpgsign", "false"],
      ["user.name", BOT.name],
      ["user.email", BOT.email],
    ])
      await git(repo, ["config", k, v]);
  }
  const done = await committedVersions(repo, pkg);
  done.forEach((v, i) => {
    if (plan.releases[i]?.version !== v) throw new Error(`${repo} does not follow ${planFile} at commit ${i + 1} (${v}); delete both to rebuild`);
  });
  const todo = plan.releases.slice(done.length);
  if (todo.length === 0) return { repo, plan };

  log(`building ${repo}: ${done.length} of ${plan.releases.length} releases committed, ${todo.length} to go`);
  const tarballs = path.join(benchDir, "tarballs");
  mkdirSync(tarballs, { recursive: true });
  const fileOf = (r: Release) => path.join(tarballs, `${safe}-${r.version}.tgz`);
  let downloaded = 0;
  const downloads = mapLimit(todo, 6, async (r) => {
    await download(r, fileOf(r));
    if (++downloaded % 25 === 0) log(`downloaded ${downloaded}/${todo.length} tarballs`);
  });
  downloads.catch(() => {}); // awaited below; commits wait for each file

  const extract = `${repo}.extract`;
  for (const [i, r] of todo.entries()) {
    // Commit in order as soon as this release's tarball is there.
    while (!existsSync(fileOf(r))) {
      await Promise.race([downloads, new Promise((res) => setTimeout(res, 200))]);
    }
    rmSync(extract, { recursive: true, force: true });
    mkdirSync(extract, { recursive: true });
    await run("tar", ["-xzf", fileOf(r), "-C", extract, "--no-same-owner"]);
    // npm tarballs hold one top directory ("package" nearly always).
    const tops = readdirSync(extract);
    const root = tops.length === 1 ? path.join(extract, tops[0]) : extract;
    // Old tarballs sometimes carry directories without the x bit.
    await run("chmod", ["-R", "u+rwX", root]);
    const env = {
      ...process.env,
      GIT_INDEX_FILE: path.join(repo, "index"),
      GIT_AUTHOR_NAME: BOT.name,
      GIT_AUTHOR_EMAIL: BOT.email,
      GIT_COMMITTER_NAME: BOT.name,
      GIT_COMMITTER_EMAIL: BOT.email,
      GIT_AUTHOR_DATE: r.time,
      GIT_COMMITTER_DATE: r.time,
    };
    // -f: a .gitignore inside the package must not drop published files.
    await git(repo, [`--work-tree=${root}`, "add", "-A", "-f", "."], { env });
    await git(
      repo,
      [`--work-tree=${root}`, "commit", "-q", "--allow-empty", "--no-verify", "-m", `${pkg} ${r.version}`, "-m", `Published ${r.time}\n${r.tarball}`],
      { env },
    );
    if ((i + 1) % 25 === 0) log(`committed ${done.length + i + 1}/${plan.releases.length} (${r.version})`);
  }
  await downloads;
  rmSync(extract, { recursive: true, force: true });
  // Packed, like any repo one would clone: farm's ingest clones it (through upload-pack).
  await git(repo, ["gc", "--quiet"]);
  return { repo, plan };
}

// ---------------------------------------------------------------- mocha

/** The mocha workload: its whole first-parent history up to this commit (2011-08-28 "Initial commit" … 2026-08-10). */
export const MOCHA = {
  head: "e6b9ee773481fd739ae24caeb42f32ac0b010f95",
  commits: 3044,
  bundleEnv: "FARM_MOCHA_BUNDLE",
  defaultBundle: path.join(PROJECT_ROOT, "../shared/bench/mocha.bundle"),
};

/**
 * `<benchDir>/mocha-repo`, a bare clone of the mocha bundle (made once, in a
 * temp dir renamed into place, so an interrupted clone is never reused).
 * The bundle is only needed for that first clone.
 */
export async function mochaRepo(benchDir: string): Promise<{ repo: string; bundle: string }> {
  const bundle = path.resolve(process.env[MOCHA.bundleEnv] || MOCHA.defaultBundle);
  const repo = path.join(benchDir, "mocha-repo");
  const hasHead = async () => (await git(repo, ["cat-file", "-e", `${MOCHA.head}^{commit}`], { okCodes: [0, 1, 128] })).code === 0;
  if (existsSync(path.join(repo, "HEAD"))) {
    if (await hasHead()) return { repo, bundle };
    throw new Error(`${repo} exists but does not contain mocha's ${MOCHA.head}: delete it to clone ${bundle} again`);
  }
  if (!existsSync(bundle)) {
    throw new Error(
      `the mocha workload needs a git bundle of mocha's history at ${bundle}, which does not exist; ` +
        `set ${MOCHA.bundleEnv} to the bundle's path (default: <project>/../shared/bench/mocha.bundle)`,
    );
  }
  mkdirSync(benchDir, { recursive: true });
  const tmp = `${repo}.clone-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  log(`cloning ${bundle} into ${repo}`);
  await run("git", ["clone", "--bare", "--quiet", bundle, tmp]);
  await git(tmp, ["config", "gc.auto", "0"]);
  renameSync(tmp, repo);
  if (!(await hasHead())) throw new Error(`${bundle} does not contain mocha's ${MOCHA.head} (delete ${repo} and use the right bundle)`);
  return { repo, bundle };
}

// ---------------------------------------------------------------- synthetic repos

interface SynthCommit {
  message: string;
  files: Map<string, string>; // changed files (path → content)
  deletes?: string[];
}

async function fastImport(repo: string, commits: SynthCommit[]): Promise<void> {
  rmSync(repo, { recursive: true, force: true });
  await run("git", ["init", "-q", "--bare", "-b", "main", repo]);
  const parts: Buffer[] = [];
  const data = (s: string) => {
    const b = Buffer.from(s, "utf8");
    parts.push(Buffer.from(`data ${b.length}\n`), b, Buffer.from("\n"));
  };
  const t0 = Date.UTC(2020, 0, 1) / 1000;
  commits.forEach((c, i) => {
    parts.push(Buffer.from(`commit refs/heads/main\nmark :${i + 1}\n`));
    const who = `Bench <bench@farm-bench.invalid> ${t0 + i * 3600} +0000\n`;
    parts.push(Buffer.from(`author ${who}committer ${who}`));
    data(c.message);
    if (i > 0) parts.push(Buffer.from(`from :${i}\n`));
    for (const d of c.deletes ?? []) parts.push(Buffer.from(`D ${d}\n`));
    for (const [p, content] of c.files) {
      parts.push(Buffer.from(`M 100644 inline ${p}\n`));
      data(content);
    }
    parts.push(Buffer.from("\n"));
  });
  await git(repo, ["fast-import", "--quiet"], { input: Buffer.concat(parts) });
}

/**
 * The smoke repo: 4 commits of a dozen files that cover what must be treated
 * alike by farm and `eslint .`: package.json "type" per directory, .mjs/.cjs,
 * TypeScript, JSX, a parse error, vendored and minified files (by name and by
 * content), a file over the size cap.
 */
export async function smokeRepo(dir: string): Promise<string> {
  const repo = path.join(dir, "smoke-repo");
  const longLine = `var x=[${Array.from({ length: 1200 }, (_, i) => i).join(",")}];\n`;
  const base = new Map<string, string>([
    ["package.json", JSON.stringify({ name: "smoke", version: "1.0.0" }, null, 2)],
    ["src/a.js", "const fs = require('fs');\nfunction unused(a) { return undefinedThing + 1; }\nmodule.exports = { fs };\n"],
    ["src/b.js", "let x = 1;\nif (x == 1) { debugger; }\nmodule.exports = x;\n"],
    ["src/broken.js", "function ( {\n"],
    ["src/view.jsx", "const React = require('react');\nconst el = <div>{React.version}</div>;\nmodule.exports = el;\n"],
    ["esm/package.json", JSON.stringify({ type: "module" })],
    ["esm/m.js", "import fs from 'node:fs';\nconst unused = 1;\nexport default fs;\n"],
    ["lib/x.mjs", "export const a = 1;\nconst b = a;\n"],
    ["lib/y.cjs", "const z = require('z');\nmodule.exports = () => { var q; };\n"],
    ["types/t.ts", "export function f(x: any): number { const y: number = 1; return x; }\n"],
    ["dist/app.min.js", "var a=1;;;;undefinedGlobal()"],
    ["dist/long.js", longLine.repeat(3)],
    ["node_modules/dep/index.js", "var unusedInDep = 1;\n"],
  ]);
  const commits: SynthCommit[] = [{ message: "smoke 1", files: base }];
  commits.push({
    message: "smoke 2",
    files: new Map([
      ["src/b.js", "let x = 2;\nif (x == 2) { debugger; }\nmodule.exports = x;\n"],
      ["src/c.js", "module.exports = function () { return y; };\n"],
      ["big/huge.js", `// big\n${"var big = 1;\n".repeat(48_000)}`],
      ["app.min.js", "var a=1;;;;undefinedGlobal()"],
    ]),
  });
  commits.push({
    message: "smoke 3",
    files: new Map([
      ["src/broken.js", "module.exports = 1;\n"],
      ["esm/m.js", "import fs from 'node:fs';\nexport default fs;\n"],
      ["types/u.tsx", "export const C = () => <b>{1 as any}</b>;\n"],
    ]),
    deletes: ["lib/y.cjs"],
  });
  commits.push({
    message: "smoke 4",
    files: new Map([
      ["package.json", JSON.stringify({ name: "smoke", version: "1.0.1", type: "module" })],
      ["src/a.js", "export const a = () => zz;\n"],
    ]),
  });
  await fastImport(repo, commits);
  return repo;
}

/**
 * A long, cheap history for the memory test: `files` small files, each commit
 * edits two of them (so every commit brings new blobs and new issues).
 */
export async function memoryRepo(dir: string, commits: number, files = 60): Promise<string> {
  const repo = path.join(dir, `memory-repo-${commits}x${files}`);
  if (existsSync(path.join(repo, "HEAD"))) {
    const n = await git(repo, ["rev-list", "--count", "refs/heads/main"], { okCodes: [0, 128] });
    if (n.code === 0 && Number(n.stdout.trim()) === commits) return repo;
  }
  const contents = Array.from({ length: files }, (_, i) => `// module ${i}\nconst dep = require("./m${(i + 1) % files}.js");\nmodule.exports = { dep };\n`);
  const list: SynthCommit[] = [
    { message: "memory 1", files: new Map([["package.json", '{"name":"memory"}'], ...contents.map((c, i) => [`lib/m${i}.js`, c] as [string, string])]) },
  ];
  for (let n = 2; n <= commits; n++) {
    const changed = new Map<string, string>();
    for (const i of [n % files, (n * 7 + 3) % files]) {
      contents[i] += n % 5 === 0 ? `function f${n}() { return undefinedName${n}; }\n` : `var v${n} = ${n};\n`;
      changed.set(`lib/m${i}.js`, contents[i]);
    }
    list.push({ message: `memory ${n}`, files: changed });
  }
  await fastImport(repo, list);
  return repo;
}
