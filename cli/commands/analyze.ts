/**
 * `farm analyze`: publish repo.new_sha, follow the analysis events, print the
 * reports. Starts the embedded default when no cluster is given.
 */
import { createWriteStream, existsSync, statSync } from "node:fs";
import { rename, rm } from "node:fs/promises";
import type { Writable } from "node:stream";
import path from "node:path";
import { encode } from "../../shared/codec.js";
import { repoKey, resolveHead } from "../../shared/git.js";
import type { Report } from "../../shared/report.js";
import { subjects } from "../../shared/topology.js";
import type { Farm } from "../../shared/farm.js";
import { fetchReport } from "../../shared/report-client.js";
import { mapOrdered } from "../../shared/concurrency.js";
import { openCluster } from "../cluster.js";
import { commandContext, EXIT, parseCount, UsageError, type ConnectionFlags } from "../context.js";
import { Progress } from "../progress.js";
import { writeReports, type OutputFormat } from "../render.js";

interface AnalyzeFlags extends ConnectionFlags {
  sha?: string;
  commits: string;
  format: OutputFormat;
  out?: string;
  failOn?: "error" | "warning";
  timeout: string;
}

interface Completed {
  repo: string;
  sha: string;
  requested?: boolean;
  stats?: { files: number; cacheHits: number; queued: number };
}

/** A local directory becomes an absolute path (what ingest will see); anything else is a url. */
function repoArgument(arg: string): string {
  if (existsSync(arg) && statSync(arg).isDirectory()) return path.resolve(arg);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(arg) || /^[\w.-]+@[\w.-]+:/.test(arg)) return arg;
  throw new UsageError(`"${arg}" is neither a directory nor a clone url`);
}

export async function analyzeCommand(repoArg: string, flags: AnalyzeFlags) {
  const ctx = commandContext(flags);
  const commits = parseCount("--commits", flags.commits, 1);
  const timeoutMs = parseCount("--timeout", flags.timeout, 1) * 1000;
  const repo = repoArgument(repoArg);
  const sha = flags.sha ? flags.sha.toLowerCase() : await resolveHead(repo);
  if (!/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(sha)) throw new UsageError(`--sha must be a full 40 or 64 hex commit id, got "${flags.sha}"`);

  const cluster = await openCluster(ctx.config, ctx.log);
  let failing = false;
  try {
    const shas = await follow(cluster.farm, repo, sha, commits - 1, timeoutMs);
    // A few requests at a time, each written out as soon as its turn comes: a long history is never held whole.
    const reports = mapOrdered(shas, 4, async (s) => {
      const r = await fetchReport<Report>(cluster.farm, { repo, sha: s });
      failing ||= r.summary.errors > 0 || (flags.failOn === "warning" && r.summary.warnings > 0);
      return r;
    });
    await output(flags.out, (out) => writeReports(reports, shas.length, flags.format, out));
  } finally {
    await cluster.close();
  }
  if (flags.failOn && failing) process.exitCode = EXIT.issuesFound;
}

/** To stdout, or to a file that appears only once it is complete. */
async function output(file: string | undefined, write: (out: Writable) => Promise<void>) {
  if (!file) return write(process.stdout);
  const partial = `${file}.partial-${process.pid}`;
  const out = createWriteStream(partial);
  try {
    await write(out);
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    await rename(partial, file);
  } catch (err) {
    out.destroy();
    await rm(partial, { force: true });
    throw err;
  }
}

/** Publishes the request and resolves with the requested commits, newest first, once all are analyzed. */
async function follow(farm: Farm, repo: string, sha: string, history: number, timeoutMs: number): Promise<string[]> {
  const key = repoKey(repo);
  const progress = new Progress(process.stderr);
  let expected: string[] | undefined;
  const done = new Map<string, Completed>();
  let settle!: (err?: Error) => void;
  const finished = new Promise<void>((resolve, reject) => (settle = (err) => (err ? reject(err) : resolve())));
  const check = () => {
    if (expected && expected.every((s) => done.has(s))) settle();
  };
  const sub = farm.events.subscribe<Record<string, any>>(`${subjects.analysis}.>`, (e, subject) => {
    if (typeof e?.repo !== "string" || repoKey(e.repo) !== key) return;
    if (subject === subjects.started && Array.isArray(e.commits) && e.sha === sha) {
      expected = e.commits;
      progress.start(expected!.length);
    } else if (subject === subjects.completed && e.requested) {
      if (!done.has(e.sha)) {
        done.set(e.sha, e as Completed);
        progress.commitDone(e.stats);
      }
    } else if (subject === subjects.failed && (e.sha === sha || e.sha === null || expected?.includes(e.sha))) {
      settle(new UsageError(`analysis failed: ${e.reason}`));
      return;
    }
    check();
  });
  const timer = setTimeout(() => settle(new Error(`no result within ${timeoutMs / 1000} s (see farm status)`)), timeoutMs);
  try {
    await farm.nc.flush();
    await farm.js.publish(subjects.newSha, encode({ repo, sha, history }, "json"));
    await finished;
  } finally {
    clearTimeout(timer);
    sub.unsubscribe();
    progress.stop();
  }
  return expected!;
}
