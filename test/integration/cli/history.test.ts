/**
 * `farm history <repo>`: the real CLI against a real farm (nats-server and
 * services in this process), on a history the services analysed.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { historyTable, sparkline } from "../../../cli/commands/history.js";
import type { HistoryCommitsReply } from "../../../shared/pipeline/contract.js";
import type { Report } from "../../../shared/pipeline/report.js";
import { FarmCli, killChildren } from "../../harness/cli.js";
import { gitEnv, TestRepo } from "../../harness/git.js";
import { usePipeline } from "../../harness/pipeline.js";

const env = usePipeline({ prefix: "farm-cli-history-" });
let repo: TestRepo;
const reports = new Map<string, Report>();
let cli: FarmCli;

const farm = (...args: string[]) => cli.run([...args, "--nats", env.server.url]);

beforeAll(async () => {
  cli = new FarmCli({ cwd: env.work, env: { ...gitEnv(env.work), FARM_DATA_DIR: path.join(env.work, "cli-data") } });
  repo = new TestRepo(path.join(env.work, "repo"));
  repo.commit("first", { "package.json": '{"name":"x"}\n', "index.js": "const a = 1;\nmodule.exports = a;\n" });
  repo.commit("add util with an error", { "lib/util.js": "function f() { return undefinedThing; }\nmodule.exports = f;\n" });
  repo.commit("unused variable", { "index.js": "const a = 1;\nconst unused = 2;\nmodule.exports = a;\n" });
  repo.commit(`fix the error, and a subject long enough to be cut: ${"very ".repeat(40)}long`, {
    "lib/util.js": "function f() { return 1; }\nmodule.exports = f;\n",
  });
  env.client.newSha({ repo: repo.dir, sha: repo.shas[3], history: 3 });
  await env.client.completed(repo.shas, 180_000);
  for (const sha of repo.shas) reports.set(sha, await env.client.report(repo.dir, sha));
}, 200_000);

afterAll(killChildren);

describe("farm history", () => {
  test("prints one row per commit, newest first, with its counts", async () => {
    const r = await farm("history", repo.dir);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^commit\s+date\s+errors\s+warnings\s+new\s+fixed\s+subject$/);
    // Not a terminal: no sparkline, the table only.
    expect(r.stdout).not.toMatch(/[▁▂▃▄▅▆▇█]/);
    const rows = lines.slice(2);
    expect(rows.map((l) => l.split(/\s+/)[0])).toEqual([...repo.shas].reverse().map((s) => s.slice(0, 10)));
    for (const row of rows) {
      const report = reports.get(repo.shas.find((s) => row.startsWith(s.slice(0, 10)))!)!;
      const delta = report.delta;
      expect(row.split(/\s+/).slice(1, 6)).toEqual([
        report.date!.slice(0, 10),
        String(report.summary.errors),
        String(report.summary.warnings),
        delta ? String(delta.new.length) : "-",
        delta ? String(delta.fixed.length) : "-",
      ]);
    }
    // first: 0 errors, no delta; util's no-undef: 1 error, 1 new; unused: 2 errors; the fix: 1 error, 1 fixed.
    expect(rows.map((l) => l.split(/\s+/).slice(2, 6).join(" "))).toEqual(["1 0 0 1", "2 0 1 0", "1 0 1 0", "0 0 - -"]);
    // The long subject is cut to fit the line.
    expect(rows[0]).toMatch(/fix the error, and a subject long enough to be cut: very .*…$/);
    expect(rows[0].length).toBeLessThanOrEqual(120);
  });

  test("--limit and --json print the raw history.commits pages", async () => {
    const r = await farm("history", repo.dir, "--limit", "2", "--json");
    expect(r.code).toBe(0);
    const pages = JSON.parse(r.stdout) as HistoryCommitsReply[];
    expect(pages).toHaveLength(1);
    expect(pages[0].repo).toBe(repo.dir);
    expect(pages[0].commits.map((c) => c.sha)).toEqual([repo.shas[3], repo.shas[2]]);
    expect(pages[0].next).toBe(repo.shas[1]);
    expect(pages[0].commits[0]).toMatchObject({ summary: reports.get(repo.shas[3])!.summary, new: 0, fixed: 1 });
  });

  test("a repository never analysed is a clear usage error", async () => {
    const other = new TestRepo(path.join(env.work, "never"));
    other.commit("nothing", { "a.js": "1;\n" });
    const r = await farm("history", other.dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/was never analysed on this cluster/);
    const bad = await farm("history", repo.dir, "--limit", "0");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--limit must be an integer >= 1/);
  });
});

describe("the terminal view", () => {
  test("sparkline scales errors from the fewest to the most", () => {
    expect(sparkline([0, 7, 14, 7])).toBe("▁▅█▅");
    expect(sparkline([3, 3])).toBe("▁▁");
  });

  test("the table cuts subjects to the width and keeps control characters out", () => {
    const c = { sha: "a".repeat(40), parent: null, date: "2024-01-02T03:04:05Z", summary: { files: 1, errors: 2, warnings: 3 }, new: null, fixed: null };
    const out = historyTable([{ ...c, subject: `evil\u001b[2J${"x".repeat(200)}` }], 80);
    const row = out.split("\n")[2];
    expect(row.length).toBeLessThanOrEqual(80);
    expect(row).toMatch(/^aaaaaaaaaa {2}2024-01-02 +2 +3 +- +- {2}evil\?\[2Jx+…$/);
  });
});
