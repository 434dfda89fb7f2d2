/**
 * Sandbox sessions: a sandboxed runner kept for the next run of the same key
 * (toolchain and config inputs), so that plugins load once. A session serves
 * only its key; a run past its time limit or a stray line on stdout ends the
 * session and fails that run, and the next run starts a fresh one; close()
 * leaves nothing running. The toolchain is copied from this project's
 * node_modules; its plugin reports the pid and a per-process run count.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeAll, expect, it } from "vitest";
import { runSandboxed } from "../../../shared/toolchain/sandbox.js";
import { SandboxPool, type PoolRun } from "../../../shared/toolchain/sandbox-pool.js";
import type { InstalledToolchain } from "../../../shared/toolchain/types.js";
import { useTempDir } from "../../harness/files.js";
import { sandboxProcesses } from "../../harness/sandbox-processes.js";
import { copyToolchain, writePackage } from "../../harness/toolchain-dir.js";

const tmp = useTempDir("farm-sandbox-pool-");

// `who` says which process lints and how many times it has; `spin` never returns; `stray` writes to fd 1.
const PROBE = {
  "package.json": JSON.stringify({ name: "eslint-plugin-probe", version: "1.0.0", main: "index.js" }),
  "index.js": `const fs = require("node:fs");
const self = require("node:crypto").randomUUID().slice(0, 8); // pids are all 2 in the sandbox's own pid namespace
let count = 0;
const dirs = new Set();
module.exports = { rules: {
  who: { meta: { schema: [] }, create: (context) => ({ Program(node) { context.report({ node, message: "process " + self + " run " + ++count + " dirs " + dirs.add(context.cwd).size }); } }) },
  spin: { meta: { schema: [] }, create: () => ({ Program() { for (;;) {} } }) },
  stray: { meta: { schema: [] }, create: () => ({ Program() { fs.writeSync(1, '{"ok":true,"files":[]}\\n'); } }) },
} };`,
};

let toolchain: InstalledToolchain;
let pool: SandboxPool;

beforeAll(() => {
  toolchain = copyToolchain(path.join(tmp, "toolchain"), { eslint: "eslint", "@eslint/js": "@eslint/js" }, "flat");
  writePackage(toolchain.dir, "eslint-plugin-probe", PROBE);
});

afterEach(async () => {
  await pool?.close();
});

const config = (rule: string) =>
  `import probe from "eslint-plugin-probe";\nexport default [{ plugins: { probe }, rules: { "probe/${rule}": "error", semi: "error" } }];\n`;

function run(key: string, rule: string, more: Partial<PoolRun> = {}): PoolRun {
  return {
    key,
    toolchain,
    files: [
      { path: "eslint.config.mjs", data: config(rule) },
      { path: "src/a.js", data: "export const a = 1\n" },
    ],
    paths: ["src/a.js"],
    timeoutMs: 20_000,
    memoryMb: 256,
    ...more,
  };
}

/** The probe's messages without the directories seen: "process <id> run <n>". */
const said = (r: { files: { messages: { ruleId: string | null; message: string }[] }[] }) =>
  r.files.flatMap((f) => f.messages.filter((m) => m.ruleId === "probe/who").map((m) => m.message.replace(/ dirs \d+$/, "")));
const dirsSeen = (r: { files: { messages: { ruleId: string | null; message: string }[] }[] }) =>
  r.files.flatMap((f) => f.messages.filter((m) => m.ruleId === "probe/who").map((m) => Number(/ dirs (\d+)$/.exec(m.message)?.[1])));

it("serves the runs of one key from one session, in one directory, and reports what a one-shot run reports", async () => {
  pool = new SandboxPool();
  const first = await pool.lint(run("k1", "who"));
  const second = await pool.lint(run("k1", "who"));
  expect(first.ok).toBe(true);
  const [pid] = said(first)[0].split(" run ");
  expect(said(first)).toEqual([`${pid} run 1`]);
  expect(said(second)).toEqual([`${pid} run 2`]);
  // To the code that stays loaded, the runs are one checkout (typescript-eslint, for one, fails when its
  // configs seem to come from several directories).
  expect(dirsSeen(second)).toEqual([1]);
  // Another key: another process, its plugin state its own.
  const other = await pool.lint(run("k2", "who"));
  expect(said(other)[0]).toMatch(/ run 1$/);
  expect(said(other)[0]).not.toBe(`${pid} run 1`);
  // Beside the probe's message, the same as a one-shot run of the same files.
  const dir = path.join(tmp, "one-shot");
  mkdirSync(path.join(dir, "src"), { recursive: true });
  writeFileSync(path.join(dir, "eslint.config.mjs"), config("who"));
  writeFileSync(path.join(dir, "src/a.js"), "export const a = 1\n");
  const once = await runSandboxed({ toolchain, workDir: dir, paths: ["src/a.js"], timeoutMs: 20_000, memoryMb: 256 });
  const semi = (r: typeof once) => r.files.map((f) => ({ path: f.path, messages: f.messages.filter((m) => m.ruleId !== "probe/who") }));
  expect(semi(second)).toEqual(semi(once));
  expect(semi(second)[0].messages.map((m) => m.ruleId)).toEqual(["semi"]);
}, 60_000);

it("ends a session whose run outlasts its time limit; the next run of that key gets a fresh session", async () => {
  pool = new SandboxPool();
  const before = said(await pool.lint(run("k", "who")))[0];
  const spun = await pool.lint(run("k", "spin", { timeoutMs: 3_000 }));
  expect(spun).toEqual({ ok: false, files: [], reason: "timed out after 3000 ms" });
  const after = said(await pool.lint(run("k", "who")))[0];
  expect(after).toMatch(/ run 1$/);
  expect(after.split(" run ")[0]).not.toBe(before.split(" run ")[0]);
}, 60_000);

it("fails a run whose plugin writes a line of its own to stdout, and trusts that session no more", async () => {
  pool = new SandboxPool();
  const before = said(await pool.lint(run("k", "who")))[0];
  const stray = await pool.lint(run("k", "stray"));
  expect(stray.ok).toBe(false);
  expect(stray.reason).toMatch(/output is not a result/);
  const after = said(await pool.lint(run("k", "who")))[0];
  expect(after).toMatch(/ run 1$/);
  expect(after.split(" run ")[0]).not.toBe(before.split(" run ")[0]);
}, 60_000);

it("runs at most maxRunning at once: a run queued behind a spinning one ends after it, and its time limit starts with it", async () => {
  pool = new SandboxPool({ maxRunning: 1 });
  const order: string[] = [];
  const spinning = pool.lint(run("a", "spin", { timeoutMs: 4_000 })).then((r) => (order.push("spin"), r));
  const queued = pool.lint(run("b", "who", { timeoutMs: 3_000 })).then((r) => (order.push("who"), r));
  const [spun, who] = await Promise.all([spinning, queued]);
  expect(order).toEqual(["spin", "who"]);
  expect(spun.reason).toBe("timed out after 4000 ms");
  expect(said(who)[0]).toMatch(/ run 1$/);
}, 60_000);

it("close() leaves no runner alive", async () => {
  pool = new SandboxPool();
  const results = await Promise.all(["a", "b", "c"].map((k) => pool.lint(run(k, "who"))));
  expect(results.every((r) => r.ok)).toBe(true);
  expect(sandboxProcesses({ nodeOnly: true })).toHaveLength(3); // idle sessions, kept for their keys
  await pool.close();
  expect(sandboxProcesses({ nodeOnly: true })).toEqual([]);
}, 60_000);
