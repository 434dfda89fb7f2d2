/**
 * How the other commands find a running `farm up`: its fixed --port, the
 * record it keeps in the data dir (up.json) while it runs, a stale record after
 * a SIGKILL, a port that is taken. Drives the built CLI (`npm run build` first).
 */
import { existsSync, readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { alive, freePort, NatsServer, PortUnavailableError } from "../../../shared/runtime/embedded.js";
import { killChildren, ROOT, spawnNode, type Child, type Run } from "../../harness/children.js";
import { useTempDir } from "../../harness/files.js";
import { TestRepo } from "../../harness/git.js";
import { waitFor } from "../../harness/wait.js";

const FARM_JS = path.join(ROOT, "dist/cli/farm.js");
const tmp = useTempDir("farm-discovery-");
const dataDirs: string[] = [];

function dataDir(name: string): string {
  const dir = path.join(tmp, name);
  dataDirs.push(dir);
  return dir;
}

/** The built CLI (node directly, no npx, no tsx: the pid we signal is farm's own) on this data dir, never with a NATS_URL from outside. */
function farmChild(args: string[], dir: string): Child {
  return spawnNode([FARM_JS, ...args], { cwd: tmp, env: { FARM_DATA_DIR: dir, NATS_URL: "" } });
}

function farm(args: string[], dir: string): Promise<Run> {
  return farmChild(args, dir).finished;
}

interface Up {
  proc: Child;
  ready: { msg: string; nats: string; embedded: boolean };
}

/** Starts `farm up` and resolves with its ready line. */
async function startUp(dir: string, args: string[]): Promise<Up> {
  const proc = farmChild(["up", ...args], dir);
  return { proc, ready: JSON.parse(await proc.line('"farm ready"')) };
}

/** The nats-server pid the data dir's nats.pid names ("<server> <parent>"). */
function natsPid(dir: string): number {
  return Number(readFileSync(path.join(dir, "nats.pid"), "utf8").trim().split(" ")[0]);
}

function upRecord(dir: string): { url: string; pid: number; startedAt: string } {
  return JSON.parse(readFileSync(path.join(dir, "up.json"), "utf8"));
}

let repo: TestRepo;
let sha: string;

beforeAll(() => {
  if (!existsSync(FARM_JS)) throw new Error(`${FARM_JS} is missing: run \`npm run build\` first`);
  repo = new TestRepo(path.join(tmp, "repo"));
  repo.commit("first", { "package.json": '{"name":"x"}\n', "index.js": "const a = 1;\nconst unused = 2;\nmodule.exports = a;\n" });
  sha = repo.commit("an error", { "lib/util.js": "function f() { return undefinedThing; }\nmodule.exports = f;\n" });
});

afterAll(async () => {
  await killChildren();
  // A server orphaned by a failed test: its pid is in the data dir.
  for (const dir of dataDirs) {
    try {
      process.kill(natsPid(dir), "SIGTERM");
    } catch {
      // no pid file, or already gone
    }
  }
});

describe("a running farm up, found through its data dir", () => {
  const dir = dataDir("data-up");
  let up: Up;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    up = await startUp(dir, ["--port", String(port)]);
  }, 60_000);

  test("listens on --port and records its url and pid in <dataDir>/up.json", () => {
    expect(up.ready).toMatchObject({ msg: "farm ready", nats: `nats://127.0.0.1:${port}`, embedded: true });
    const record = upRecord(dir);
    expect(record).toEqual({ url: `nats://127.0.0.1:${port}`, pid: up.proc.pid, startedAt: expect.any(String) });
    expect(Number.isNaN(Date.parse(record.startedAt))).toBe(false);
  });

  test("status, publish and report without NATS_URL use it", async () => {
    const status = await farm(["status", "--json"], dir);
    expect(status.stderr).toBe("");
    expect(status.code).toBe(0);
    const s = JSON.parse(status.stdout);
    expect(s.nats).toBe(up.ready.nats);
    expect(s.instances.map((i: { service: string }) => i.service).sort()).toEqual(["aggregator", "ingest", "linter-runner", "splitter"]);

    const pub = await farm(["publish", repo.dir, sha], dir);
    expect(pub.code).toBe(0);
    expect(JSON.parse(pub.stdout)).toMatchObject({ stream: "REPOS" });

    const report = await waitFor(
      "the published commit's report",
      async () => {
        const r = await farm(["report", repo.dir, sha, "--json"], dir);
        return r.code === 0 && JSON.parse(r.stdout);
      },
      60_000,
      500,
    );
    expect(report).toMatchObject({ sha, summary: { files: 2, errors: 2 } });
  }, 90_000);

  test("farm analyze on the same data dir runs on it instead of refusing (store in use)", async () => {
    const server = natsPid(dir);
    // farm up's own event stream sees the analysis: analyze published to farm up's cluster.
    const events = farmChild(["events", "repo.analysis.completed"], dir);
    await events.line("listening", { stream: "stderr" });

    const first = repo.commit("third", { "more.js": "module.exports = 3;\n" });
    const r = await farm(["analyze", repo.dir, "--format", "json"], dir);
    expect(r.stderr).not.toMatch(/in use|Error/);
    expect(r.code).toBe(0);
    // One commit's json is its report (a history's, an array of them).
    expect([JSON.parse(r.stdout)].flat().map((x: { sha: string }) => x.sha)).toEqual([first]);
    await waitFor("analyze's completion on farm up's events", () => events.stdout().includes(first), 30_000);
    // No server of its own: farm up's is still the data dir's only one.
    expect(natsPid(dir)).toBe(server);
    expect(upRecord(dir).pid).toBe(up.proc.pid);
    await events.stop("SIGTERM");
  }, 90_000);

  test("farm up --nats URL uses that cluster and writes no record", async () => {
    const other = dataDir("data-given");
    const given = await startUp(other, ["--nats", up.ready.nats]);
    expect(given.ready).toMatchObject({ nats: up.ready.nats, embedded: false });
    expect(existsSync(path.join(other, "up.json"))).toBe(false);
    expect(await given.proc.stop("SIGTERM")).toBe(0);
  });

  test("after SIGTERM the record is gone and a client says to start farm up", async () => {
    expect(await up.proc.stop("SIGTERM")).toBe(0);
    expect(existsSync(path.join(dir, "up.json"))).toBe(false);
    const status = await farm(["status"], dir);
    expect(status.code).toBe(2);
    expect(status.stderr).toMatch(/start `farm up` \(this data dir: .*data-up\) or pass --nats URL/);
    expect(status.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("a stale record: farm up was SIGKILLed", () => {
  const dir = dataDir("data-killed");

  test("clients exit 2 at once; the next farm up on the same port reaps the orphan and replaces the record", async () => {
    const port = await freePort();
    const first = await startUp(dir, ["--port", String(port)]);
    const orphan = natsPid(dir);
    expect(await first.proc.stop("SIGKILL")).toBe("SIGKILL");
    // SIGKILL leaves both behind: the record names a dead pid, the orphan still serves the url.
    expect(upRecord(dir).pid).toBe(first.proc.pid);
    expect(alive(orphan)).toBe(true);

    const status = await farm(["status", "--json"], dir);
    expect(status.code).toBe(2);
    expect(status.stderr).toMatch(/farm up/);
    // At once: the stale record is read as none, no connect attempt made (the orphan would have answered it).
    expect(status.stderr).toMatch(/no cluster given: start `farm up`/);

    const next = await startUp(dir, ["--port", String(port)]);
    expect(next.ready.nats).toBe(`nats://127.0.0.1:${port}`);
    expect(natsPid(dir)).not.toBe(orphan);
    await waitFor("the orphaned nats-server to exit", () => !alive(orphan) || readFileSync(`/proc/${orphan}/cmdline`, "utf8") === "", 10_000);
    expect(upRecord(dir).pid).toBe(next.proc.pid);
    const again = await farm(["status", "--json"], dir);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).nats).toBe(next.ready.nats);
    expect(await next.proc.stop("SIGTERM")).toBe(0);
  }, 120_000);
});

describe("farm up --port", () => {
  test("a port another server listens on: exit 3, naming the port and --port", async () => {
    const dir = dataDir("data-taken");
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as net.AddressInfo;
    try {
      const r = await farm(["up", "--port", String(port)], dir);
      expect(r.code).toBe(3);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain(`port ${port}`);
      expect(r.stderr).toContain("--port N");
      expect(r.stderr).not.toMatch(/nats-server exited|\n\s+at /);
      expect(existsSync(path.join(dir, "up.json"))).toBe(false);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  test("a port taken after the check (nats-server's own bind fails): the same error, not a bare exit 1", async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as net.AddressInfo;
    // The later -p wins: the check passes on a free port, nats-server binds the taken one.
    const server = new NatsServer({ port: await freePort(), args: ["-p", String(port)] });
    try {
      const err = await server.start().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(PortUnavailableError);
      expect((err as Error).message).toMatch(/already in use.*--port N/);
    } finally {
      await server.dispose();
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  test.each(["abc", "0", "65536", "42.5"])("--port %s exits 2", async (value) => {
    const r = await farm(["up", "--port", value], dataDir(`data-bad-${value}`));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--port must be an integer from 1 to 65535/);
  });
});
