import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { isPermanent } from "../../../shared/fabric/errors.js";
import {
  DEFAULT_FILE_TIMEOUT_MS,
  LintEngine,
  LintPool,
  LintPoolClosedError,
  RepoConfigError,
  defaultFileConfig,
  planRepoLint,
} from "../../../shared/lint/index.js";
import type { LintTask } from "../../../shared/lint/index.js";
import { SOURCES } from "./fixtures/sources.js";
import { EXIT_MARKER, HANG_MARKER, THREAD_MARKER } from "./fixtures/test-only-plugin.js";

/** Many tasks: the fixture sources under several directories, plus variants so contents differ. */
function manyTasks(copies: number): LintTask[] {
  const paths: string[] = [];
  const contents: Record<string, string> = {};
  for (let i = 0; i < copies; i++) {
    for (const [path, text] of Object.entries(SOURCES)) {
      const p = `pkg${i}/${path}`;
      paths.push(p);
      contents[p] = `${text}\n// copy ${i}\n${i % 2 ? "var extra = 1;\n" : ""}`;
    }
  }
  paths.push("pkg1/package.json");
  contents["pkg1/package.json"] = '{"type": "module"}';
  const plan = planRepoLint({ paths, contents });
  return plan.files.map((f) => ({ path: f.path, content: contents[f.path], config: f.config }));
}

describe("LintPool", () => {
  const pool = new LintPool({ threads: 2 });
  beforeAll(() => pool.start(), 30_000);
  afterAll(() => pool.close());

  test("lints many files across threads with the same results as in-process", async () => {
    const tasks = manyTasks(6);
    expect(tasks.length).toBe(42);
    const t0 = performance.now();
    const results = await pool.lint(tasks);
    const poolMs = performance.now() - t0;
    const engine = new LintEngine();
    const expected = [];
    for (const t of tasks) expected.push({ path: t.path, messages: await engine.lintFile(t) });
    expect(results.map(({ path, messages }) => ({ path, messages }))).toEqual(expected);
    expect(results.every((r) => r.durationMs >= 0)).toBe(true);
    expect(pool.stats()).toMatchObject({ threads: 2, busy: 0, queued: 0, timeouts: 0 });
    console.log(`pool: ${tasks.length} files in ${poolMs.toFixed(0)} ms on ${pool.threads} threads`);
  });

  test("concurrent lint calls each get their own results in order", async () => {
    const a = manyTasks(1);
    const b = manyTasks(2).reverse();
    const [ra, rb] = await Promise.all([pool.lint(a), pool.lint(b)]);
    expect(ra.map((r) => r.path)).toEqual(a.map((t) => t.path));
    expect(rb.map((r) => r.path)).toEqual(b.map((t) => t.path));
    expect(await pool.lint([])).toEqual([]);
  });

  test("a config error rejects the batch with a permanent RepoConfigError, rebuilt across the thread", async () => {
    const config = { ...defaultFileConfig("a.js"), rules: { "not-a-rule": 2 as const } };
    const err = await pool.lint([{ path: "a.js", content: "1;", config }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RepoConfigError);
    expect(isPermanent(err)).toBe(true);
    // The pool is still fine afterwards.
    const [ok] = await pool.lint([{ path: "b.js", content: "debugger;", config: defaultFileConfig("b.js") }]);
    expect(ok.messages.map((m) => m.ruleId)).toEqual(["no-debugger"]);
  });
});

describe("LintPool time limit and crashes", () => {
  // A thread's first TypeScript file includes loading typescript-eslint and TypeScript: over 4 s on a busy CI machine.
  const fileTimeoutMs = 12_000;
  const pool = new LintPool({
    threads: 2,
    fileTimeoutMs,
    testOnlyEslintConfigModule: new URL("./fixtures/test-only-plugin.ts", import.meta.url),
  });
  beforeAll(() => pool.start(), 30_000);
  afterAll(() => pool.close());

  test("defaults", () => {
    expect(DEFAULT_FILE_TIMEOUT_MS).toBe(10_000);
    expect(new LintPool().fileTimeoutMs).toBe(10_000); // never started: no threads to close
  });

  test("a file that hangs ESLint is cut off; the other files still get their results", async () => {
    const tasks = manyTasks(2);
    const jshintOn = { ...defaultFileConfig("h.js"), linters: ["eslint", "jshint"] as ("eslint" | "jshint")[] };
    const hang: LintTask = { path: "hang.js", content: `/* ${HANG_MARKER} */\nx = 1\n`, config: jshintOn };
    const all = [...tasks.slice(0, 3), hang, ...tasks.slice(3)];
    // Cut off, not waited for: the results come back (well within the test's timeout) with the hung file's time-limit message.
    const results = await pool.lint(all);

    const hung = results[3];
    expect(hung.path).toBe("hang.js");
    expect(hung.messages).toEqual([
      { linter: "eslint", ruleId: null, severity: 2, line: 1, column: 1, message: `eslint did not finish within ${fileTimeoutMs} ms`, fatal: true },
    ]);
    expect(hung.durationMs).toBeGreaterThanOrEqual(fileTimeoutMs - 5);

    const engine = new LintEngine();
    const others = results.filter((_, i) => i !== 3);
    for (const [i, r] of others.entries()) {
      const task = all[i < 3 ? i : i + 1];
      expect(r.path).toBe(task.path);
      expect(r.messages).toEqual(await engine.lintFile(task));
    }
    expect(pool.stats()).toMatchObject({ timeouts: 1, replaced: 1 });
    // The replacement thread works, and a backlog brings the pool back to full size.
    const again = await pool.lint(tasks.slice(0, 4));
    expect(again.map((r) => r.path)).toEqual(tasks.slice(0, 4).map((t) => t.path));
    await pool.lint(manyTasks(12));
    expect(pool.stats().threads).toBe(2);
  }, 60_000);

  test("a thread that dies on a file gives that file a fatal message and is replaced", async () => {
    const crash: LintTask = { path: "exit.js", content: `// ${EXIT_MARKER}\n`, config: defaultFileConfig("exit.js") };
    const fine: LintTask = { path: "fine.js", content: "debugger;\n", config: defaultFileConfig("fine.js") };
    const [c, f] = await pool.lint([crash, fine]);
    expect(c.messages).toEqual([expect.objectContaining({ linter: "eslint", fatal: true, message: expect.stringMatching(/crashed its lint thread/) })]);
    expect(f.messages.map((m) => m.ruleId)).toEqual(["no-debugger"]);
    const [later] = await pool.lint([fine, fine, fine]);
    expect(later.messages.map((m) => m.ruleId)).toEqual(["no-debugger"]);
  }, 60_000);

  test("big files are linted by one thread, one at a time; small files go to every thread meanwhile", async () => {
    const p = new LintPool({ threads: 2, bigFileChars: 1000, testOnlyEslintConfigModule: new URL("./fixtures/test-only-plugin.ts", import.meta.url) });
    try {
      await p.start();
      const file = (i: number, big: boolean): LintTask => ({
        path: `${big ? "big" : "small"}${i}.js`,
        content: `// ${THREAD_MARKER}\n${big ? "var a = [" + "1, ".repeat(20_000) + "];\n" : `var x${i} = ${i};\n`}`,
        config: defaultFileConfig("a.js"),
      });
      const tasks = Array.from({ length: 40 }, (_, i) => file(i, i % 4 === 0));
      const results = await p.lint(tasks);
      const threadOf = (i: number) => results[i].messages.find((m) => m.ruleId === "farm-test/misbehave")!.message;
      const bigThreads = new Set(tasks.flatMap((t, i) => (t.path.startsWith("big") ? [threadOf(i)] : [])));
      const smallThreads = new Set(tasks.flatMap((t, i) => (t.path.startsWith("small") ? [threadOf(i)] : [])));
      expect(bigThreads.size).toBe(1);
      expect([...smallThreads].some((t) => !bigThreads.has(t))).toBe(true);
      // Every file still gets ESLint's own results.
      const own = (i: number) => results[i].messages.filter((m) => m.ruleId !== "farm-test/misbehave");
      expect(own(0)).toEqual(await new LintEngine().lintFile(tasks[0]));
      expect(own(1)).toEqual(await new LintEngine().lintFile(tasks[1]));
      expect(results.map((r) => r.path)).toEqual(tasks.map((t) => t.path));
    } finally {
      await p.close();
    }
  }, 60_000);

  test("close rejects pending work and later calls", async () => {
    const p = new LintPool({ threads: 1 });
    const pending = p.lint(manyTasks(1)).catch((e: unknown) => e);
    await p.close();
    expect(await pending).toBeInstanceOf(LintPoolClosedError);
    await expect(p.lint(manyTasks(1))).rejects.toBeInstanceOf(LintPoolClosedError);
  });
});

test("threads start as work needs them: one file or a small batch keeps one thread, a backlog starts them all; warm() starts one ahead", async () => {
  const pool = new LintPool({ threads: 2 });
  try {
    const [one] = manyTasks(1);
    expect((await pool.lint([one])).map((r) => r.path)).toEqual([one.path]);
    expect(pool.stats().threads).toBe(1);
    // A thread costs half a second to start, a file a few ms: a few files wait for the thread there is.
    const few = manyTasks(1).slice(0, 8);
    expect(await pool.lint(few)).toHaveLength(few.length);
    expect(pool.stats().threads).toBe(1);
    await pool.lint(manyTasks(12));
    expect(pool.stats().threads).toBe(2);
  } finally {
    await pool.close();
  }
  const warmed = new LintPool({ threads: 2 });
  try {
    warmed.warm();
    expect(warmed.stats().threads).toBe(1);
    warmed.warm();
    expect(warmed.stats().threads).toBe(1);
  } finally {
    await warmed.close();
  }
}, 60_000);

test("a thread started ahead is taken by the first pool with the same options, not by another", async () => {
  const { prewarmLintThread, sparesWaiting } = await import("../../../shared/lint/thread-start.js");
  prewarmLintThread({ maxCachedConfigs: 3 });
  prewarmLintThread({ maxCachedConfigs: 3 });
  expect(sparesWaiting()).toBe(1);
  const other = new LintPool({ threads: 1, maxCachedConfigs: 4 });
  const pool = new LintPool({ threads: 1, maxCachedConfigs: 3 });
  try {
    const [one] = manyTasks(1);
    await other.lint([one]);
    expect(sparesWaiting()).toBe(1);
    expect((await pool.lint([one]))[0].path).toBe(one.path);
    expect(sparesWaiting()).toBe(0);
    expect(pool.stats().threads).toBe(1);
  } finally {
    await Promise.all([pool.close(), other.close()]);
  }
}, 60_000);

test("threads inherit execArgv minus what describes the main script", async () => {
  const { threadExecArgv } = await import("../../../shared/lint/pool.js");
  expect(threadExecArgv(["--input-type=module", "-e", "code", "--max-old-space-size=512", "--import", "tsx"])).toEqual([
    "--max-old-space-size=512",
    "--import",
    "tsx",
  ]);
  expect(threadExecArgv(["--input-type", "module", "--print", "1", "--eval=x", "--enable-source-maps"])).toEqual(["--enable-source-maps"]);
});

test("a process started with V8 flags (node --max-old-space-size=…) still lints: threads get the flags they accept", async () => {
  const { execFile } = await import("node:child_process");
  const { promisify } = await import("node:util");
  const lint = new URL("../../../shared/lint/index.ts", import.meta.url).href;
  const script = `
    import { LintPool, defaultFileConfig } from ${JSON.stringify(lint)};
    const p = new LintPool({ threads: 1 });
    const [r] = await p.lint([{ path: "a.js", content: "debugger;\\n", config: defaultFileConfig("a.js") }]);
    await p.close();
    process.stdout.write(JSON.stringify(r.messages.map((m) => m.ruleId)));
  `;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--max-old-space-size=2048", "--max-semi-space-size=16", "--import", "tsx", "--input-type=module", "-e", script],
    { env: { ...process.env, NODE_OPTIONS: "" }, timeout: 60_000 },
  );
  expect(JSON.parse(stdout)).toContain("no-debugger");
}, 60_000);

test("a refused flag goes with its separate value, and nothing else goes", async () => {
  const { withoutFlags } = await import("../../../shared/lint/pool.js");
  expect(withoutFlags(["--stack-size", "2000", "--import", "tsx", "--trace-gc", "--cpu-prof"], new Set(["--stack-size", "--trace-gc"]))).toEqual([
    "--import",
    "tsx",
    "--cpu-prof",
  ]);
});
