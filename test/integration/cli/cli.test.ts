/**
 * The real `farm` command line, driven as child processes: the embedded
 * default, a long-running `farm up` with clients in other processes, exit codes.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { FarmCli, killChildren, type Child, type Run } from "../../harness/cli.js";
import { useTempDir } from "../../harness/files.js";
import { gitEnv } from "../../harness/git.js";
import { freePort } from "../../harness/nats-server.js";
import { threeCommits } from "../../harness/cli-repo.js";
import { FARM_VERSION } from "../../../shared/fabric/version.js";

const tmp = useTempDir("farm-cli-");
const cli = new FarmCli({ cwd: tmp, env: { ...gitEnv(tmp), FARM_DATA_DIR: path.join(tmp, "data-default") } });

const farm = (args: string[], env: Record<string, string> = {}): Promise<Run> => cli.run(args, env);

let repo: ReturnType<typeof threeCommits>;

beforeAll(() => {
  repo = threeCommits(path.join(tmp, "repo"));
});

afterAll(killChildren);

describe("farm --version", () => {
  test("prints package.json's version, the one presence and $SRV INFO announce", async () => {
    const pkg = JSON.parse(readFileSync(path.join(import.meta.dirname, "../../../package.json"), "utf8")) as { version: string };
    expect(FARM_VERSION).toBe(pkg.version);
    const r = await farm(["--version"]);
    expect(r.stdout.trim()).toBe(pkg.version);
  });
});

describe("farm analyze on the embedded default", () => {
  test("prints a table with one row per commit and the top rules", async () => {
    const r = await farm(["analyze", repo.dir, "--commits", "3"], { FARM_DATA_DIR: path.join(tmp, "data-table") });
    expect(r.stderr).not.toMatch(/Error|at .*\.ts:/);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/^commit\s+date\s+files\s+errors\s+warnings\s+new\s+fixed/);
    for (const sha of repo.shas) expect(r.stdout).toContain(sha.slice(0, 10));
    const newest = lines.find((l) => l.startsWith(repo.shas[2].slice(0, 10)))!;
    // files=2, errors=2 (no-undef in util, no-unused-vars in index), new=1 (the unused variable)
    expect(newest.split(/\s+/).slice(2, 7)).toEqual(["2", "2", "0", "1", "0"]);
    expect(r.stdout).toContain("eslint/no-undef");
  });

  test("json prints the reports; --fail-on error exits 1", async () => {
    const r = await farm(["analyze", repo.dir, "--commits", "2", "--format", "json", "--fail-on", "error"], {
      FARM_DATA_DIR: path.join(tmp, "data-json"),
    });
    expect(r.code).toBe(1);
    const reports = JSON.parse(r.stdout);
    expect(reports.map((x: { sha: string }) => x.sha)).toEqual([repo.shas[2], repo.shas[1]]);
    const util = reports[1].files.find((f: { path: string }) => f.path === "lib/util.js");
    expect(util.messages).toEqual([expect.objectContaining({ linter: "eslint", ruleId: "no-undef", severity: 2, line: 1 })]);
    expect(reports[0].delta.new).toEqual([expect.objectContaining({ path: "index.js", ruleId: "no-unused-vars", line: 2 })]);
  });

  test("sarif writes one SARIF 2.1.0 log to --out", async () => {
    const out = path.join(tmp, "out.sarif");
    const r = await farm(["analyze", repo.dir, "--sha", repo.shas[2], "--format", "sarif", "--out", out], {
      FARM_DATA_DIR: path.join(tmp, "data-sarif"),
    });
    expect(r.code).toBe(0);
    const log = JSON.parse(readFileSync(out, "utf8"));
    expect(log.version).toBe("2.1.0");
    expect(log.runs).toHaveLength(1);
    const run = log.runs[0];
    expect(run.tool.driver.name).toBe("farm");
    expect(run.results.length).toBe(2);
    for (const res of run.results) {
      expect(res.level).toBe("error");
      expect(typeof res.message.text).toBe("string");
      expect(res.locations[0].physicalLocation.artifactLocation.uri).toMatch(/\.js$/);
      expect(res.locations[0].physicalLocation.region.startLine).toBeGreaterThan(0);
      expect(["new", "unchanged", "absent"]).toContain(res.baselineState);
    }
    expect(run.results.find((x: { ruleId: string }) => x.ruleId === "eslint/no-unused-vars").baselineState).toBe("new");
  });
});

describe.concurrent("usage and environment errors", () => {
  test.each([
    [["analyze"], /missing required argument/],
    [["analyze", "/definitely/not/here"], /neither a directory nor a clone url/],
    [["analyze", ".", "--commits", "zero"], /--commits must be an integer/],
    [["analyze", ".", "--format", "xml"], /format/],
    [["frobnicate"], /unknown command/],
    [["service", "dishwasher"], /unknown service "dishwasher"/],
    [["replay"], /say what to replay/],
    [["status"], /no cluster given/],
  ])("farm %j exits 2 with a one-line reason", async (args, reason) => {
    const r = await farm(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(reason);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  test("a missing nats-server says how to install it, exit 3", async () => {
    const r = await farm(["analyze", repo.dir], { FARM_NATS_SERVER: "nats-server-not-installed" });
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/not installed.*apt-get install nats-server.*brew install nats-server.*NATS_URL/);
  });

  test("an unreachable cluster exits 3", async () => {
    const r = await farm(["status", "--nats", "nats://127.0.0.1:1"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/cannot reach NATS/);
  });

  test("--help shows examples", async () => {
    const r = await farm(["analyze", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Examples:\n\s+\$ farm analyze \. --commits 50/);
  });
});

/** `farm up` on the embedded default, once it prints the url clients use. */
async function startUp(dataDir: string, port?: number): Promise<{ up: Child; url: string }> {
  // Its own port: `farm up` defaults to 4222, which another test (or the machine) may hold.
  const up = cli.spawn(["up", "--port", String(port ?? (await freePort()))], { FARM_DATA_DIR: dataDir });
  const nats = /"nats":"(nats:\/\/[^"]+)"/;
  const url = nats.exec(await up.line(nats))![1];
  return { up, url };
}

/** Pids of nats-server processes on this data dir's store. */
function serversOf(dataDir: string): string[] {
  return spawnSync("pgrep", ["-f", `nats-server.*${dataDir}`], { encoding: "utf8" })
    .stdout.trim()
    .split("\n")
    .filter(Boolean);
}

describe("farm up with clients in other processes", () => {
  let up: Child;
  let url = "";
  const dataDir = path.join(tmp, "data-up");

  beforeAll(async () => {
    ({ up, url } = await startUp(dataDir));
  }, 60_000);

  test("publish, events, report and status from other processes", async () => {
    const events = cli.spawn(["events", "repo.analysis.completed", "--nats", url]);
    await events.line("listening", { stream: "stderr" });

    const pub = await farm(["publish", repo.dir, repo.shas[2], "--history", "1", "--nats", url]);
    expect(pub.code).toBe(0);
    expect(JSON.parse(pub.stdout)).toMatchObject({ stream: "REPOS" });

    await expect
      .poll(
        () =>
          events
            .stdout()
            .split("\n")
            .filter((l) => l.includes(repo.shas[2])).length,
        { timeout: 60_000 },
      )
      .toBe(1);
    await events.stop("SIGTERM");

    const report = await farm(["report", repo.dir, repo.shas[2], "--json", "--nats", url]);
    expect(report.code).toBe(0);
    expect(JSON.parse(report.stdout)).toMatchObject({ sha: repo.shas[2], summary: { files: 2, errors: 2, warnings: 0 } });

    const status = await farm(["status", "--json", "--nats", url]);
    expect(status.code).toBe(0);
    const s = JSON.parse(status.stdout);
    expect(s.instances.map((i: { service: string }) => i.service).sort()).toEqual(["aggregator", "ingest", "linter-runner", "splitter"]);
    expect(s.streams.map((x: { stream: string }) => x.stream)).toContain("LINT");
  });

  test("a poison request lands in the DLQ; replay runs it again once it can succeed", async () => {
    const late = threeCommits(path.join(tmp, "late"));
    // A sha the repository does not have yet: a permanent failure, parked.
    const futureSha = late.commit("later", { "later.js": "later();\n" });
    late.git("reset", "-q", "--hard", "HEAD~1");
    late.git("reflog", "expire", "--expire=now", "--all");
    late.git("gc", "-q", "--prune=now");
    expect((await farm(["publish", late.dir, futureSha, "--nats", url])).code).toBe(0);

    await expect.poll(async () => JSON.parse((await farm(["dlq", "ls", "--json", "--nats", url])).stdout).length, { timeout: 30_000 }).toBe(1);
    const [entry] = JSON.parse((await farm(["dlq", "ls", "--json", "--nats", url])).stdout);
    // Admitted (a valid request), then given up at its clone: parked in its lane and tenant, where replay puts it back.
    expect(entry).toMatchObject({ subject: expect.stringMatching(/^q\.repo\.request\.i\.[\w-]+$/) as string, kind: "permanent" });
    expect(entry.reason).toMatch(new RegExp(futureSha.slice(0, 12)));

    // Now the commit exists: replay is processed and the DLQ empties.
    const again = late.commit("later", { "later.js": "later();\n" });
    expect(again).toBe(futureSha); // same tree, author, committer, date
    const replay = await farm(["replay", "--seq", String(entry.seq), "--nats", url]);
    expect(replay.code).toBe(0);
    expect(replay.stdout).toMatch(/replayed 1 entry/);
    const report = await pollReport(late.dir, futureSha);
    expect(report.summary).toMatchObject({ files: 3, errors: 3 });
    expect(JSON.parse((await farm(["dlq", "ls", "--json", "--nats", url])).stdout)).toEqual([]);
  });

  async function pollReport(dir: string, sha: string) {
    let last: Run | undefined;
    await expect.poll(async () => (last = await farm(["report", dir, sha, "--json", "--nats", url])).code, { timeout: 60_000, interval: 1000 }).toBe(0);
    return JSON.parse(last!.stdout);
  }

  test("SIGTERM stops farm up and its nats-server", async () => {
    const serverPid = spawnSync("pgrep", ["-f", `nats-server.*${dataDir}`], { encoding: "utf8" }).stdout.trim();
    expect(serverPid).toMatch(/^\d+$/);
    expect(await up.stop("SIGTERM")).toBe(0);
    expect(spawnSync("pgrep", ["-f", `nats-server.*${dataDir}`]).status).toBe(1); // no orphan
  });
});

describe("the embedded default's nats-server after its farm was SIGKILLed", () => {
  const dataDir = path.join(tmp, "data-killed");

  test("farm analyze on the data dir of a running farm up runs on it; after a SIGKILL the next run stops the orphan", async () => {
    const first = await startUp(dataDir);
    const [orphan] = serversOf(dataDir);
    expect(orphan).toMatch(/^\d+$/);

    const second = await farm(["analyze", repo.dir, "--commits", "1"], { FARM_DATA_DIR: dataDir });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain(repo.shas[2].slice(0, 10));
    expect(serversOf(dataDir)).toEqual([orphan]); // no second nats-server on the store

    expect(await first.up.stop("SIGKILL")).toBe("SIGKILL");
    expect(serversOf(dataDir)).toEqual([orphan]); // left behind: SIGKILL gives farm no chance to stop it

    const next = await startUp(dataDir);
    const now = serversOf(dataDir);
    expect(now).toHaveLength(1);
    expect(now[0]).not.toBe(orphan);
    expect(await next.up.stop("SIGTERM")).toBe(0);
    expect(serversOf(dataDir)).toEqual([]);
  }, 120_000);
});
