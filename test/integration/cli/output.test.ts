/**
 * What a person sees from the CLI: revisions resolved by git, a --fail-on that
 * says why, a closed pipe that ends quietly, progress that counts all the work,
 * and replay/dlq that say what does not exist.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createReadStream, lstatSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { text } from "node:stream/consumers";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { outputTarget } from "../../../cli/output-file.js";
import { FARM, FarmCli, killChildren, type Child } from "../../harness/cli.js";
import { useTempDir } from "../../harness/files.js";
import { gitEnv, TestRepo } from "../../harness/git.js";
import { NatsServer } from "../../harness/nats-server.js";
import { waitFor } from "../../harness/wait.js";
import { threeCommits } from "../../harness/cli-repo.js";

const tmp = useTempDir("farm-out-");
const cli = new FarmCli({ cwd: tmp, env: { ...gitEnv(tmp), FARM_DATA_DIR: path.join(tmp, "data") } });
let repo: TestRepo;
let dir = "";
let shas: string[] = [];
/** More output than a pipe buffers (64 KiB), so that a reader leaving early is noticed. */
const noisy = Array.from({ length: 3000 }, (_, i) => `undefinedThing${i};`).join("\n") + "\n";

beforeAll(() => {
  repo = threeCommits(path.join(tmp, "repo"));
  dir = repo.dir;
  shas = [...repo.shas];
  repo.git("tag", "v1", shas[1]);
  repo.git("branch", "old", shas[0]);
});

afterAll(killChildren);

/** Runs farm with stdout into `head -1`; resolves with farm's own exit status and stderr. */
function intoHead(args: string[], env: Record<string, string>): { code: number; stderr: string; first: string } {
  const r = spawnSync("bash", ["-c", '"$@" | head -1; echo "farm-exit=${PIPESTATUS[0]}" >&2', "bash", process.execPath, ...FARM, ...args], {
    cwd: tmp,
    env: { ...process.env, ...gitEnv(tmp), NATS_URL: "", ...env },
    encoding: "utf8",
    timeout: 120_000,
  });
  const code = Number(/farm-exit=(\d+)/.exec(r.stderr)?.[1] ?? -1);
  return { code, stderr: r.stderr.replace(/farm-exit=\d+\n/, ""), first: r.stdout };
}

describe("farm analyze on the embedded default", () => {
  test("--sha takes any revision of a local repository: HEAD~1, a tag, a branch, a short sha", async () => {
    for (const [rev, sha] of [
      ["HEAD~1", shas[1]],
      ["v1", shas[1]],
      ["old", shas[0]],
      [shas[2].slice(0, 7), shas[2]],
    ]) {
      const r = await cli.run(["analyze", dir, "--sha", rev, "--format", "json", "--summary"]);
      expect(r.stderr).not.toMatch(/must be a full/);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).sha, rev).toBe(sha);
    }
  });

  test("a revision is never read as an option, and one that does not exist says so", async () => {
    const opt = await cli.run(["analyze", dir, "--sha=--all"]);
    expect(opt.code).toBe(2);
    expect(opt.stderr).toMatch(/is not a revision name/);
    const none = await cli.run(["analyze", dir, "--sha", "no-such-branch"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/has no commit no-such-branch/);
  });

  test("--fail-on error says how many issues at or above error, in which commits", async () => {
    const r = await cli.run(["analyze", dir, "--commits", "2", "--fail-on", "error"], { FARM_DATA_DIR: path.join(tmp, "data-fail") });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`--fail-on error: 3 issues at or above error in 2 of 2 commits: ${shas[2].slice(0, 10)} (2), ${shas[1].slice(0, 10)} (1)`);
  });

  test("--format sarif of a history is the requested commit; --sarif-dir writes one log per commit", async () => {
    const out = path.join(tmp, "sarif");
    const r = await cli.run(["analyze", dir, "--commits", "3", "--format", "sarif", "--sarif-dir", out]);
    expect(r.code, r.stderr).toBe(0);
    const printed = JSON.parse(r.stdout);
    expect(printed.runs.map((run: { versionControlProvenance: { revisionId: string }[] }) => run.versionControlProvenance[0].revisionId)).toEqual([shas[2]]);
    expect(readdirSync(out).sort()).toEqual(shas.map((s) => `${s}.sarif`).sort());
    const first = JSON.parse(readFileSync(path.join(out, `${shas[1]}.sarif`), "utf8"));
    expect(first.runs).toHaveLength(1);
    expect(first.runs[0].results.map((x: { ruleId: string; baselineState: string }) => [x.ruleId, x.baselineState])).toEqual([["eslint/no-undef", "new"]]);
  });

  test("--out into a FIFO writes in place while the test reads it; the FIFO is still one", async () => {
    const fifo = path.join(tmp, "out.fifo");
    execFileSync("mkfifo", [fifo]);
    const read = text(createReadStream(fifo));
    const r = await cli.run(["analyze", dir, "--format", "json", "--summary", "--out", fifo]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(await read).sha).toBe(shas[2]);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  test("--out through a symbolic link: the link stays a link, the file it names gets the output", async () => {
    const file = path.join(tmp, "report.json");
    writeFileSync(file, "old\n");
    const link = path.join(tmp, "report-link.json");
    symlinkSync(file, link);
    const r = await cli.run(["analyze", dir, "--format", "json", "--summary", "--out", link]);
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(JSON.parse(readFileSync(file, "utf8")).sha).toBe(shas[2]);
  });

  test("--out to a null device (made with mknod as root, else the machine's, only inspected) leaves it a device", async () => {
    if (process.getuid?.() !== 0) {
      // Without root no device can be made; never write to the machine's own.
      expect(await outputTarget("/dev/null")).toEqual({ kind: "in-place", path: "/dev/null" });
      return;
    }
    const dev = path.join(tmp, "null");
    execFileSync("mknod", ["-m", "666", dev, "c", "1", "3"]);
    const r = await cli.run(["analyze", dir, "--format", "ndjson", "--out", dev]);
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(dev).isCharacterDevice()).toBe(true);
    expect(statSync(dev).size).toBe(0);
  });

  test("--out naming a directory is refused before any analysis", async () => {
    const r = await cli.run(["analyze", dir, "--out", tmp]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is a directory: name a file to write, or - for standard output/);
  });

  test("one commit's table lists its issues by file, line:col, severity, message and rule, new ones marked", async () => {
    const r = await cli.run(["analyze", dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\nindex\.js\n {2}2:7 {2}error {2}'unused' is assigned a value but never used\. {2}eslint\/no-unused-vars {2}new\n/);
    expect(r.stdout).toMatch(/\nlib\/util\.js\n {2}1:23 {2}error {2}'undefinedThing' is not defined\. {2}eslint\/no-undef\n/);
  });

  test("progress counts the parent analyzed for the first delta: every file is either linted or a cache hit", async () => {
    // shas[2] and shas[1] requested, shas[0] analyzed too: 2 + 2 + 1 file versions.
    const r = await cli.run(["analyze", dir, "--commits", "2"], { FARM_DATA_DIR: path.join(tmp, "data-progress") });
    expect(r.code).toBe(0);
    const last = r.stderr
      .trim()
      .split("\n")
      .filter((l) => /^\d+\/\d+ commits/.test(l))
      .at(-1)!;
    const [, linted, hits] = /2\/2 commits, (\d+) files linted, (\d+) cache hits/.exec(last)!.map(Number);
    expect(linted + hits).toBe(5);
  });

  test("--format ndjson prints each commit, whole or summed up, as the JSON the json format parses", async () => {
    for (const view of [[], ["--summary"]]) {
      const ndjson = await cli.run(["analyze", dir, "--commits", "3", "--format", "ndjson", ...view]);
      expect(ndjson.code, ndjson.stderr).toBe(0);
      const json = await cli.run(["analyze", dir, "--commits", "3", "--format", "json", ...view]);
      expect(json.code, json.stderr).toBe(0);
      const reports = JSON.parse(json.stdout) as { sha: string; files?: unknown }[];
      expect(reports.map((r) => r.sha)).toEqual([...shas].reverse());
      expect(reports.every((r) => (r.files === undefined) === view.length > 0)).toBe(true);
      expect(ndjson.stdout).toBe(reports.map((r) => JSON.stringify(r) + "\n").join(""));
    }
  });

  test("--format ndjson prints a report bigger than a message as the JSON every other format parses", async () => {
    // 8,000 issues: a report of more than 1 MB, answered by report.get as an object-store reference.
    const big = new TestRepo(path.join(tmp, "big"));
    big.commit("many issues", { "big.js": "debugger;\n".repeat(8_000) });
    const ndjson = await cli.run(["analyze", big.dir, "--format", "ndjson"]);
    expect(ndjson.code, ndjson.stderr).toBe(0);
    expect(ndjson.stdout.length).toBeGreaterThan(1_048_576);
    const json = await cli.run(["analyze", big.dir, "--format", "json"]);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as { summary: { errors: number } };
    expect(report.summary.errors).toBe(8_000);
    expect(ndjson.stdout).toBe(JSON.stringify(report) + "\n");
  });

  test("a reader that closes the pipe early ends the command quietly", () => {
    repo.commit("many issues", { "noisy.js": noisy });
    const r = intoHead(["analyze", dir, "--format", "json"], { FARM_DATA_DIR: path.join(tmp, "data-pipe") });
    expect(r.first).toBe("{\n");
    expect(r.stderr).not.toMatch(/EPIPE|Error/);
    expect(r.code).toBe(0);
    repo.git("reset", "-q", "--hard", shas[2]);
  });
});

describe("client commands against a running cluster", () => {
  let server: NatsServer;
  let up: Child;
  let nats: Record<string, string>;
  let noisySha = "";

  beforeAll(async () => {
    server = await NatsServer.start();
    nats = { NATS_URL: server.url, FARM_ALLOW_LOCAL_REPOS: "1" };
    up = cli.spawn(["up"], nats);
    await up.line("farm ready");
    noisySha = repo.commit("many issues", { "noisy.js": noisy });
    repo.git("reset", "-q", "--hard", shas[2]);
    expect((await cli.run(["publish", dir, noisySha, "--history", "3"], nats)).code).toBe(0);
    await waitFor("the noisy report", async () => (await cli.run(["report", dir, noisySha.slice(0, 8), "--json"], nats)).code === 0, 60_000, 500);
  }, 120_000);

  afterAll(async () => {
    await up?.stop("SIGTERM");
    await server?.dispose();
  });

  test("farm report resolves a short sha or a revision with git", async () => {
    const r = await cli.run(["report", dir, "v1", "--json"], nats);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).sha).toBe(shas[1]);
    const bad = await cli.run(["report", dir, "abc"], nats);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/has no commit abc/);
  });

  test("farm report into a pipe closed early: no EPIPE stack, exit 0", () => {
    const r = intoHead(["report", dir, noisySha.slice(0, 12), "--format", "json"], nats);
    expect(r.first).toBe("{\n");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  test("farm events --since prints what the EVENTS stream kept, each event once, then listens", async () => {
    // 1.5h: the duration grammar of farm status's windows.
    const child = cli.spawn(["events", "--since", "1.5h", "repo.analysis.completed"], nats);
    await waitFor("the stored .completed events", () => [noisySha, ...shas].every((s) => child.stdout().includes(s)), 30_000);
    await child.stop("SIGTERM");
    const events = child
      .stdout()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(events.every((e) => e.subject === "repo.analysis.completed")).toBe(true);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(events.filter((e) => e.sha === noisySha)).toHaveLength(1);
  });

  test("farm events --since refuses what is not a time", async () => {
    const r = await cli.run(["events", "--since", "yesterday-ish"], nats);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--since must be a duration such as 90s, 10m, 1.5h, 1d, or a date, got "yesterday-ish"/);
  });

  test("farm replay --seq of an entry that does not exist names it and exits 2", async () => {
    const r = await cli.run(["replay", "--seq", "99", "123"], nats);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no dead-letter entry #99, #123 \(nothing was replayed/);
  });
});

test("farm dlq --help has examples", async () => {
  const r = await cli.run(["dlq", "--help"]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/Examples:\n\s+\$ farm dlq ls/);
});
