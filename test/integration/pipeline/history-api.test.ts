/**
 * The history API (history.repos|commits|issues|file) against a real
 * nats-server and the real services, asked in raw JSON as any client would:
 * a five-commit history where one commit brings an issue and a later one
 * fixes it.
 */
import path from "node:path";
import { connect } from "@nats-io/transport-node";
import { beforeAll, describe, expect, it } from "vitest";
import { ErrorCodes } from "../../../shared/fabric/errors.js";
import type { HistoryCommitsReply, HistoryFileReply, HistoryIssuesReply, HistoryReposReply, RepoOverview } from "../../../shared/pipeline/contract.js";
import { RepoIndex } from "../../../shared/pipeline/stores/index.js";
import type { Report } from "../../../shared/pipeline/report.js";
import { TestRepo } from "../../harness/git.js";
import { usePipeline } from "../../harness/pipeline.js";

const CLEAN_A = "const a = 1;\nmodule.exports = a;\n";
const ISSUE_A = "const a = 1;\nconst unused = 2;\nmodule.exports = a;\n";
// Minified by content (one long line): uploaded, never linted; over the 512 KiB the API answers.
// One byte, then two-byte characters: the cut at 512 KiB falls inside one and must back off.
const BIG = `x${"é".repeat(360_000)}`;
const BINARY = Buffer.concat([Buffer.from("var x = 1;\n"), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x00, 0x01])]);

const env = usePipeline({ prefix: "farm-history-api-", config: { maxFileSize: 1024 * 1024 } });
let repo: TestRepo;
let shas: string[];
const reports = new Map<string, Report>();

interface ErrorReply {
  error: string;
  code: string;
}

const ask = <T>(subject: string, body: unknown) => env.client.request<T & Partial<ErrorReply>>(subject, body);

beforeAll(async () => {
  repo = new TestRepo(path.join(env.work, "repo"));
  repo.commit("c1: start", {
    "package.json": '{"name":"history-fixture"}\n',
    "src/a.js": CLEAN_A,
    // An issue from the start of the analysed history: first seen at c1.
    "src/c.js": "debugger;\nmodule.exports = 1;\n",
    "lib/big.js": BIG,
    "lib/data.js": BINARY,
    "README.md": "# fixture\n",
  });
  repo.commit("c2: add b", { "src/b.js": "module.exports = 2;\n" });
  repo.commit("c3: an unused variable", { "src/a.js": ISSUE_A });
  repo.commit("c4: edit b", { "src/b.js": "module.exports = 3;\n" });
  repo.commit("c5: remove the unused variable", { "src/a.js": CLEAN_A });
  shas = repo.shas;
  env.client.newSha({ repo: repo.dir, sha: shas[4], history: 4 });
  await env.client.completed(shas, 180_000);
  for (const sha of shas) reports.set(sha, await env.client.report(repo.dir, sha));
}, 200_000);

/** The fingerprint of the one message of `rule` in `file` of a commit's report. */
function fingerprintOf(sha: string, file: string, rule: string): string {
  const messages = reports
    .get(sha)!
    .files.find((f) => f.path === file)!
    .messages.filter((m) => m.ruleId === rule);
  expect(messages).toHaveLength(1);
  return messages[0].fingerprint!;
}

describe("history.repos", () => {
  it("lists the repository with its newest analysed commit and its summary", async () => {
    const r = await ask<HistoryReposReply>("history.repos", {});
    const newest = reports.get(shas[4])!;
    expect(r.repos).toEqual([
      expect.objectContaining({ repo: repo.dir, sha: shas[4], date: newest.date, subject: "c5: remove the unused variable", summary: newest.summary }),
    ]);
    expect(Date.parse(r.repos[0].completedAt)).not.toBeNaN();
  });
});

describe("history.commits", () => {
  it("pages through the first-parent history, newest first, until next is null", async () => {
    const seen: string[] = [];
    const nexts: (string | null)[] = [];
    let from: string | null | undefined;
    do {
      const page = await ask<HistoryCommitsReply>("history.commits", { repo: repo.dir, limit: 2, ...(from ? { from } : {}) });
      expect(page.error).toBeUndefined();
      expect(page.commits.length).toBeLessThanOrEqual(2);
      seen.push(...page.commits.map((c) => c.sha));
      nexts.push(page.next);
      from = page.next;
    } while (from);
    expect(seen).toEqual([...shas].reverse());
    expect(nexts).toEqual([shas[2], shas[0], null]);
  });

  it("answers each commit's counts as its report has them", async () => {
    const page = await ask<HistoryCommitsReply>("history.commits", { repo: repo.dir });
    expect(page.next).toBeNull();
    expect(page.commits.map((c) => c.sha)).toEqual([...shas].reverse());
    for (const c of page.commits) {
      const r = reports.get(c.sha)!;
      expect(c).toEqual({
        sha: r.sha,
        parent: r.parent,
        date: r.date,
        subject: r.subject,
        summary: r.summary,
        new: r.delta ? r.delta.new.length : null,
        fixed: r.delta ? r.delta.fixed.length : null,
      });
    }
    const bySha = new Map(page.commits.map((c) => [c.sha, c]));
    expect(bySha.get(shas[0])).toMatchObject({ parent: null, new: null, fixed: null });
    expect(bySha.get(shas[2])).toMatchObject({ new: 1, fixed: 0 });
    expect(bySha.get(shas[4])).toMatchObject({ new: 0, fixed: 1 });
  });

  it("starts at `from`", async () => {
    const page = await ask<HistoryCommitsReply>("history.commits", { repo: repo.dir, from: shas[3].toUpperCase(), limit: 1 });
    expect(page.commits.map((c) => c.sha)).toEqual([shas[3]]);
    expect(page.next).toBe(shas[2]);
  });
});

describe("history.issues", () => {
  it("finds the commit that introduced an issue and the one that fixed it", async () => {
    const unused = fingerprintOf(shas[2], "src/a.js", "no-unused-vars");
    const debug = fingerprintOf(shas[2], "src/c.js", "no-debugger");
    const r = await ask<HistoryIssuesReply>("history.issues", { repo: repo.dir, sha: shas[3], fingerprints: [unused, debug] });
    expect(r.error).toBeUndefined();
    const mention = (i: number) => ({ sha: shas[i], date: reports.get(shas[i])!.date, subject: reports.get(shas[i])!.subject });
    expect(r.issues).toEqual([
      { fingerprint: unused, introduced: mention(2), fixed: mention(4) },
      // There since the first analysed commit, and never fixed.
      { fingerprint: debug, introduced: mention(0), fixed: null },
    ]);
    expect(r.searched).toBeGreaterThan(0);
  });

  it("answers the introducing commit itself, and no origin for an issue fixed before sha", async () => {
    const unused = fingerprintOf(shas[2], "src/a.js", "no-unused-vars");
    const at3 = await ask<HistoryIssuesReply>("history.issues", { repo: repo.dir, sha: shas[2], fingerprints: [unused] });
    expect(at3.issues).toEqual([
      expect.objectContaining({ introduced: expect.objectContaining({ sha: shas[2] }), fixed: expect.objectContaining({ sha: shas[4] }) }),
    ]);
    // At c5 the issue is gone (c5 fixed it): it is not one of c5's issues.
    const at5 = await ask<HistoryIssuesReply>("history.issues", { repo: repo.dir, sha: shas[4], fingerprints: [unused] });
    expect(at5.issues).toEqual([{ fingerprint: unused, introduced: null, fixed: null }]);
  });
});

describe("history.file", () => {
  it("answers a file's content at a commit", async () => {
    const at3 = await ask<HistoryFileReply>("history.file", { repo: repo.dir, sha: shas[2], path: "src/a.js" });
    expect(at3).toEqual({
      repo: repo.dir,
      sha: shas[2],
      path: "src/a.js",
      blob: repo.git("rev-parse", `${shas[2]}:src/a.js`),
      size: Buffer.byteLength(ISSUE_A),
      content: ISSUE_A,
      truncated: false,
      binary: false,
    });
    const at5 = await ask<HistoryFileReply>("history.file", { repo: repo.dir, sha: shas[4], path: "src/a.js" });
    expect(at5.content).toBe(CLEAN_A);
  });

  it("cuts a big file at 512 KiB on a character boundary", async () => {
    const r = await ask<HistoryFileReply>("history.file", { repo: repo.dir, sha: shas[4], path: "lib/big.js" });
    expect(r).toMatchObject({ size: Buffer.byteLength(BIG), truncated: true, binary: false });
    // 1 + 2k bytes fit in 524288: k = 262143 characters after the x.
    expect(r.content).toBe(BIG.slice(0, 1 + 262_143));
  });

  it("answers a binary file without its content", async () => {
    const r = await ask<HistoryFileReply>("history.file", { repo: repo.dir, sha: shas[0], path: "lib/data.js" });
    expect(r).toMatchObject({ size: BINARY.length, content: "", binary: true, truncated: false });
  });

  it("says NotFound for a path not in the commit, a file farm does not keep, an unknown commit", async () => {
    const missing = await ask<HistoryFileReply>("history.file", { repo: repo.dir, sha: shas[0], path: "src/b.js" });
    expect(missing).toMatchObject({ code: ErrorCodes.NotFound, error: expect.stringContaining("src/b.js is not in") });
    const readme = await ask<HistoryFileReply>("history.file", { repo: repo.dir, sha: shas[0], path: "README.md" });
    expect(readme).toMatchObject({ code: ErrorCodes.NotFound, error: expect.stringContaining("only lintable and config files") });
    const commit = await ask<HistoryFileReply>("history.file", { repo: repo.dir, sha: "f".repeat(40), path: "src/a.js" });
    expect(commit).toMatchObject({ code: ErrorCodes.NotFound, error: expect.stringContaining("not analysed") });
  });
});

describe("bad and unknown requests", () => {
  const sha = () => shas[0];
  const cases: [string, () => unknown, string][] = [
    ["history.commits", () => ({ repo: 5 }), '"repo"'],
    ["history.commits", () => ({}), '"repo"'],
    ["history.commits", () => ["not", "an", "object"], '"repo"'],
    ["history.commits", () => ({ repo: repo.dir, limit: 0 }), '"limit"'],
    ["history.commits", () => ({ repo: repo.dir, limit: 1001 }), '"limit"'],
    ["history.commits", () => ({ repo: repo.dir, limit: 2.5 }), '"limit"'],
    ["history.commits", () => ({ repo: repo.dir, limit: "10" }), '"limit"'],
    ["history.commits", () => ({ repo: repo.dir, from: "abc" }), '"from"'],
    ["history.issues", () => ({ repo: repo.dir, sha: "xyz", fingerprints: [] }), '"sha"'],
    ["history.issues", () => ({ repo: repo.dir, sha: sha(), fingerprints: "abc" }), '"fingerprints"'],
    ["history.issues", () => ({ repo: repo.dir, sha: sha(), fingerprints: [1] }), '"fingerprints"'],
    ["history.issues", () => ({ repo: repo.dir, sha: sha(), fingerprints: Array.from({ length: 1001 }, (_, i) => `f${i}`) }), '"fingerprints"'],
    ["history.file", () => ({ repo: repo.dir, sha: sha(), path: 3 }), '"path"'],
    ["history.file", () => ({ repo: repo.dir, sha: sha(), path: "" }), '"path"'],
    ["history.file", () => ({ repo: repo.dir, sha: `${sha()}0`, path: "src/a.js" }), '"sha"'],
  ];

  it.each(cases)("%s %j is refused naming the field", async (subject, body, field) => {
    const r = await ask<object>(subject, body());
    expect(r).toMatchObject({ code: ErrorCodes.InvalidInput, error: expect.stringContaining(field) });
  });

  it("says a repository was never analysed, and a commit has no report", async () => {
    const never = await ask<HistoryCommitsReply>("history.commits", { repo: "/no/such/repo" });
    expect(never).toMatchObject({ code: ErrorCodes.NotFound, error: expect.stringContaining("never analysed") });
    const noReport = await ask<HistoryIssuesReply>("history.issues", { repo: repo.dir, sha: "e".repeat(40), fingerprints: ["x"] });
    expect(noReport).toMatchObject({ code: ErrorCodes.NotFound, error: expect.stringContaining("no report") });
  });
});

describe("the repository index", () => {
  const overview = (i: number, date: string): RepoOverview => ({
    repo: "/race",
    repoKey: "race-0123456789abcdef",
    sha: i.toString(16).padStart(40, "0"),
    date,
    subject: `commit ${i}`,
    summary: { files: 1, errors: i, warnings: 0 },
    completedAt: new Date().toISOString(),
  });

  it("keeps the newest commit when two writers record at once (compare-and-set, no lost update)", async () => {
    const conns = await Promise.all([connect({ servers: env.server.url }), connect({ servers: env.server.url })]);
    try {
      const [a, b] = await Promise.all(conns.map((nc) => RepoIndex.open(nc)));
      // 40 commits one minute apart, recorded in an order where older ones often land last.
      const commits = Array.from({ length: 40 }, (_, i) => overview(i, new Date(Date.UTC(2024, 0, 1, 0, i)).toISOString()));
      const order = commits.map((_, i) => (i * 17) % commits.length);
      await Promise.all(order.map((i, k) => (k % 2 ? a : b).record(commits[i], null)));
      expect((await a.get(commits[0].repoKey))?.sha).toBe(commits[39].sha);
      // Older than what it holds: refused; the same date, as the child of what it holds: taken.
      expect(await b.record(commits[3], null)).toBe(false);
      const child = { ...overview(99, commits[39].date) };
      expect(await b.record(child, commits[39].sha)).toBe(true);
      expect((await a.get(child.repoKey))?.sha).toBe(child.sha);
      expect((await a.list()).map((r) => r.repoKey)).toContain(child.repoKey);
    } finally {
      await Promise.all(conns.map((nc) => nc.close()));
    }
  });
});
