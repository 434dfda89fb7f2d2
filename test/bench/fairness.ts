/**
 * Fairness between lanes and tenants (issue 27), each service its own
 * process on a fresh data dir per phase, toolchains off, tenants set by the
 * requests (FARM_TRUST_TENANT):
 * A. small single-commit pushes of four tenants, alone (the baseline);
 * B. a backfill of the history alone (the baseline);
 * C. the same backfill with the pushes published during it;
 * D. two tenants backfilling the two halves of the history at once;
 * E. one tenant's half split into 10 requests against another's in one.
 * Prints the pushes' p50/p99 during the backfill ÷ alone, the backfill's wall
 * time with ÷ without the pushes, and the tenants' shares of linted files per
 * window (Jain's index), against the targets.
 *
 *   node --import tsx test/bench/fairness.ts [--repo PATH] [--commits N|all] [--pushes N] [--smoke] [--json FILE]
 *
 * Default: mocha's whole history (FARM_MOCHA_BUNDLE). --smoke: a history made
 * here (120 commits), 4 pushes, 1 s windows; targets printed, not enforced.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { tenantToken } from "../../shared/fabric/fair.js";
import { farmBuilt, startSplitFarm } from "./history-farm.js";
import { log, PROJECT_ROOT, run } from "./history-util.js";
import { MOCHA, mochaRepo } from "./history-workload.js";

const { values: opts } = parseArgs({
  options: {
    repo: { type: "string" },
    commits: { type: "string" },
    pushes: { type: "string" },
    smoke: { type: "boolean", default: false },
    json: { type: "string" },
  },
});

const TARGETS = { pushP99: 3, backfillSlowdown: 1.1, jain: 0.95, splitShare: 1.1 };
const TENANTS = ["team-0", "team-1", "team-2", "team-3"];

const git = (repo: string, args: string[]) => run("git", ["-C", repo, ...args]);

interface Completed {
  at: number;
  repo: string;
  sha: string;
  requested: boolean;
  queued: number;
}

/** A connection that records every `.completed` and publishes requests. */
class Client {
  readonly done: Completed[] = [];
  private readonly waiters = new Set<() => void>();
  private constructor(private readonly nc: NatsConnection) {}

  static async open(url: string): Promise<Client> {
    const c = new Client(await connect({ servers: url, name: "fairness-bench" }));
    c.nc.subscribe("repo.analysis.completed", {
      callback: (_e, m) => {
        const e = m.json<{ repo: string; sha: string; requested: boolean; stats?: { queued: number } }>();
        c.done.push({ at: performance.now(), repo: e.repo, sha: e.sha, requested: e.requested, queued: e.stats?.queued ?? 0 });
        for (const w of c.waiters) w();
      },
    });
    await c.nc.flush();
    return c;
  }

  publish(body: Record<string, unknown>): number {
    this.nc.publish("repo.new_sha", JSON.stringify(body));
    return performance.now();
  }

  /** Until `check` holds, rechecked at each `.completed`. */
  async until(check: () => boolean, timeoutMs = 3_600_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error("timed out waiting for analyses to complete");
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 1000);
        const w = () => (clearTimeout(t), this.waiters.delete(w), resolve());
        this.waiters.add(w);
      });
    }
  }

  /**
   * Files handed to the linter-runners per tenant, sampled every 500 ms: each
   * (lane, tenant) consumer of LINT delivers its flow's batches in the order
   * they were queued, so its delivered count and the files of each batch as it
   * was published (its `farm-cost` header, heard on the wire) give the files
   * handed out. The lint stage's own shares, by the cost its scheduler shares
   * out, not the order in which histories complete.
   */
  sampleLint(tenants: readonly string[]): { samples: LintSample[]; stop(): void } {
    const samples: LintSample[] = [];
    const names = tenants.map((t) => `lint_batch_b_${tenantToken(t)}`);
    const wires = tenants.map((t) => `q.lint.batch.b.${tenantToken(t)}`);
    /** Files of each batch queued per tenant, in queue order. */
    const costs: number[][] = tenants.map(() => []);
    const queued = this.nc.subscribe("q.lint.batch.b.>", {
      callback: (_e, m) => {
        const i = wires.indexOf(m.subject);
        if (i >= 0) costs[i].push(Number(m.headers?.get("farm-cost")) || 1);
      },
    });
    const filesOf = (i: number, batches: number) => costs[i].slice(0, batches).reduce((a, b) => a + b, 0);
    let on = true;
    void (async () => {
      const jsm = await jetstreamManager(this.nc);
      while (on) {
        const delivered = names.map(() => 0);
        const pending = names.map(() => 0);
        try {
          for await (const c of jsm.consumers.list("LINT")) {
            const i = names.indexOf(c.name);
            if (i < 0) continue;
            delivered[i] = filesOf(i, c.delivered.consumer_seq);
            pending[i] = c.num_pending;
          }
          samples.push({ at: performance.now(), delivered, pending });
        } catch {
          // the stream is not there yet
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    return {
      samples,
      stop: () => {
        on = false;
        queued.unsubscribe();
      },
    };
  }

  completedOf(repo: string, shas: ReadonlySet<string>): number {
    return new Set(this.done.filter((d) => d.repo === repo && d.requested && shas.has(d.sha)).map((d) => d.sha)).size;
  }

  close(): Promise<void> {
    return this.nc.close();
  }
}

/** Four tenants' small repositories, `n` fresh commits each: a push analyses one never seen. */
async function pushRepos(dir: string, n: number): Promise<{ repo: string; shas: string[] }[]> {
  return Promise.all(
    TENANTS.map(async (t) => {
      const repo = path.join(dir, t, "app");
      await run("git", ["init", "-q", "-b", "main", repo]);
      const shas: string[] = [];
      for (let i = 0; i <= n; i++) {
        mkdirSync(path.join(repo, "src"), { recursive: true });
        writeFileSync(path.join(repo, "src", `m${i % 3}.js`), `const unused${i} = ${i};\nmodule.exports = function f${i}(a) { return a + ${i}; };\n`);
        await git(repo, ["add", "-A"]);
        await git(repo, ["-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-q", "-m", `${t} ${i}`]);
        shas.push((await git(repo, ["rev-parse", "HEAD"])).stdout.trim());
      }
      return { repo, shas: shas.slice(1) };
    }),
  );
}

/** The smoke history: 120 commits, each editing a few of 40 files. */
async function smokeHistory(dir: string): Promise<string> {
  const repo = path.join(dir, "smoke-history");
  await run("git", ["init", "-q", "-b", "main", repo]);
  for (let c = 0; c < 120; c++) {
    for (let k = 0; k < 3; k++) {
      const f = (c * 7 + k * 13) % 40;
      mkdirSync(path.join(repo, "lib"), { recursive: true });
      writeFileSync(path.join(repo, "lib", `f${f}.js`), `// ${c}.${k}\nconst unused = ${c};\nmodule.exports = ${f};\n`);
    }
    await git(repo, ["add", "-A"]);
    await git(repo, ["-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-q", "-m", `c${c}`]);
  }
  return repo;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

/** Jain's fairness index of shares: 1 when equal, 1/n when one takes all. */
const jain = (xs: number[]) => {
  const sum = xs.reduce((a, b) => a + b, 0);
  const sq = xs.reduce((a, b) => a + b * b, 0);
  return sq === 0 ? 1 : (sum * sum) / (xs.length * sq);
};

/** One look at the lint stage: files handed out so far per tenant, and batches not yet handed out (the consumer's pending). */
interface LintSample {
  at: number;
  delivered: number[];
  pending: number[];
}

/** Files handed out in one window to each of two tenants; `contended` when both had batches waiting at every look in it. */
interface LintWindow {
  files: [number, number];
  contended: boolean;
}

/** Files handed out per window to each of two tenants (from sampleLint), over the windows in which both still had work. */
function lintWindows(samples: readonly LintSample[], windowMs: number): LintWindow[] {
  const out: LintWindow[] = [];
  let from = 0;
  for (let i = 1; i < samples.length; i++) {
    if (samples[i].at - samples[from].at < windowMs) continue;
    const files = [0, 1].map((k) => samples[i].delivered[k] - samples[from].delivered[k]) as [number, number];
    const contended = samples.slice(from, i).every((s) => s.pending[0] > 0 && s.pending[1] > 0);
    out.push({ files, contended });
    from = i;
  }
  return out.filter((w) => w.files[0] + w.files[1] > 0);
}

/**
 * Jain's index over the windows in which both tenants had batches waiting
 * (elsewhere a share is what reached the stage, not what it chose), over
 * `span` consecutive such windows at a time: a lint batch is up to 64 files,
 * a sizeable part of what a 10 s window hands out, so longer spans show the
 * shares without the batches' granularity.
 */
function contendedJains(ws: readonly LintWindow[], span = 1): number[] {
  const c = ws.filter((w) => w.contended).map((w) => w.files);
  const out: number[] = [];
  // No contended window (a short run on a busy machine): no index, not an endless loop of empty spans.
  if (span < 1) return out;
  for (let i = 0; i + span <= c.length; i += span) {
    const part = c.slice(i, i + span);
    out.push(jain([part.reduce((s, [a]) => s + a, 0), part.reduce((s, [, b]) => s + b, 0)]));
  }
  return out;
}

/** Files linted per window for each of two request groups, over the windows in which both were running. */
function windows(done: readonly Completed[], groups: [Set<string>, Set<string>], from: number, windowMs: number): [number, number][] {
  const ends = groups.map((g) => Math.max(...done.filter((d) => g.has(d.sha)).map((d) => d.at)));
  const until = Math.min(...ends);
  const out: [number, number][] = [];
  for (let t = from; t + windowMs <= until; t += windowMs) {
    const inWindow = done.filter((d) => d.at >= t && d.at < t + windowMs);
    out.push([0, 1].map((i) => inWindow.filter((d) => groups[i].has(d.sha)).reduce((s, d) => s + d.queued, 0)) as [number, number]);
  }
  return out;
}

async function main() {
  const work = mkdtempSync(path.join(os.tmpdir(), "farm-fairness-"));
  const farm = await farmBuilt();
  const results: Record<string, unknown> = {};
  try {
    const benchDir = path.resolve(process.env.FARM_BENCH_DIR || path.join(PROJECT_ROOT, ".farm/bench"));
    const repo = opts.smoke ? await smokeHistory(work) : (opts.repo ?? (await mochaRepo(benchDir)).repo);
    const head = (await git(repo, ["rev-parse", opts.smoke || opts.repo ? "HEAD" : MOCHA.head])).stdout.trim();
    const all = (await git(repo, ["rev-list", "--first-parent", head])).stdout.trim().split("\n");
    const n = opts.commits && opts.commits !== "all" ? Math.min(all.length, Number(opts.commits)) : all.length;
    const history = all.slice(0, n); // newest first
    const pushes = Number(opts.pushes ?? (opts.smoke ? 4 : 12));
    const windowMs = opts.smoke ? 1000 : 10_000;
    const repos = await pushRepos(path.join(work, "pushes"), 2 * pushes);
    const env = { FARM_TRUST_TENANT: "on" };
    let phase = 0;
    const withFarm = async <T>(what: string, fn: (c: Client) => Promise<T>): Promise<T> => {
      log(`phase ${String.fromCharCode(65 + phase)}: ${what}`);
      const split = await startSplitFarm({ farm, dir: path.join(work, `phase-${phase++}`), env });
      const client = await Client.open(split.url);
      try {
        return await fn(client);
      } finally {
        await client.close();
        await split.close();
      }
    };
    let pushed = 0;
    /** One push of the next tenant's next fresh commit; resolves with its latency (ms). */
    const push = async (c: Client): Promise<number> => {
      const r = repos[pushed % repos.length];
      const sha = r.shas[Math.floor(pushed / repos.length)];
      const tenant = TENANTS[pushed % TENANTS.length];
      pushed++;
      const t0 = c.publish({ repo: r.repo, sha, tenant });
      await c.until(() => c.done.some((d) => d.sha === sha && d.requested));
      return c.done.find((d) => d.sha === sha && d.requested)!.at - t0;
    };
    const backfill = (c: Client, shas: string[], tenant: string) => {
      // Backfill whatever its size (a tenth of the smoke history would pass for interactive).
      c.publish({ repo, sha: shas[0], history: shas.length - 1, tenant, lane: "backfill" });
      return new Set(shas);
    };

    const alone = await withFarm(`${pushes} pushes alone`, async (c) => {
      const lat: number[] = [];
      for (let i = 0; i < pushes; i++) lat.push(await push(c));
      return lat;
    });
    const backfillAlone = await withFarm(`a backfill of ${n} commits alone`, async (c) => {
      const t0 = performance.now();
      const shas = backfill(c, history, "big");
      await c.until(() => c.completedOf(repo, shas) === shas.size);
      return performance.now() - t0;
    });
    const during = await withFarm(`the backfill with pushes during it`, async (c) => {
      const t0 = performance.now();
      const shas = backfill(c, history, "big");
      const lat: number[] = [];
      await new Promise((r) => setTimeout(r, Math.min(20_000, backfillAlone / 5)));
      while (c.completedOf(repo, shas) < shas.size && lat.length < pushes * 2) {
        lat.push(await push(c));
        await new Promise((r) => setTimeout(r, 500));
      }
      await c.until(() => c.completedOf(repo, shas) === shas.size);
      return { lat, wallMs: performance.now() - t0 };
    });
    const half = Math.floor(n / 2);
    const [newer, older] = [history.slice(0, half), history.slice(half, 2 * half)];
    const twoTenants = await withFarm(`two tenants backfilling ${half} commits each`, async (c) => {
      const t0 = performance.now();
      const lint = c.sampleLint(["x", "y"]);
      const groups: [Set<string>, Set<string>] = [backfill(c, older, "x"), backfill(c, newer, "y")];
      await c.until(() => groups.every((g) => c.completedOf(repo, g) === g.size));
      lint.stop();
      return { completions: windows(c.done, groups, t0, windowMs), lint: lintWindows(lint.samples, windowMs) };
    });
    const split = await withFarm(`one tenant in 10 requests against another in one`, async (c) => {
      const t0 = performance.now();
      const lint = c.sampleLint(["split", "whole"]);
      const tenth = Math.ceil(older.length / 10);
      const parts = new Set<string>();
      for (let k = 0; k < 10; k++) for (const s of backfill(c, older.slice(k * tenth, (k + 1) * tenth), "split")) parts.add(s);
      const whole = backfill(c, newer, "whole");
      await c.until(() => c.completedOf(repo, parts) === parts.size && c.completedOf(repo, whole) === whole.size);
      lint.stop();
      return { completions: windows(c.done, [parts, whole], t0, windowMs), lint: lintWindows(lint.samples, windowMs) };
    });

    const p50 = pct(during.lat, 50) / pct(alone, 50);
    const p99 = pct(during.lat, 99) / pct(alone, 99);
    const slowdown = during.wallMs / backfillAlone;
    const jains = contendedJains(twoTenants.lint);
    const jains30 = contendedJains(twoTenants.lint, 3);
    const jains60 = contendedJains(twoTenants.lint, 6);
    const jainAll = contendedJains(twoTenants.lint, twoTenants.lint.filter((w) => w.contended).length);
    const completionJains = twoTenants.completions.map(jain);
    const ratio = (ws: [number, number][]) =>
      ws.reduce((sum, [a]) => sum + a, 0) /
      Math.max(
        1,
        ws.reduce((sum, [, b]) => sum + b, 0),
      );
    const splitRatio = ratio(split.lint.filter((w) => w.contended).map((w) => w.files));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const ok = (b: boolean) => (b ? "met" : "NOT met");
    console.log(`\nfairness: ${n} commits of ${opts.smoke ? "a made history" : repo}, ${pushes} pushes, ${windowMs / 1000} s windows`);
    console.log(`pushes alone: p50 ${pct(alone, 50).toFixed(0)} ms, p99 ${pct(alone, 99).toFixed(0)} ms`);
    console.log(
      `pushes during the backfill: p50 ${pct(during.lat, 50).toFixed(0)} ms (${p50.toFixed(2)}×), p99 ${pct(during.lat, 99).toFixed(0)} ms (${p99.toFixed(2)}×; target ≤ ${TARGETS.pushP99}×: ${ok(p99 <= TARGETS.pushP99)})`,
    );
    console.log(
      `backfill: ${(backfillAlone / 1000).toFixed(1)} s alone, ${(during.wallMs / 1000).toFixed(1)} s with the pushes (${slowdown.toFixed(2)}×; target ≤ ${TARGETS.backfillSlowdown}×: ${ok(slowdown <= TARGETS.backfillSlowdown)})`,
    );
    const range = (js: number[]) => (js.length ? `min ${Math.min(...js).toFixed(3)}, mean ${mean(js).toFixed(3)} (${js.length})` : "none");
    console.log(
      `two backfills, files handed to the linters while both had batches waiting, Jain's index: ${windowMs / 1000} s windows ${range(jains)} (target ≥ ${TARGETS.jain}: ${ok(jains.length > 0 && Math.min(...jains) >= TARGETS.jain)}); ${(3 * windowMs) / 1000} s ${range(jains30)}; ${(6 * windowMs) / 1000} s ${range(jains60)}; all of them ${range(jainAll)}; by files of completed commits: mean ${mean(completionJains).toFixed(3)}`,
    );
    console.log(
      `split into 10 requests ÷ one request, files handed to the linters while both had batches waiting: ${splitRatio.toFixed(2)} (target ≤ ${TARGETS.splitShare}: ${ok(splitRatio <= TARGETS.splitShare)}); by files of completed commits: ${ratio(split.completions).toFixed(2)}`,
    );
    Object.assign(results, {
      commits: n,
      pushes,
      alone,
      during,
      backfillAloneMs: backfillAlone,
      twoTenants,
      jains,
      jains30,
      jains60,
      jainAll,
      split,
      ratios: { p50, p99, slowdown, splitRatio },
    });
    if (opts.json) writeFileSync(opts.json, JSON.stringify(results, null, 2));
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(farm.dir, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exit(1);
});
